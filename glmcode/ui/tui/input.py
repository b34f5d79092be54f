"""The prompt: multi-line editing, history, completion, and the keys of the session.

Enter sends; Alt-Enter or Ctrl-J starts a new line; a pasted block arrives whole (bracketed
paste) however many lines it has. History is kept per project; Ctrl-R searches it. Tab and
typing complete slash commands, `@path` mentions and an MCP server's `@SERVER:URI` resources. Shift-Tab changes the permission mode.
Ctrl-C clears what is typed, and on an empty prompt a second Ctrl-C (or Ctrl-D) leaves.

The cursor is the terminal's own, at the caret, so an input method composes text in place.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MENTION_ENTRIES = 60
_SKIPPED_DIRS = {".git", "__pycache__", "node_modules", ".venv", ".mypy_cache", ".pytest_cache"}


@dataclass(frozen=True)
class CommandHint:
    name: str
    usage: str
    summary: str


def completions(
    text_before: str,
    commands: Iterable[CommandHint],
    cwd: Path,
    resources: Iterable[tuple[str, str]] = (),
) -> list[tuple[str, int, str]]:
    """(replacement, start offset from the cursor, description) for what is typed so far: a
    slash command at the start of the prompt, or the `@path` or `@SERVER:URI` being typed
    (`resources` are the servers' `SERVER:URI` mentions with their names)."""
    if text_before.startswith("/") and " " not in text_before and "\n" not in text_before:
        typed = text_before[1:].lower()
        return [
            (f"/{c.name}", -len(text_before), c.summary)
            for c in commands
            if c.name.startswith(typed)
        ]
    word = text_before.rsplit(None, 1)[-1] if text_before and not text_before[-1].isspace() else ""
    if not word.startswith("@"):
        return []
    partial = word[1:]
    out = [
        (f"@{mention}", -len(word), name)
        for mention, name in resources
        if mention.lower().startswith(partial.lower())
    ][:MENTION_ENTRIES]
    if ":" in partial and out:
        return out  # a server's resource is being typed, not a path
    paths = _paths(partial, word, cwd)
    return paths + out[: MENTION_ENTRIES - len(paths)]


def _paths(partial: str, word: str, cwd: Path) -> list[tuple[str, int, str]]:
    folder, _, stem = partial.rpartition("/")
    base = (cwd / folder) if folder else cwd
    try:
        entries = sorted(os.scandir(base), key=lambda e: e.name.lower())
    except OSError:
        return []
    out: list[tuple[str, int, str]] = []
    for entry in entries:
        name = entry.name
        if not name.lower().startswith(stem.lower()):
            continue
        if name.startswith(".") and not stem.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if is_dir and name in _SKIPPED_DIRS:
            continue
        shown = f"{folder}/{name}" if folder else name
        out.append((f"@{shown}{'/' if is_dir else ''}", -len(word), "folder" if is_dir else ""))
        if len(out) >= MENTION_ENTRIES:
            break
    return out


class PromptInput:
    """Reads one prompt at a time; `read` returns None when the user wants to leave."""

    def __init__(
        self,
        *,
        history_file: Path,
        cwd: Path,
        commands: Callable[[], list[CommandHint]],
        toolbar: Callable[[], list[tuple[str, str]]],
        cycle_mode: Callable[[], None],
        resources: Callable[[], list[tuple[str, str]]] = list,
    ) -> None:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.completion import Completer, Completion
        from prompt_toolkit.filters import Condition, has_completions, has_focus
        from prompt_toolkit.history import FileHistory
        from prompt_toolkit.key_binding import KeyBindings
        from prompt_toolkit.styles import Style

        self._armed = False  # one Ctrl-C on the empty prompt; the next one leaves
        self._toolbar = toolbar
        history_file.parent.mkdir(parents=True, exist_ok=True)

        class _Completer(Completer):
            def get_completions(self, document: Any, complete_event: Any) -> Any:
                for text, start, meta in completions(document.text_before_cursor, commands(), cwd, resources()):
                    yield Completion(text, start_position=start, display_meta=meta)

        keys = KeyBindings()
        default = has_focus("DEFAULT_BUFFER")
        menu_open = has_completions & Condition(lambda: self._completion_chosen())

        @keys.add("enter", filter=default & menu_open)
        def _take_completion(event: Any) -> None:
            buffer = event.current_buffer
            completion = buffer.complete_state.current_completion
            buffer.apply_completion(completion)

        @keys.add("enter", filter=default & ~menu_open)
        def _send(event: Any) -> None:
            event.current_buffer.validate_and_handle()

        @keys.add("escape", "enter", filter=default)
        @keys.add("c-j", filter=default)
        def _newline(event: Any) -> None:
            event.current_buffer.insert_text("\n")

        @keys.add("c-v", filter=default)
        def _paste_image(event: Any) -> None:
            from prompt_toolkit.application import run_in_terminal

            from glmcode.ui.tui.clipboard import ClipboardError, paste_image

            try:
                path = paste_image()
            except ClipboardError as exc:
                message = f"  Ctrl-V: {exc}"
                run_in_terminal(lambda: print(message))
                return
            event.current_buffer.insert_text(f"@{path} ")

        @keys.add("s-tab")
        def _mode(event: Any) -> None:
            cycle_mode()
            event.app.invalidate()

        @keys.add("c-c", filter=default)
        def _interrupt(event: Any) -> None:
            buffer = event.current_buffer
            if buffer.text:
                buffer.reset()
                self._armed = False
            elif self._armed:
                event.app.exit(result=None)
            else:
                self._armed = True
                event.app.invalidate()

        @keys.add("c-d", filter=default & Condition(lambda: not self._session.default_buffer.text))
        def _eof(event: Any) -> None:
            event.app.exit(result=None)

        self._session: Any = PromptSession(
            history=FileHistory(str(history_file)),
            multiline=True,
            completer=_Completer(),
            complete_while_typing=True,
            key_bindings=keys,
            bottom_toolbar=self._bottom_toolbar,
            prompt_continuation=lambda width, line, soft: " " * width,
            style=Style.from_dict(
                {
                    "bottom-toolbar": "noreverse",
                    "bottom-toolbar.text": "#8a8a8a",
                    "toolbar.mode": "bold #5fafff",
                    "toolbar.warn": "bold #ffaf00",
                    "prompt": "bold",
                }
            ),
            enable_suspend=True,
            reserve_space_for_menu=6,
        )
        self._session.default_buffer.on_text_changed += lambda _: self._disarm()

    def _completion_chosen(self) -> bool:
        state = self._session.default_buffer.complete_state
        return state is not None and state.current_completion is not None

    def _disarm(self) -> None:
        self._armed = False

    def _bottom_toolbar(self) -> list[tuple[str, str]]:
        if self._armed:
            return [("class:toolbar.warn", " Press Ctrl-C again (or Ctrl-D) to exit")]
        return self._toolbar()

    def read(self, default: str = "") -> str | None:
        self._armed = False
        return self._session.prompt([("class:prompt", "› ")], default=default)
