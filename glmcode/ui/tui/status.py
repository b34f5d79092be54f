"""What the session costs and how full the context is, as one status line.

The same numbers feed the prompt's bottom toolbar and the line under the live area during a
turn: model, permission mode, context used (the last request's prompt tokens, or the size after
a compaction, as a share of the model's window), tokens in and out, the cached share of the
input, the cost so far.
"""

from __future__ import annotations

from dataclasses import dataclass

from glmcode.events import Compacted, ToolCallFinished, Usage

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@dataclass
class SessionStatus:
    model: str
    mode: str
    context_window: int
    last_prompt_tokens: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0
    requests: int = 0
    web_searches: int = 0
    tool_cost_usd: float = 0.0  # what tools paid for themselves: searches, a cheap model's answers
    sandbox: str = ""  # where commands run: "workspace-write", "off", "unavailable", ...

    def add(self, usage: Usage) -> None:
        self.last_prompt_tokens = usage.prompt_tokens
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        self.cached_tokens += usage.cached_tokens
        self.cost_usd += usage.cost_usd
        self.context_window = usage.context_window or self.context_window
        self.requests += 1

    def tool_finished(self, event: ToolCallFinished) -> None:
        data = event.data or {}
        spent = data.get("cost_usd")
        if isinstance(spent, (int, float)) and not isinstance(spent, bool):
            self.cost_usd += spent
            self.tool_cost_usd += spent
        if event.name == "web_search" and not event.is_error:
            self.web_searches += 1
    def add_nested(self, usage: Usage) -> None:
        """A sub-agent's request: its tokens and cost count, but it does not fill this context."""
        last = self.last_prompt_tokens
        self.add(usage)
        self.last_prompt_tokens = last

    def compacted(self, event: Compacted) -> None:
        """The context share drops with the compaction, before the next request measures it."""
        self.last_prompt_tokens = event.after

    @property
    def context_percent(self) -> float:
        if not self.context_window:
            return 0.0
        return 100.0 * self.last_prompt_tokens / self.context_window

    @property
    def cached_percent(self) -> float:
        return 100.0 * self.cached_tokens / self.prompt_tokens if self.prompt_tokens else 0.0

    def fields(self) -> list[tuple[str, str]]:
        """(name, text) pairs; the name lets a frontend style each one."""
        return [
            ("model", self.model),
            ("mode", self.mode),
            *([("sandbox", f"sandbox {self.sandbox}")] if self.sandbox else []),
            ("context", f"ctx {self.context_percent:.0f}%"),
            ("tokens", f"{tokens(self.prompt_tokens)} in · {tokens(self.completion_tokens)} out"),
            ("cache", f"{self.cached_percent:.0f}% cached"),
            ("cost", money(self.cost_usd)),
        ]

    def line(self) -> str:
        return " · ".join(text for _, text in self.fields())


def tokens(count: int) -> str:
    """1234 -> "1.2k", 2500000 -> "2.5M"."""
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.1f}k".replace(".0k", "k")
    return f"{count / 1_000_000:.1f}M".replace(".0M", "M")


def money(usd: float) -> str:
    return f"${usd:.4f}" if usd < 1 else f"${usd:.2f}"


def elapsed(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def spinner(now: float) -> str:
    return SPINNER[int(now * 10) % len(SPINNER)]
