"""What the GLM client hands back once a reply is complete."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from glmcode.events import TokenUsage, ToolCall


@dataclass(frozen=True)
class ModelReply:
    """One assistant reply, assembled from a stream or read from a whole response.

    `tool_calls` keep the model's order (by index). Their `arguments` are the raw JSON text;
    the agent parses them, so a malformed call becomes an error result for the model rather
    than a failure of the reply.
    """

    content: str
    reasoning: str
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str
    usage: TokenUsage = field(default_factory=TokenUsage)
    model: str = ""
    request_id: str = ""

    def to_message(self) -> dict:
        """The assistant message to append to the conversation, as GLM wants it back:
        content always a string, reasoning replayed verbatim."""
        msg: dict = {"role": "assistant", "content": self.content}
        if self.reasoning:
            msg["reasoning_content"] = self.reasoning
        if self.tool_calls:
            msg["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in self.tool_calls
            ]
        return msg


@dataclass(frozen=True)
class ClientConfig:
    """Where and how the client talks to the model; the key never appears in a repr."""

    api_key: str = field(repr=False)
    base_url: str
    model: str = "glm-4.6"
    provider: str = "zai"
    max_tokens: int | None = None  # None: catalog default
    temperature: float | None = None
    thinking: bool = True
    timeout: float = 300.0  # read timeout between bytes, seconds
    connect_timeout: float = 10.0
    max_attempts: int = 6
    max_backoff: float = 60.0
    # Where the TLS context comes from (llm/tls.py's EarlyContext); None: httpx makes its own.
    tls: Callable[[], Any] | None = field(default=None, repr=False, compare=False)
