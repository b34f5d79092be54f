"""What `glmcode fix` was asked to do, and the checks that turn bad requests into exit 2."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO


class UsageError(Exception):
    """The command line cannot work as given (exit 2)."""


@dataclass(frozen=True)
class FixOptions:
    task: str | None = None
    task_file: str | None = None
    check: str | None = None
    attempts: int = 3
    check_timeout: float = 600.0
    patch_out: str | None = None
    worktree: bool = False
    apply: bool | None = None
    output_format: str = "text"  # the command line has checked it against cli.OUTPUT_FORMATS
    verbose: bool = False
    max_turns: int | None = None
    budget_usd: float | None = None
    output_last_message: str | None = None  # also write the final answer here
    images: tuple[str, ...] = ()  # go with the task to the first attempt

    @property
    def use_worktree(self) -> bool:
        """`--apply` and `--no-apply` say what becomes of the user's files after the work, which
        only means something when the work happens elsewhere: either one implies `--worktree`."""
        return self.worktree or self.apply is not None

    @property
    def apply_after(self) -> bool:
        return self.apply is True


def validate(options: FixOptions) -> None:
    if options.attempts < 1:
        raise UsageError("--attempts must be 1 or more")
    if not options.check_timeout > 0:
        raise UsageError("--check-timeout must be more than 0 seconds")
    if options.max_turns is not None and options.max_turns < 1:
        raise UsageError("--max-turns must be 1 or more")
    if options.budget_usd is not None and options.budget_usd < 0:
        raise UsageError("--budget-usd cannot be negative")
    if options.check is not None and not options.check.strip():
        raise UsageError("--check is empty; give the command that passes when the fix is done")
    if options.patch_out == "-" and options.output_format != "text":
        raise UsageError(
            f"--patch-out - and --output-format {options.output_format} would both write to standard output; "
            "write the patch to a file instead"
        )
    if options.patch_out is not None and options.patch_out != "-" and not options.patch_out.strip():
        raise UsageError("--patch-out is empty")


def read_task(options: FixOptions, cwd: Path, stdin: IO[str] | None = None) -> str:
    """The task from the argument, `-` (standard input) or --task-file."""
    stdin = sys.stdin if stdin is None else stdin
    if options.task is not None and options.task_file is not None:
        raise UsageError("give the task either as an argument or with --task-file, not both")
    if options.task_file is not None:
        if options.task_file == "-":
            task = stdin.read()
        else:
            path = resolve(cwd, options.task_file)
            try:
                task = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"cannot read --task-file {path}: {exc}") from None
    elif options.task == "-":
        task = stdin.read()
    else:
        task = options.task or ""
    if not task.strip():
        raise UsageError("no task: say what to fix as an argument, '-' to read standard input, or --task-file FILE")
    return task


def resolve(cwd: Path, path: str) -> Path:
    """A path from the command line, relative to the folder glmcode works in (--cd)."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else cwd / p
