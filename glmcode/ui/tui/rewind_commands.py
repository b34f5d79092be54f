"""The slash commands that go back: /undo, /rewind, /resume, and /compact, which makes room.

Each shows what it will change and asks before changing anything. Whatever puts files back
also leaves a note that goes to the model with the next message, so it reads the files again
instead of trusting what it remembers of them.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glmcode.agent.checkpoints import ShadowRepo
    from glmcode.agent.rewind import FilesPlan
    from glmcode.agent.sessions_store import Replay
    from glmcode.ui.tui.host import SessionHost

CHOICES = {"b": "both", "f": "files", "c": "conversation"}


def undo(session: SessionHost) -> None:
    from glmcode.agent.checkpoints import CheckpointError
    from glmcode.agent.rewind import restore_files, undo_plan
    from glmcode.agent.sessions_store import replay

    repo = _repo(session)
    if repo is None:
        return
    state = replay(session.ws.session.path)
    try:
        plan = undo_plan(repo, state)
        if plan is None:
            _say(session, "Nothing to undo: no turn of this session changed files.", "dim")
            return
        _say(session, f"Undo the file changes made for “{plan.checkpoint.prompt}”:")
        _show_plan(session, plan)
        if plan.to_now:
            _say(session, "glmcode stopped before that prompt's run ended, so every change since its "
                 "snapshot goes back.", "dim")
        if not plan.changes:
            _say(session, "Nothing to put back: every file it changed was changed again since.", "dim")
            return
        if not _confirm(session, f"Put back {_files(len(plan.changes))}?"):
            _say(session, "Nothing changed.", "dim")
            return
        restore_files(repo, plan, state, session.ws.session)
    except CheckpointError as exc:
        _say(session, f"Could not undo: {exc}", "red")
        return
    session.recent.shell_notes.append(plan.note_for_model("undid the last file changes"))
    _say(session, f"Done: {_files(len(plan.changes))} put back. The model learns of it with your next message.", "dim")


def rewind(session: SessionHost, argument: str) -> None:
    from glmcode.agent.checkpoints import CheckpointError
    from glmcode.agent.rewind import files_plan, restore_files, rewind_conversation, rewind_points
    from glmcode.agent.sessions_store import one_line, replay
    from glmcode.agent.setup import settle_checkpoints

    settle_checkpoints(session.ws)
    state = replay(session.ws.session.path)
    points = rewind_points(state, session.agent.messages)
    if not points:
        _say(session, "Nothing to rewind to: no prompt yet.", "dim")
        return
    words = argument.split()
    if not words:
        for point in points:
            files = "files, conversation" if point.checkpoint and point.keep else (
                "files" if point.checkpoint else "conversation")
            _say(session, f"  {point.number:>3}  {one_line(point.prompt, 44):<44}  {files}", "default")
        answer = _ask(session, "Rewind to before which prompt? (number, Enter to cancel) ")
        words = (answer or "").split()
        if not words:
            return
    if not words[0].isdigit() or not 1 <= int(words[0]) <= len(points):
        _say(session, f"Pick a number from 1 to {len(points)}.", "yellow")
        return
    point = points[int(words[0]) - 1]
    offered = [c for c, what in CHOICES.items()
               if (what != "files" or point.checkpoint) and (what != "conversation" or point.keep)
               and (what != "both" or (point.checkpoint and point.keep))]
    if not offered:
        _say(session, "That prompt is no longer in the conversation and no file changed since.", "dim")
        return
    choice = words[1][:1].lower() if len(words) > 1 else ""
    if choice not in offered:
        if len(offered) == 1:
            choice = offered[0]
        else:
            names = ", ".join(f"[{c}]{CHOICES[c][1:]}" for c in offered)
            choice = (_ask(session, f"What goes back? {names}: ") or "").strip()[:1].lower()
            if choice not in offered:
                _say(session, "Nothing changed.", "dim")
                return
    what = CHOICES[choice]
    plan: FilesPlan | None = None
    repo = _repo(session) if what != "conversation" else None
    try:
        if what != "conversation":
            if repo is None or point.checkpoint is None:
                return
            plan = files_plan(repo, point.checkpoint)
            if plan.changes:
                _say(session, "Files:")
                _show_plan(session, plan)
            else:
                _say(session, "Files: already as they were then.", "dim")
        if what != "files" and point.keep is not None:
            removed = len(session.agent.messages) - point.keep
            _say(session, f"Conversation: back to before “{point.prompt}” ({removed} messages go).")
        if not _confirm(session, "Go ahead?"):
            _say(session, "Nothing changed.", "dim")
            return
        if plan is not None and plan.changes and repo is not None:
            restore_files(repo, plan, state, session.ws.session)
    except CheckpointError as exc:
        _say(session, f"Could not rewind the files: {exc}", "red")
        return
    if what != "files" and point.keep is not None:
        rewind_conversation(session.agent, session.ws.session, point.keep)
        session.status.last_prompt_tokens = 0
        if what == "conversation" and point.checkpoint is not None:
            session.recent.shell_notes.append(
                "[The user rewound the conversation to this point; files changed after it keep "
                "their changes, so read files again before relying on them.]"
            )
        _say(session, "Conversation rewound. The prompt you rewound to was:", "dim")
        _say(session, f"  {_prompt_text(state.messages, point.keep)}", "default")
    elif plan is not None and plan.changes:
        session.recent.shell_notes.append(plan.note_for_model("rewound the files"))
    _say(session, "Done.", "dim")


def resume(session: SessionHost, argument: str) -> None:
    from glmcode.agent.sessions_store import (
        SessionNotFound,
        find_session,
        format_sessions,
        list_sessions,
        replay,
        session_info,
    )
    from glmcode.agent.setup import resume_workspace
    from glmcode.paths import sessions_dir

    current = session.ws.session.path
    sessions = [s for s in list_sessions(sessions_dir(session.ws.env, session.settings.project_root)) if s.path != current]
    ref = argument.strip()
    if not ref:
        if not sessions:
            _say(session, "There is no other session in this project.", "dim")
            return
        for line in format_sessions(sessions):
            _say(session, f"  {line}", "default")
        ref = (_ask(session, "Resume which? (number or id, Enter to cancel) ") or "").strip()
        if not ref:
            return
    try:
        chosen = find_session(sessions, ref)
    except SessionNotFound as exc:
        _say(session, f"{exc}.", "yellow")
        return
    left_empty = session_info(current) is None
    state = replay(chosen.path)
    resume_workspace(session.ws, state)
    if left_empty:
        current.unlink(missing_ok=True)  # opened and never used: not worth keeping
    show_resumed(session, state)


def show_resumed(session: SessionHost, state: Replay) -> None:
    """What the session goes on from: what was found (and what was cut off, if anything), how
    it started, how many turns it took, and its last exchange."""
    from glmcode.agent.sessions_store import session_info

    session.status.last_prompt_tokens = session.agent.prompt_estimate()
    for notice in session.ws.notices:
        _say(session, notice.message, "yellow" if notice.level == "warning" else "dim")
    info = session_info(state.path)
    if info is not None:
        turns = f"{info.turns} turn" + ("" if info.turns == 1 else "s")
        _say(session, f"  started with: {info.first_prompt} · {turns}", "dim")
    _recap(session, state)


def compact(session: SessionHost, focus: str) -> None:
    from glmcode.agent.drive import drive
    from glmcode.events import Compacted, Event, Notice, Retrying, Usage
    from glmcode.ui.tui.compaction_view import CompactionView

    summary: list[str] = []
    compactions = CompactionView(len(session.agent.messages))

    def show(event: Event) -> None:
        if compactions.repeats(event):
            return
        if isinstance(event, Usage):
            session.status.add(event)  # the summary request costs like any other
        elif isinstance(event, Compacted):
            summary.append(event.summary)
            session.status.compacted(event)
            _say(session, compactions.line(event), "dim")
        elif isinstance(event, Notice):
            _say(session, event.message, "yellow" if event.level == "warning" else "dim")
        elif isinstance(event, Retrying):
            _say(session, f"{event.reason}; retrying in {event.wait:.1f}s", "yellow")

    _say(session, "Summarising the older turns…", "dim")
    drive(session.agent.compact(focus), show)
    if summary and summary[0]:
        _say(session, summary[0], "dim")


def _repo(session: SessionHost) -> ShadowRepo | None:
    from glmcode.agent.rewind import CheckpointRecorder

    recorder = session.agent.before_changes
    if not isinstance(recorder, CheckpointRecorder) or recorder.off:
        _say(session, "Checkpoints are off in this session, so files cannot be put back.", "yellow")
        return None
    recorder.settle()
    return recorder.repo


def _show_plan(session: SessionHost, plan: FilesPlan) -> None:
    for line in plan.lines():
        _say(session, line, "default")


def _recap(session: SessionHost, state: Replay) -> None:
    """The last exchange, so the user sees where the conversation stands: the last prompt, and
    the answer to it, if there is one."""
    from glmcode.agent.compaction import latest_prompt
    from glmcode.agent.sessions_store import one_line

    messages = session.agent.messages
    last = latest_prompt(messages)
    if last is None:
        return
    _say(session, f"  you: {one_line(str(messages[last].get('content') or ''), 100)}", "default")
    answer = next(
        (m for m in reversed(messages[last + 1 :]) if m.get("role") == "assistant" and m.get("content")), None
    )
    if answer is not None:
        _say(session, f"  glmcode: {one_line(str(answer.get('content') or ''), 100)}", "default")
    else:
        _say(session, "  glmcode: no answer" + (": it was interrupted" if state.interrupted else " yet"), "dim")


def _prompt_text(messages: list[dict[str, Any]], index: int) -> str:
    return str(messages[index].get("content") or "") if index < len(messages) else ""


def _files(n: int) -> str:
    return f"{n} file" + ("" if n == 1 else "s")


def _say(session: SessionHost, text: str, style: str = "default") -> None:
    session.console.print(text, style=style, markup=False, highlight=False)


def _confirm(session: SessionHost, question: str) -> bool:
    answer = _ask(session, f"{question} [y/N] ")
    return (answer or "").strip().lower() in ("y", "yes")


def _ask(session: SessionHost, question: str) -> str | None:
    """One line from the user; None when they cancel (Ctrl-C, Ctrl-D, end of input)."""
    if session.terminal:
        from prompt_toolkit import PromptSession

        try:
            return str(PromptSession(question).prompt())
        except (EOFError, KeyboardInterrupt):
            return None
    session.console.print(question, end="", markup=False, highlight=False)
    sys.stdout.flush()
    line = sys.stdin.readline()
    return line.rstrip("\n") if line else None
