"""A fake GLM server for tests, benchmarks and CI: real HTTP, GLM's exact wire format.

    from glmcode.testing import FakeGLM, reply, tool_call

    with FakeGLM([reply("Hello!")]) as fake:
        ...  # point the client at fake.base_url

The server module loads on first use, which keeps `python -m glmcode.testing.fake_glm` clean.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glmcode.testing.script import ScriptError, Turn, http_error, load_script, reply, tool_call
from glmcode.testing.search import result as search_result
from glmcode.testing.search import search, search_error

if TYPE_CHECKING:
    from glmcode.testing.fake_glm import FakeGLM, RecordedRequest

__all__ = [
    "FakeGLM",
    "RecordedRequest",
    "ScriptError",
    "Turn",
    "http_error",
    "load_script",
    "reply",
    "search",
    "search_error",
    "search_result",
    "tool_call",
]


def __getattr__(name: str) -> Any:
    if name in ("FakeGLM", "RecordedRequest"):
        from glmcode.testing import fake_glm

        return getattr(fake_glm, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
