"""What a sandboxed command may see and write: everything readable but the secrets, the
workspace and the added folders writable (unless the sandbox is read-only), and inside them
the files that make git or glmcode run code kept read-only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from glmcode.sandbox.secrets import secret_paths, socket_paths

SANDBOX_MODES: tuple[str, ...] = ("workspace-write", "read-only", "off")
# Inside a writable folder, what stays read-only: a hook or a config entry (core.fsmonitor,
# a filter, an alias) runs code the next time the user runs git, and .glmcode/ holds the
# project's own permissions.
PROTECTED: tuple[str, ...] = (".git/hooks", ".git/config", ".glmcode")


def sandbox_strictness(mode: str) -> int:
    """Higher is stricter: read-only 2, workspace-write 1, off 0."""
    return len(SANDBOX_MODES) - 1 - SANDBOX_MODES.index(mode)


@dataclass(frozen=True)
class SandboxPolicy:
    mode: str  # "workspace-write" or "read-only"
    network: bool
    workspace: Path
    roots: tuple[Path, ...]  # the workspace and the added folders, seen whatever the mode
    writable: tuple[Path, ...]  # empty when read-only
    protected: tuple[Path, ...]  # inside `writable`, kept read-only
    hidden: tuple[Path, ...]  # replaced by something empty

    @property
    def read_only(self) -> bool:
        return self.mode == "read-only"


def _git_dirs(root: Path) -> list[Path]:
    """A worktree's `.git` is a file naming its git folder elsewhere; commits write there and
    in the main repository's folder, so both must be writable for `git commit` to work."""
    dot_git = root / ".git"
    if not dot_git.is_file():
        return []
    try:
        line = dot_git.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return []
    if not line.startswith("gitdir:"):
        return []
    gitdir = (root / line.removeprefix("gitdir:").strip()).resolve()
    dirs = [gitdir]
    try:
        common = (gitdir / (gitdir / "commondir").read_text(encoding="utf-8").strip()).resolve()
    except (OSError, UnicodeDecodeError):
        return dirs
    return [*dirs, common]


def build_policy(
    mode: str,
    network: bool,
    workspace: Path,
    extra_dirs: Sequence[Path] = (),
    env: Mapping[str, str] | None = None,
) -> SandboxPolicy:
    if mode not in SANDBOX_MODES or mode == "off":
        raise ValueError(f"no sandbox policy for mode {mode!r}")
    workspace = workspace.resolve()
    roots = list(dict.fromkeys([workspace, *(d.resolve() for d in extra_dirs)]))
    writable: list[Path] = []
    protected: list[Path] = []
    if mode == "workspace-write":
        for root in roots:
            writable.append(root)
            protected.extend(root / name for name in PROTECTED)
            for git_dir in _git_dirs(root):
                if git_dir not in writable:
                    writable.append(git_dir)
                protected.extend((git_dir / "hooks", git_dir / "config"))
    return SandboxPolicy(
        mode=mode,
        network=network,
        workspace=workspace,
        roots=tuple(roots),
        writable=tuple(writable),
        protected=tuple(dict.fromkeys(protected)),
        hidden=tuple(s for s in (*secret_paths(env), *socket_paths(env)) if not _holds_any(s, (workspace, *roots))),
    )


def _holds_any(folder: Path, paths: Sequence[Path]) -> bool:
    # Hiding a folder that holds the workspace would hide the work itself.
    return any(p == folder or p.is_relative_to(folder) for p in paths)
