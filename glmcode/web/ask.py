"""A question about a page answered by a cheap model, so the main conversation gets the answer
instead of the page."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from glmcode.events import TokenUsage
from glmcode.llm.catalog import get_model
from glmcode.llm.errors import GLMError
from glmcode.llm.types import ClientConfig
from glmcode.web.errors import WebError
from glmcode.web.untrusted import cut, fenced

if TYPE_CHECKING:
    from glmcode.llm.client import GLMClient

# glm-4.5-air reads 128K tokens; this much text leaves room for the answer in any language.
PAGE_CHARS = 200_000
ANSWER_TOKENS = 4096
_SYSTEM = (Path(__file__).parent / "ask.md").read_text(encoding="utf-8").strip()


@dataclass(frozen=True)
class Answer:
    text: str
    model: str
    usage: TokenUsage
    cost_usd: float
    page_cut: bool


class PageAsker:
    """Asks `config.model` (thinking off, a short answer) about pages; the client is built
    on the first question."""

    def __init__(self, config: ClientConfig) -> None:
        self._config = replace(config, thinking=False, max_tokens=ANSWER_TOKENS, max_attempts=3)
        self._client: GLMClient | None = None

    def ask(self, page: str, prompt: str, url: str) -> Answer:
        from glmcode.llm.client import GLMClient

        if self._client is None:
            self._client = GLMClient(self._config)
        shown, left_out = cut(page, PAGE_CHARS)
        note = f"\n\n(The page is cut: its last {left_out:,} characters are left out.)" if left_out else ""
        messages = [
            {"role": "system", "content": _SYSTEM},
            {"role": "user", "content": f"Question: {prompt}\n\n{fenced('web_page', url, shown)}{note}"},
        ]
        try:
            reply = self._client.complete(messages)
        except GLMError as exc:
            hint = f" {exc.hint}" if exc.hint else ""
            raise WebError(
                f"the model {self._config.model} could not answer from the page: {exc}.{hint} "
                "Call web_fetch without a prompt to read the page itself."
            ) from None
        cost = get_model(self._config.model).cost(reply.usage)
        return Answer(reply.content.strip(), self._config.model, reply.usage, cost, bool(left_out))
