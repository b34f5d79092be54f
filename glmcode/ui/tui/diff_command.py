"""`/diff`: the session's own edits, then what git sees changed in the working tree (its diff,
and the new files it does not track yet)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glmcode.ui.tui.host import SessionHost


def show_diff(session: SessionHost) -> None:
    from rich.text import Text

    from glmcode.ui.tui.tool_view import diff_view

    console = session.console
    diffs = session.recent.diffs
    if not diffs:
        console.print("No edits in this session yet.", style="dim")
    for edit in diffs:
        console.print(Text.assemble(("● ", "green"), (edit.name, "bold"), f"  {edit.target}"))
        console.print(diff_view(edit.diff))
    git = git_diff(session.cwd)
    if git is None:
        return
    console.print()
    if git.strip():
        console.print("git diff", style="bold underline")
        console.print(diff_view(git))
    else:
        console.print("git diff: no uncommitted changes to tracked files.", style="dim")
    new_files = untracked_files(session.cwd)
    if new_files:
        console.print(f"New files git does not track yet ({len(new_files)}):", style="bold")
        for name in new_files[:50]:
            console.print(f"  + {name}", style="green", markup=False, highlight=False)
        if len(new_files) > 50:
            console.print(f"  … {len(new_files) - 50} more", style="dim")


def untracked_files(cwd: Path) -> list[str]:
    """Files a command created that git does not track (and does not ignore): `git diff`
    leaves them out, yet they are changes of the session too."""
    from glmcode.vcs import GitError, Runner

    git = Runner(cwd, {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"})
    try:
        listed = git.run("ls-files", "--others", "--exclude-standard", timeout=30).decode(errors="replace")
    except GitError:
        return []
    return [line for line in listed.splitlines() if line]


def git_diff(cwd: Path) -> str | None:
    """`git diff` of the working tree, None outside a repository or without git."""
    from glmcode.vcs import GitError, Runner

    # No index refresh written behind the user's own git, no prompt, and (through Runner)
    # no API key for whatever the repository's configuration runs.
    git = Runner(cwd, {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"})
    try:
        if git.text("rev-parse", "--is-inside-work-tree", timeout=10) != "true":
            return None
        diff = git.run("diff", "--no-color", "--no-ext-diff", timeout=30)
    except GitError:
        return None
    return diff.decode(errors="replace")
