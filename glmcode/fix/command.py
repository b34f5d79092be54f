"""`glmcode fix`: check, work until the check passes, hand back a patch and an exit code.

The order matters for the contract: everything that can make the request unusable (exit 2)
is found before the check runs or a worktree is made, and the worktree is removed whatever
happens after, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glmcode.fix.repository import GitError, NotARepository, Repository
from glmcode.fix.options import FixOptions, UsageError, read_task, resolve, validate
from glmcode.fix.outcome import EXIT_CODES, decide
from glmcode.fix.patch import apply, changed_files, diff, snapshot
from glmcode.fix.report import FixReport
from glmcode.fix.view import FixView
from glmcode.fix.workflow import FixPlan, WorkResult, work

if TYPE_CHECKING:
    from glmcode.agent.loop import Agent
    from glmcode.agent.setup import Workspace
    from glmcode.config import Settings
    from glmcode.images.attach import Attached


def fix_command(options: FixOptions, flags: dict[str, Any], *, cd: str | None) -> int:
    from glmcode.ui.answer import AnswerOptionError, last_message_path, write_last_message
    from glmcode.ui.startup import StartupError, start, working_folder

    started = time.monotonic()
    err = sys.stderr
    try:
        validate(options)
        cwd = working_folder(cd)
        task = read_task(options, cwd)
        repo = Repository.find(cwd)
        if options.use_worktree and repo.head is None:
            raise UsageError(
                "--worktree (which --apply and --no-apply imply) needs a commit to start from; "
                "this repository has none yet"
            )
        # Nobody is there to approve a call: fix works in full-auto, confined to the workspace.
        settings = start({**flags, "permission_mode": "full-auto"}, str(cwd)).settings
        last_message = last_message_path(options.output_last_message, cwd)
        attached = _attached(options, settings)
    except (UsageError, NotARepository, StartupError, AnswerOptionError) as exc:
        err.write(f"glmcode: {exc}\n")
        return EXIT_CODES["usage"]
    except GitError as exc:
        err.write(f"glmcode: {exc}\n")
        return EXIT_CODES["error"]
    for warning in settings.warnings:
        err.write(f"glmcode: {warning}\n")

    human = err if options.patch_out == "-" else sys.stdout
    view = FixView(options.output_format, human, err, verbose=options.verbose)
    run = _FixRun(options, task, repo, cwd, settings, view, attached)
    from glmcode.signals import sigterm_as_interrupt

    with sigterm_as_interrupt():  # a cancelled CI job gets SIGTERM: the worktree is still removed
        patch = run.run()
    run.report.duration_s = time.monotonic() - started
    view.finish(run.report)
    if options.patch_out == "-":
        sys.stdout.buffer.write(patch)
        sys.stdout.flush()
    problem = write_last_message(last_message, run.report.result) if last_message else None
    if problem:
        err.write(f"glmcode: {problem}\n")
        return EXIT_CODES["error"]
    return run.report.exit_code


def _attached(options: FixOptions, settings: Settings) -> Attached | None:
    """The task's images, read and checked before any work starts; a bad one is a usage error."""
    if not options.images:
        return None
    from glmcode.images.attach import attach
    from glmcode.images.load import ImageError

    try:
        return attach(options.images, settings)
    except ImageError as exc:
        raise UsageError(f"{exc}; nothing was sent") from None


