"""What the model is told before the first message: the instructions, the facts of the
repository it works in, and the user's memory files (AGENTS.md, GLMCODE.md).

The system prompt is built once per session and sent unchanged with every request, so every
part of it is deterministic: sorted listings, no clock beyond the date.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

MEMORY_NAMES = ("AGENTS.md", "GLMCODE.md")
GLOBAL_MEMORY_NAME = "AGENTS.md"
MEMORY_FILE_CAP = 16 * 1024  # characters
MEMORY_TOTAL_CAP = 32 * 1024

STATUS_MAX_LINES = 40
STATUS_UNAVAILABLE = "(unavailable: git status failed)"
RECENT_COMMITS = 5
OVERVIEW_MAX_FILES = 200
OVERVIEW_MAX_BYTES = 2048
OVERVIEW_LINE_MAX_CHARS = 400
JUNK_DIRS = frozenset({"node_modules", "venv", "__pycache__", "dist", "build", "target"})

PROMPT_FILE = Path(__file__).with_name("system_prompt.md")


@dataclass(frozen=True)
class RepoFacts:
    cwd: Path
    root: Path
    is_git: bool
    branch: str | None
    status: str
    recent_commits: tuple[str, ...]
    overview: str


@dataclass(frozen=True)
class MemoryFile:
    path: Path
    text: str
    truncated: bool


def gather_repo_facts(cwd: Path) -> RepoFacts:
    """Facts about the repository around `cwd`. Never raises for a folder that is not a git
    repository, an empty repository, a detached HEAD or a machine without git.

    Plain `git` commands, not a git library: these five reads are all glmcode needs at
    start-up, and a library's own import (which runs `git version`) would cost more than them.
    """
    cwd = Path(cwd).resolve()
    top = _git(cwd, ("rev-parse", "--show-toplevel"))[0] if _may_be_in_git(cwd) else None
    if top is None or not top.strip():
        return _plain_facts(cwd)
    root = Path(top.strip()).resolve()
    # Run in cwd, not the root, so the listing holds only what lies below the working
    # directory, with paths as the tools will take them.
    head, status, log, listing = _git(
        cwd,
        ("symbolic-ref", "--short", "-q", "HEAD"),
        ("status", "--porcelain"),
        ("log", f"-{RECENT_COMMITS}", "--format=%h %s"),
        ("ls-files", "--cached", "--others", "--exclude-standard", "-z"),
    )
    log = log or ""
    if listing is None:
        files = _walk_files(cwd, OVERVIEW_MAX_FILES)
    else:
        files = sorted({f for f in listing.split("\0") if f})
    return RepoFacts(
        cwd=cwd,
        root=root,
        is_git=True,
        branch=(head or "").strip() or None,
        # an empty status reads as "clean", which a failed command must not claim
        status=STATUS_UNAVAILABLE if status is None else _cap_lines(status.rstrip("\n"), STATUS_MAX_LINES),
        recent_commits=tuple(line for line in log.splitlines() if line.strip()),
        overview=render_overview(files) if files and len(files) <= OVERVIEW_MAX_FILES else "",
    )


def _plain_facts(cwd: Path) -> RepoFacts:
    files = _walk_files(cwd, OVERVIEW_MAX_FILES)
    return RepoFacts(
        cwd=cwd,
        root=cwd,
        is_git=False,
        branch=None,
        status="",
        recent_commits=(),
        overview="" if files is None else render_overview(files),
    )


def _may_be_in_git(cwd: Path) -> bool:
    """False only when git could not find a repository either: no .git in `cwd` or above it,
    and no GIT_DIR pointing elsewhere. Saves starting git for a folder that is not one."""
    if os.environ.get("GIT_DIR"):
        return True
    return any(os.path.lexists(folder / ".git") for folder in (cwd, *cwd.parents))


def _git(cwd: Path, *commands: tuple[str, ...]) -> list[str | None]:
    """Output of each read-only git command, run side by side; None for one that fails (not a
    repository, no commits yet, no git on this machine)."""
    # Plain subprocess, not GitPython (vcs/): this runs on the first-prompt path, and
    # GitPython's import alone runs `git version` and costs 60-70 ms.
    import subprocess

    from glmcode.keys import child_env

    # A status must not take the index lock from the user's own git; and the repository's
    # configuration can make git run commands (fsmonitor, filters), which get no API key,
    # as any command glmcode starts.
    env = child_env({"GIT_OPTIONAL_LOCKS": "0"})
    started: list[subprocess.Popen[str] | None] = []
    for args in commands:
        try:
            started.append(subprocess.Popen(
                ["git", *args], cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, encoding="utf-8", errors="replace", env=env,
            ))
        except OSError:
            started.append(None)
    outputs: list[str | None] = []
    for proc in started:
        if proc is None:
            outputs.append(None)
            continue
        out, _ = proc.communicate()
        outputs.append(out if proc.returncode == 0 else None)
    return outputs


def _platform() -> str:
    """The system and machine, as platform.system() and platform.machine() name them; on
    POSIX they read os.uname, which costs nothing to import."""
    if hasattr(os, "uname"):
        return f"{os.uname().sysname} {os.uname().machine}"
    import platform

    return f"{platform.system()} {platform.machine()}"


def _cap_lines(text: str, limit: int) -> str:
    lines = text.splitlines()
    if len(lines) <= limit:
        return "\n".join(lines)
    return "\n".join([*lines[:limit], f"... {len(lines) - limit} more"])


def _walk_files(top: Path, limit: int) -> list[str] | None:
    """Relative paths of the files under `top`, skipping hidden and junk folders; None as soon
    as there are more than `limit`, so a walk of a huge tree stops early."""
    found: list[str] = []
    for folder, dirs, names in os.walk(top):
        dirs[:] = sorted(
            d for d in dirs
            if not d.startswith(".") and d not in JUNK_DIRS and not d.endswith(".egg-info")
        )
        rel = Path(folder).relative_to(top)
        for name in names:
            found.append((rel / name).as_posix())
            if len(found) > limit:
                return None
    return sorted(found)


def render_overview(files: list[str]) -> str:
    """Files grouped by folder, one line per folder (`src/pkg/: a.py, b.py`), capped so a
    crowded folder or a deep tree cannot crowd out the rest of the prompt."""
    groups: dict[str, list[str]] = {}
    for f in files:
        folder, _, name = f.rpartition("/")
        groups.setdefault(f"{folder}/" if folder else "./", []).append(name)
    lines: list[str] = []
    size = 0
    shown = 0
    for folder in sorted(groups):
        names = sorted(groups[folder])
        line = f"{folder}:"
        count = 0
        for name in names:
            piece = f" {name}" if count == 0 else f", {name}"
            if len(line) + len(piece) > OVERVIEW_LINE_MAX_CHARS:
                line += f", ... (+{len(names) - count})"
                break
            line += piece
            count += 1
        if size + len(line) + 1 > OVERVIEW_MAX_BYTES:
            break
        lines.append(line)
        size += len(line) + 1
        shown += len(names)
    if shown < len(files):
        lines.append(f"... {len(files) - shown} more files in folders not listed")
    return "\n".join(lines)


def find_memory_files(cwd: Path, root: Path, user_config_dir: Path) -> list[MemoryFile]:
    """The user's global AGENTS.md, then AGENTS.md and GLMCODE.md in each folder from the
    repository root down to `cwd`. Later files are nearer to the work and win a disagreement,
    so when the total cap bites it is the farthest files that lose their text first."""
    cwd = Path(cwd).resolve()
    root = Path(root).resolve()
    try:
        parts = cwd.relative_to(root).parts
        folders = [root, *(root.joinpath(*parts[: i + 1]) for i in range(len(parts)))]
    except ValueError:
        folders = [cwd]
    candidates = [Path(user_config_dir) / GLOBAL_MEMORY_NAME]
    candidates += [folder / name for folder in folders for name in MEMORY_NAMES]

    texts: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for path in candidates:
        text = _read_memory(path)
        if text is None or path.resolve() in seen:
            continue
        seen.add(path.resolve())
        texts.append((path, text))

    budget = MEMORY_TOTAL_CAP
    picked: list[MemoryFile] = []
    for path, text in reversed(texts):
        kept = text[: min(MEMORY_FILE_CAP, budget)]
        budget -= len(kept)
        picked.append(MemoryFile(path=path, text=kept, truncated=len(kept) < len(text)))
    picked.reverse()
    return picked


def _read_memory(path: Path) -> str | None:
    """The file's text, or None when it is missing, unreadable or blank."""
    try:
        if not path.is_file():
            return None
        text = path.read_bytes().decode("utf-8", errors="replace").strip()
    except OSError:
        return None
    return text or None


