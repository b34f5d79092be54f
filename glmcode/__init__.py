"""glmcode: a terminal coding agent for GLM-4.6.

`glmcode.run` and `glmcode.stream` (see docs/python-api.md) load on first use, so that
`glmcode --version`, which imports this module, stays instant.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glmcode.api import ApprovalAnswer, ApprovalRequest, Result, RunError, RunStream, SetupError, run, stream

__version__ = "0.1.0"
_API = ("ApprovalAnswer", "ApprovalRequest", "Result", "RunError", "RunStream", "SetupError", "run", "stream")


def __getattr__(name: str) -> Any:
    if name in _API:
        from glmcode import api

        return getattr(api, name)
    raise AttributeError(f"module 'glmcode' has no attribute {name!r}")