@dataclass
class _FixRun:
    options: FixOptions
    task: str
    repo: Repository
    cwd: Path
    settings: Settings
    view: FixView
    attached: Attached | None = None

    def __post_init__(self) -> None:
        self.report = FixReport("interrupted", check=self.options.check, worktree=self.options.use_worktree)
        self.workspace: Workspace | None = None

    def run(self) -> bytes:
        """Fills `self.report`; returns the patch."""
        patch = b""
        try:
            with _work_tree(self.repo, self.options.use_worktree) as top:
                work_repo = Repository.find(top) if self.options.use_worktree else self.repo
                work_cwd = top / self.repo.subdir
                work_cwd.mkdir(parents=True, exist_ok=True)
                base = snapshot(top, work_repo.index)
                plan = FixPlan(
                    self.task, self.options.check, work_cwd, self.options.attempts,
                    self.options.check_timeout, self.options.budget_usd, self.attached,
                )
                result = work(plan, lambda: self._open_agent(work_cwd), self.view.handle)
                self.report.initial_check = result.initial_check
                self.report.attempts = result.attempts
                if result.attempts:
                    self.report.result = result.attempts[-1].answer
                if result.error is not None:
                    self.report.error = {"kind": result.error.kind, "message": result.error.message, "hint": result.error.hint}
                patch = self._finish(top, work_repo, base, result)
        except KeyboardInterrupt:
            self.report.status = "interrupted"
        except (GitError, OSError) as exc:
            self.report.status = "error"
            self.report.error = {"kind": "git" if isinstance(exc, GitError) else "io", "message": str(exc), "hint": ""}
        finally:
            self._close_agent()
        return patch

    def _finish(self, top: Path, work_repo: Repository, base: str, result: WorkResult) -> bytes:
        final = snapshot(top, work_repo.index)
        files = changed_files(top, base, final)
        patch = diff(top, base, final) if files else b""
        self.report.files = files
        self.report.status = decide(result, bool(files), self.options.check is not None)
        if self.report.status == "error" and self.report.error is None:
            self.report.error = {"kind": "agent", "message": "the agent stopped with an error", "hint": ""}
        self._set_limit()
        self.report.patch = self._write_patch(patch)
        if self.report.status == "fixed" and self.options.apply_after and patch:
            try:
                apply(self.repo.top, patch)
            except GitError as exc:
                self.report.status = "error"
                self.report.error = {
                    "kind": "apply",
                    "message": f"the patch does not apply to your files any more: {exc}",
                    "hint": f"it is saved in {self.report.patch}" if self.report.patch not in (None, "-") else "",
                }
            else:
                self.report.applied = True
        return patch

    def _write_patch(self, patch: bytes) -> str | None:
        out = self.options.patch_out
        if out == "-":
            return "-"
        if out is None:
            if not patch:
                return None
            name = self.workspace.started.session_id if self.workspace else time.strftime("%Y%m%d-%H%M%S")
            path = self.repo.common_dir / "glmcode" / f"fix-{name}.patch"
        else:
            path = resolve(self.cwd, out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(patch)
        return str(path)

    def _set_limit(self) -> None:
        if self.report.status == "turn_limit" and self.options.max_turns is not None:
            self.report.limit = f": --max-turns {self.options.max_turns} per attempt"
        elif self.report.status == "budget_limit" and self.workspace is not None:
            cost = self.workspace.agent.cost_usd
            self.report.limit = f": ${cost:.4f} spent, --budget-usd {self.options.budget_usd:g}"

    def _open_agent(self, work_cwd: Path) -> Agent:
        from glmcode.agent.setup import open_workspace

        # In full-auto nothing is left to ask about, so there is no hint on how to approve.
        self.workspace = open_workspace(self.settings, work_cwd, approver=None, max_turns=self.options.max_turns)
        self.report.session_id = self.workspace.started.session_id
        self.view.handle(self.workspace.started)
        return self.workspace.agent

    def _close_agent(self) -> None:
        if self.workspace is not None:
            self.report.usage = self.workspace.agent.usage
            self.report.cost_usd = self.workspace.agent.cost_usd
            self.workspace.close()


@contextlib.contextmanager
def _work_tree(repo: Repository, use_worktree: bool) -> Iterator[Path]:
    if not use_worktree:
        yield repo.top
        return
    from glmcode.fix.worktree import TempWorktree

    with TempWorktree(repo) as tree:
        yield tree.top
