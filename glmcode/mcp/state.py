"""What glmcode knows of each server, in plain data: the SDK's own types stay in `connection`."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from glmcode.config.mcp_servers import ServerSpec

STDERR_TAIL_CHARS = 2000


@dataclass(frozen=True)
class RemoteTool:
    name: str
    description: str
    input_schema: Any  # as the server sent it; checked when the tool is offered
    annotations: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RemotePrompt:
    name: str
    description: str
    arguments: tuple[tuple[str, bool], ...]  # (name, required)


@dataclass(frozen=True)
class RemoteResource:
    uri: str
    name: str
    description: str
    mime_type: str


@dataclass(frozen=True)
class RemoteImage:
    """An image in a tool's result as the server sent it: unchecked, its data still base64."""

    mime_type: str
    data: str


@dataclass(frozen=True)
class RemoteResult:
    """A tool's result: its text parts, structured content, images, and whether the server
    marked it an error."""

    texts: tuple[str, ...] = ()
    structured: Any = None
    images: tuple[RemoteImage, ...] = ()
    is_error: bool = False


class CallFailed(Exception):
    """The call got no result: the server is not running, hung, or went away."""


@dataclass
class ServerState:
    """One server's life: `status` is "starting", "ready", "failed" or "stopped". `version`
    grows whenever its tools change, so the registry knows to read them again."""

    spec: ServerSpec
    status: str = "starting"
    error: str = ""
    stderr_tail: str = ""
    tools: tuple[RemoteTool, ...] = ()
    prompts: tuple[RemotePrompt, ...] = ()
    resources: tuple[RemoteResource, ...] = ()
    server_info: str = ""
    version: int = 0
    settled: threading.Event = field(default_factory=threading.Event)  # ready or failed
    restartable: bool = False  # the frontend has /mcp restart

    def how_back(self) -> str:
        """What can be done about the server being down, for the model's result."""
        if self.restartable:
            return f"The user can bring it back with /mcp restart {self.name}."
        return "It stays unavailable for the rest of this run."

    @property
    def name(self) -> str:
        return self.spec.name

    def failure(self) -> str:
        """The last error with the tail of the server's stderr, as the user should read it."""
        text = self.error or "it is not running"
        if self.stderr_tail.strip():
            tail = self.stderr_tail.strip()[-STDERR_TAIL_CHARS:]
            text += "\n  its stderr ended with:\n    " + "\n    ".join(tail.splitlines()[-12:])
        return text