def build_system_prompt(
    cwd: Path, *, user_config_dir: Path, model: str, today: str | None = None
) -> str:
    """The whole system message: instructions, environment, memory files."""
    facts = gather_repo_facts(cwd)
    memory = find_memory_files(facts.cwd, facts.root, user_config_dir)
    date = today if today is not None else datetime.date.today().isoformat()
    parts = [
        PROMPT_FILE.read_text(encoding="utf-8").strip(),
        render_environment(facts, model=model, today=date),
    ]
    if memory:
        parts.append(render_memory(memory))
    return "\n\n".join(parts) + "\n"


def render_environment(facts: RepoFacts, *, model: str, today: str) -> str:
    lines = [
        "# Environment",
        f"- Working directory: {facts.cwd}",
    ]
    if facts.is_git:
        if facts.root != facts.cwd:
            lines.append(f"- Repository root: {facts.root}")
        lines.append(f"- Git branch: {_describe_head(facts)}")
    else:
        lines.append("- Not a git repository")
    lines += [
        f"- Date: {today}",
        f"- Platform: {_platform()}".rstrip(),
        f"- Model: {model}",
    ]
    if facts.is_git:
        lines += [
            "",
            "## Git status (porcelain, paths from the repository root)",
            "```",
            facts.status or "(clean)",
            "```",
        ]
        if facts.recent_commits:
            lines += ["", "## Recent commits", "```", *facts.recent_commits, "```"]
    if facts.overview:
        lines += ["", "## Files in the working directory", "```", facts.overview, "```"]
    return "\n".join(lines)


