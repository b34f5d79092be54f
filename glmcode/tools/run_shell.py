"""The run_shell tool: a bash command in the workspace, in the sandbox when there is one
(`glmcode.sandbox`), under limits on time, output and processes; the result says how it ended
and, when it failed, whether the sandbox or the process limit looks like the cause. The
process itself is run by `shell_process`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glmcode.sandbox.limits import MB
from glmcode.tools.base import Param, Tool, ToolContext, ToolError, ToolResult, description_beside
from glmcode.tools.truncate import MAX_CHARS, head_tail

if TYPE_CHECKING:
    from glmcode.tools.shell_process import Outcome


def run(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    command = args["command"]
    if not command.strip():
        raise ToolError("run_shell: command is empty")
    limits = ctx.limits
    timeout = float(args["timeout"]) if args["timeout"] is not None else limits.timeout
    if timeout <= 0:
        raise ToolError("run_shell: timeout must be more than 0 seconds")
    notes = []
    if timeout > limits.max_timeout:
        notes.append(
            f"The timeout of {timeout:g} s is over the {limits.max_timeout:g} s maximum; "
            f"{limits.max_timeout:g} s was used."
        )
        timeout = limits.max_timeout
    if not ctx.workspace.is_dir():
        raise ToolError(f"run_shell: the workspace {ctx.workspace} is not a folder")
    from glmcode.tools.shell_process import execute

    outcome = execute(command, ctx.workspace, timeout, ctx)
    if outcome.output_limited:
        notes.append(
            f"Command stopped: it printed more than {limits.max_output // MB} MB "
            "(the output limit); the process group was killed."
        )
    elif outcome.timed_out:
        notes.append(f"Command timed out after {timeout:g} s; the process group was killed.")
    elif outcome.cancelled:
        notes.append("Command cancelled; the process group was killed.")
    else:
        notes.append(f"Exit code: {outcome.exit_code}")
    if outcome.detached:
        notes.append(
            "Processes started in the background still hold the output; what they print "
            "from now on is not shown."
        )
    failed = outcome.exit_code != 0 or outcome.timed_out or outcome.cancelled or outcome.output_limited
    refusal = _sandbox_note(outcome, ctx, notes) if failed else None
    budget = MAX_CHARS // max(1, bool(outcome.stdout) + bool(outcome.stderr))
    output = _render(notes, outcome.stdout, outcome.stderr)
    for_model = _render(
        notes,
        head_tail(outcome.stdout, max_chars=budget),
        head_tail(outcome.stderr, max_chars=budget),
    )
    return ToolResult(
        output=output,
        is_error=failed,
        model_output=None if for_model == output else for_model,
        data={
            "exit_code": outcome.exit_code,
            "timed_out": outcome.timed_out,
            "duration": round(outcome.duration, 3),
            **({"sandbox": ctx.sandbox.policy.mode} if ctx.sandbox is not None else {}),
            **({"sandbox_refusal": refusal} if refusal else {}),
        },
    )


def _sandbox_note(outcome: Outcome, ctx: ToolContext, notes: list[str]) -> str | None:
    """Says when a failure looks like the sandbox's or the process limit's doing; returns the
    sandbox's reason, for the offer to run the command outside it."""
    from glmcode.sandbox.refusals import process_limit_hit, sandbox_refusal

    said = outcome.stderr + "\n" + outcome.stdout
    if process_limit_hit(said):
        notes.append(
            f"Processes were refused: the command reached the limit of "
            f"{ctx.limits.max_processes} processes at once."
        )
    if ctx.sandbox is None:
        return None
    if outcome.exit_code == 1 and outcome.stderr.startswith("bwrap: "):
        first = outcome.stderr.splitlines()[0]
        notes.append(f"The sandbox could not start ({first}); the command did not run.")
        return f"it could not start ({first})"
    reason = sandbox_refusal(said, ctx.sandbox.policy)
    if reason is not None:
        notes.append(f"The sandbox may have caused this failure: {reason}.")
    return reason


def _render(notes: list[str], stdout: str, stderr: str) -> str:
    parts = list(notes)
    for name, text in (("stdout", stdout), ("stderr", stderr)):
        if text:
            body = text.rstrip("\n")
            parts.append(f"<{name}>\n{body}\n</{name}>")
    if not stdout and not stderr:
        parts.append("(no output)")
    return "\n".join(parts)


TOOL = Tool(
    name="run_shell",
    description=description_beside(__file__, "run_shell"),
    params=(
        Param("command", "string", "The bash command to run."),
        Param(
            "timeout",
            "number",
            "Seconds before the command is killed (default 120, at most 600).",
            required=False,
        ),
        Param(
            "description",
            "string",
            "A few words on what the command does, shown to the user.",
            required=False,
        ),
    ),
    kind="shell",
    run=run,
)
