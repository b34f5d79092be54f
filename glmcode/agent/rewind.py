"""Undo and rewind: checkpoints taken during runs, and putting files and the conversation back.

Before the first change of each run the workspace is snapshotted (see checkpoints) and a
`checkpoint` record goes into the session file, so the session knows which snapshot belongs
to which prompt, also after it was resumed. When that run ends it is snapshotted again, and a
`checkpoint_after` record names the snapshot it follows. Undoing puts back what the newest run
not yet undone changed, the files that differ between its two snapshots, and leaves alone any of
them changed since; rewinding goes back to before any earlier prompt, for the files, the
conversation or both. Restoring files records `undo`, cutting the conversation records
`rewind`, and both are replayed when the session is read back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from glmcode.agent.checkpoints import CheckpointError, FileRestore, ShadowRepo, Snapshot
from glmcode.agent.compaction import is_prompt
from glmcode.agent.sessions_store import CheckpointMark, Replay, one_line
from glmcode.events import Event, Notice

if TYPE_CHECKING:
    from glmcode.agent.loop import Agent
    from glmcode.agent.session import SessionWriter

ACTION_WORDS = {"restore": "restored", "delete": "deleted", "recreate": "recreated"}


class CheckpointRecorder:
    """The agent's `before_changes` (the call itself: a snapshot before the run's first change)
    and `after_changes` (`after_run`: a snapshot of the run's end, taken on a thread and
    recorded by `settle`), both recorded in the session file. A failure costs the checkpoint, never the turn; after one, checkpoints stay
    off.

    `run_started` (the agent's `on_run_start`) reads the workspace into the shadow index on a
    thread while the model answers, so what costs most in a first snapshot, hashing the files
    that differ from git's index, is done before the first change is due. A change that comes
    while that reading goes on waits for it and takes it as its snapshot. One that comes after
    it finished gets a snapshot of its own, so edits made by anyone in between are in it rather
    than taken for the run's; with the index fresh, that only compares file times."""

    def __init__(self, repo: ShadowRepo, agent: Agent, session: SessionWriter) -> None:
        self.repo = repo
        self.agent = agent
        self.session = session
        self.off = False
        self.before: Snapshot | None = None  # the current run's, until its end is snapshotted
        self._warming: threading.Thread | None = None
        self._warm_tree: tuple[str, tuple[str, ...]] | None = None
        self._ending: _RunEnd | None = None
        self._failed_end = ""  # why the last run's end has no snapshot, until the user is told

    def run_started(self) -> None:
        self.settle()
        if self.off or (self._warming is not None and self._warming.is_alive()):
            return
        self._warm_tree = None
        self._warming = threading.Thread(target=self._warm, name="glmcode-checkpoint", daemon=True)
        self._warming.start()

    def _warm(self) -> None:
        try:
            self._warm_tree = self.repo.write_tree()
        except Exception:  # noqa: BLE001 - the snapshot proper meets the same failure and reports it
            self._warm_tree = None

    def wait(self) -> bool:
        """Until the reading started by `run_started` is done; whether it was still going on."""
        thread, self._warming = self._warming, None
        if thread is None:
            return False
        running = thread.is_alive()
        thread.join()
        return running

    def __call__(self, prompt_index: int) -> Iterator[Event]:
        self.settle()
        if self._failed_end:
            yield Notice(f"No snapshot of the end of the last run: {self._failed_end}; "
                         "/undo will compare it with the files as they are then.")
            self._failed_end = ""
        if self.off:
            return
        written = self._warm_tree if self.wait() else None
        self._warm_tree = None
        messages = self.agent.messages
        content = messages[prompt_index].get("content") if 0 < prompt_index < len(messages) else ""
        prompt = one_line(str(content or ""), 200)
        try:
            snap = self.repo.snapshot(f"before: {prompt}", written)
        except CheckpointError as exc:
            self.off = True
            yield from self._notes()
            yield Notice(f"No checkpoint for /undo: {exc}.")
            return
        yield from self._notes()
        self.before = snap
        self.session.write_record(
            {
                "type": "checkpoint",
                "commit": snap.commit,
                "tree": snap.tree,
                "prompt": prompt,
                "time": round(time.time(), 3),
                "skipped": list(snap.skipped),
            }
        )
        if snap.skipped:
            shown = ", ".join(snap.skipped[:5]) + (f" and {len(snap.skipped) - 5} more" if len(snap.skipped) > 5 else "")
            limit = self.repo.limits.max_file_bytes // (1024 * 1024)
            yield Notice(f"Not checkpointed (larger than {limit} MB): {shown}; /undo will not restore them.", "info")

    def _notes(self) -> Iterator[Event]:
        while self.repo.notes:
            yield Notice(self.repo.notes.pop(0), "info")

    def after_run(self) -> Iterator[Event]:
        """Starts the snapshot of the files as the run left them, so /undo knows which files it
        changed. It is taken on a thread, so the prompt comes back at once; `settle` records it."""
        before, self.before = self.before, None
        if self.off or before is None:
            return
        yield from self._notes()
        self.settle()
        self._ending = _RunEnd(self.repo, before)

    def settle(self) -> None:
        """Waits for the snapshot of the last run's end, if it is being taken, and records it.
        Whatever reads the checkpoints or may change files next calls this first: /undo and
        /rewind, a shell command of the user's, the next run, leaving the session."""
        ending = self._ending
        if ending is None:
            return
        ending.thread.join()
        self._ending = None
        if ending.snap is None:
            self._failed_end = ending.error
            return
        snap = ending.snap
        self.session.write_record(
            {"type": "checkpoint_after", "before": ending.before.commit, "commit": snap.commit,
             "tree": snap.tree, "time": round(time.time(), 3)}
        )


class _RunEnd:
    """The snapshot of one run's end, taken on a thread; `snap` or `error` once it is done."""

    def __init__(self, repo: ShadowRepo, before: Snapshot) -> None:
        self.before = before
        self.snap: Snapshot | None = None
        self.error = ""
        self.thread = threading.Thread(target=self._take, args=(repo,), name="glmcode-checkpoint-end", daemon=True)
        self.thread.start()

    def _take(self, repo: ShadowRepo) -> None:
        try:
            self.snap = repo.snapshot(f"after {self.before.commit[:12]}")
        except Exception as exc:  # noqa: BLE001 - told to the user with the next checkpoint
            self.error = str(exc) or type(exc).__name__


def settle_checkpoints(agent: Agent) -> None:
    """Records the agent's snapshot of its last run's end, waiting for it if need be."""
    recorder = agent.before_changes
    if isinstance(recorder, CheckpointRecorder):
        recorder.settle()


@dataclass(frozen=True)
class RewindPoint:
    """A place to go back to: before `prompt`. `keep` is how many messages the conversation
    keeps (None: that prompt is no longer in it); `checkpoint` the snapshot the files go back
    to (None: no file changed since)."""

    number: int
    prompt: str
    keep: int | None
    checkpoint: CheckpointMark | None


@dataclass(frozen=True)
class FilesPlan:
    """Files going back to `checkpoint`. `kept` are files the run changed that were changed
    again since, left as they are; `to_now` says the plan compares the snapshot with the files
    as they are now, for want of a snapshot of the run's end (glmcode stopped during it)."""

    checkpoint: CheckpointMark
    changes: list[FileRestore]
    kept: list[str] = field(default_factory=list)
    to_now: bool = False

    def lines(self) -> list[str]:
        """The plan as the user confirms it: one file per line, with what happens to it."""
        return [f"  {ACTION_WORDS[c.action]:<9} {c.path}" for c in self.changes] + [
            f"  {'kept':<9} {path} (changed since; left as it is)" for path in self.kept
        ]

    def note_for_model(self, what: str) -> str:
        """Tells the model, with the next prompt, that the files are not as it left them."""
        names = ", ".join(f"{c.path} ({ACTION_WORDS[c.action]})" for c in self.changes[:30])
        more = f" and {len(self.changes) - 30} more" if len(self.changes) > 30 else ""
        kept = f" Left as they are, changed since: {', '.join(self.kept[:30])}." if self.kept else ""
        return (
            f"[The user {what}: the files went back to how they were before the request "
            f"\"{self.checkpoint.prompt}\". Changed back: {names}{more}.{kept} Read files again before editing them.]"
        )


def rewind_points(replay: Replay, messages: list[dict[str, Any]]) -> list[RewindPoint]:
    """Every prompt of the conversation, oldest first, after any earlier snapshots whose prompt
    was compacted away. `messages` is the live conversation: a prompt can be rewound to only
    while it matches what the session file says."""
    marks = [c for c in replay.checkpoints if not c.undone]
    in_step = [m.get("role") for m in messages] == [m.get("role") for m in replay.messages]
    prompts = [
        i for i, m in enumerate(replay.messages)
        if i > 0 and is_prompt(m)
    ]
    first = replay.positions[prompts[0]] if prompts else None
    points: list[RewindPoint] = []
    for mark in marks:
        if first is None or mark.position < first:
            points.append(RewindPoint(len(points) + 1, mark.prompt, None, mark))
    for i in prompts:
        position = replay.positions[i]
        after = next((c for c in marks if c.position > position), None)
        text = one_line(str(replay.messages[i].get("content") or ""), 70)
        points.append(RewindPoint(len(points) + 1, text, i if in_step else None, after))
    return points


def undo_plan(repo: ShadowRepo, replay: Replay) -> FilesPlan | None:
    """Putting back the files the latest run that changed any changed; None without one. A run
    whose end was snapshotted changed the files that differ between its two snapshots; one
    whose end was not is compared with the files as they are now."""
    for mark in reversed([c for c in replay.checkpoints if not c.undone]):
        if mark.after_tree is None:
            plan = FilesPlan(mark, repo.changes(mark.tree), to_now=True)
        else:
            changes, kept = repo.run_changes(mark.tree, mark.after_tree)
            plan = FilesPlan(mark, changes, kept)
        if plan.changes or plan.kept:
            return plan
    return None


def files_plan(repo: ShadowRepo, mark: CheckpointMark) -> FilesPlan:
    return FilesPlan(mark, repo.changes(mark.tree))


def restore_files(repo: ShadowRepo, plan: FilesPlan, replay: Replay, session: SessionWriter) -> None:
    """Carries out the plan, and records every snapshot from its own on as undone."""
    repo.restore(plan.checkpoint.tree, plan.changes)
    later = [c.commit for c in replay.checkpoints if c.position >= plan.checkpoint.position and not c.undone]
    session.write_record({"type": "undo", "commits": later, "time": round(time.time(), 3)})


def rewind_conversation(agent: Agent, session: SessionWriter, keep: int) -> int:
    """Cuts the conversation back to its first `keep` messages; how many went."""
    keep = max(1, keep)
    removed = max(0, len(agent.messages) - keep)
    del agent.messages[keep:]
    session.write_record({"type": "rewind", "keep": keep, "time": round(time.time(), 3)})
    return removed
