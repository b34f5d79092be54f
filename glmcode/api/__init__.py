"""glmcode for programs: `run(prompt, ...) -> Result`, or `stream(prompt, ...)` for the events.

See docs/python-api.md. The same engine as `glmcode exec`, without a terminal.
"""

from glmcode.agent.tool_calls import ApprovalAnswer, ApprovalRequest
from glmcode.api.result import Result, RunError
from glmcode.api.run import RunStream, SetupError, run, stream

__all__ = ["ApprovalAnswer", "ApprovalRequest", "Result", "RunError", "RunStream", "SetupError", "run", "stream"]