def _describe_head(facts: RepoFacts) -> str:
    if facts.branch is not None:
        # with git failing, an empty log says nothing about whether commits exist
        if facts.recent_commits or facts.status == STATUS_UNAVAILABLE:
            return facts.branch
        return f"{facts.branch} (no commits yet)"
    if facts.recent_commits:
        return f"detached at {facts.recent_commits[0].split(' ', 1)[0]}"
    return "detached"


def render_memory(memory: list[MemoryFile]) -> str:
    blocks = [
        "# Memory files\n"
        "Standing instructions from the user and the project. Follow them; where two "
        "disagree, the later one (nearer the working directory) wins."
    ]
    for m in memory:
        block = f"## {m.path}\n{m.text.rstrip()}"
        if m.truncated:
            block += (
                f"\n[truncated: only part of {m.path.name} fits in the memory budget; "
                "read the file for the rest]"
            )
        blocks.append(block)
    return "\n\n".join(blocks)


def main(argv: list[str] | None = None) -> int:
    """`python -m glmcode.agent.context [FOLDER]`: print the system prompt glmcode would send
    from FOLDER, to check what the model is told."""
    import argparse

    from glmcode.paths import config_dir

    parser = argparse.ArgumentParser(
        prog="python -m glmcode.agent.context",
        description="Print the system prompt glmcode builds for a folder.",
    )
    parser.add_argument("folder", nargs="?", default=".", help="working directory (default: .)")
    parser.add_argument("--model", default="glm-4.6", help="model name shown in the prompt")
    parser.add_argument("--config-dir", type=Path, default=None, help="glmcode config folder")
    args = parser.parse_args(argv)
    text = build_system_prompt(
        Path(args.folder),
        user_config_dir=args.config_dir or config_dir(),
        model=args.model,
    )
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
