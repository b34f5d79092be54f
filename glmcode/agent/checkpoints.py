"""Snapshots of the workspace in a shadow git repository, and putting files back from them.

The shadow repository lives under the state folder (`checkpoints/<project>/`) and is always
used as `git --git-dir=<shadow> --work-tree=<tree>` with an index of its own per session and
config of its own, so the user's `.git`, index, stash and config are never written (git runs
through `vcs.Runner`, which leaves out every GIT_ variable glmcode was started with). The user's
`.gitignore` files decide what is left out, as do files above a size cap; an unchanged tree
costs little to snapshot again, because git's index remembers each file's stat data and only
changed files are read.

In a git work tree, `<tree>` is its top folder and each session's index starts from the user's
(see checkpoint_base), so the first snapshot reads only what differs from it; a workspace below
the top is snapshotted as its own tree (`write-tree --prefix`). Elsewhere `<tree>` is the
workspace and a session starts from the newest index of an earlier one, or from nothing, when
the first snapshot reads every file and is refused above the folder limits.

Restoring compares a snapshot's tree with a fresh snapshot of the tree as it is now, so files
created or deleted by shell commands are found as well as those the edit tools wrote. Undoing one
run compares the snapshots taken before and after it instead, so it touches only what the run
changed.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from glmcode.agent.checkpoint_base import check_first, copy_newest, init_shadow, listed_paths, shadow_format, stat_key
from glmcode.agent.checkpoint_files import CheckpointError, prune_folders, read_batch, write_file, z_paths

if TYPE_CHECKING:
    from glmcode.agent.checkpoint_base import GitBase
    from glmcode.vcs import Runner

@dataclass(frozen=True)
class Limits:
    """Files above `max_file_bytes` are skipped. Outside a git repository, a first snapshot of
    more than `max_files` files or `max_total_bytes` is refused: it would slow the turn down,
    and such a folder needs a .gitignore first. In one, the first snapshot is refused only when
    what it must store beyond git's index (new and changed files) passes `max_total_bytes`."""

    max_file_bytes: int = 4 * 1024 * 1024
    max_files: int = 20_000
    max_total_bytes: int = 256 * 1024 * 1024


@dataclass(frozen=True)
class Snapshot:
    commit: str
    tree: str
    skipped: tuple[str, ...]  # files left out for their size


@dataclass(frozen=True)
class FileRestore:
    """What restoring does to one file: "restore" (changed since: written back), "delete"
    (created since: removed) or "recreate" (deleted since: written back)."""

    path: str
    action: str


class ShadowRepo:
    """One session's snapshots of `workspace`. Its methods may be called from two threads (a
    snapshot taken in the background while the model answers); they take turns."""

    def __init__(
        self,
        workspace: Path,
        git_dir: Path,
        *,
        session_id: str,
        limits: Limits = Limits(),
    ) -> None:
        self.workspace = Path(workspace).resolve()
        self.git_dir = Path(git_dir)
        self.session_id = session_id
        self.limits = limits
        self.index = self.git_dir / "glmcode-index" / session_id
        self.ref = f"refs/glmcode/{session_id}"
        self.notes: list[str] = []  # for the user: how checkpoints work here, when it matters
        self._top = self.workspace
        self._prefix = ""
        self._base: GitBase | str | None = None  # the user's repository, or why there is none
        self._seeded: tuple[int, int, int] | None = None  # the user's index as it was copied
        self._parent: str | None = None  # this session's newest snapshot, once known
        self._written: tuple[tuple[int, int, int], str] | None = None  # the index as of the last tree
        self._git_runner: Runner | None = None
        self._lock = threading.RLock()

    @classmethod
    def for_workspace(
        cls, workspace: Path, env: Mapping[str, str] | None, session_id: str, limits: Limits = Limits()
    ) -> ShadowRepo:
        from glmcode.paths import checkpoints_dir, project_key

        return cls(workspace, checkpoints_dir(env) / project_key(workspace), session_id=session_id, limits=limits)

    @property
    def from_git(self) -> bool:
        """Whether snapshots start from the user's git index (rather than from nothing)."""
        from glmcode.agent.checkpoint_base import GitBase

        return isinstance(self._base, GitBase)

    # -- git ----------------------------------------------------------------------------------

    def _runner(self) -> Runner:
        from glmcode.vcs import Runner

        if self._git_runner is None:
            env = {
                "GIT_DIR": str(self.git_dir),
                "GIT_WORK_TREE": str(self._top),
                "GIT_INDEX_FILE": str(self.index),
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_AUTHOR_NAME": "glmcode",
                "GIT_AUTHOR_EMAIL": "glmcode@localhost",
                "GIT_COMMITTER_NAME": "glmcode",
                "GIT_COMMITTER_EMAIL": "glmcode@localhost",
                "LC_ALL": "C",
            }
            self._git_runner = Runner(
                self.workspace,
                env,
                # No fsmonitor and no split index: a copy of the user's index may carry either,
                # and the shadow index must look at every file itself and stand alone.
                config=["core.autocrlf=false", "core.safecrlf=false", "core.fsmonitor=false",
                        "core.splitIndex=false"],
                # Any other GIT_ variable of glmcode's environment (a hook's GIT_OBJECT_DIRECTORY,
                # GIT_CONFIG_PARAMETERS) would reach into the user's repository or settings.
                drop=[name for name in os.environ if name.startswith("GIT_")],
                missing="git is not installed, so checkpoints (/undo, /rewind) are off",
            )
        return self._git_runner

    def _git(self, *args: str, stdin: bytes | None = None) -> bytes:
        from glmcode.vcs import GitError, GitFailed

        try:
            return self._runner().run(*args, stdin=stdin)
        except GitFailed as exc:
            detail = exc.stderr.splitlines()
            raise CheckpointError(f"git {args[0]} failed: {detail[-1] if detail else exc.status}") from None
        except GitError as exc:
            raise CheckpointError(str(exc)) from None

    def _ensure(self) -> str | None:
        """Readies the repository and this session's index; which limits the snapshot about to
        be taken is held to: "folder", "git" or None (none: it starts from an earlier one)."""
        from glmcode.agent.checkpoint_base import GitBase, find_base

        if self._base is None:
            self._base = find_base(self.workspace)
            if isinstance(self._base, GitBase):
                self._top, self._prefix = self._base.top, self._base.prefix
                self.index = self.git_dir / "glmcode-index" / "git" / self.session_id
                self._git_runner = None
        if not (self.git_dir / "HEAD").exists():
            init_shadow(self.git_dir, self._base.object_format if isinstance(self._base, GitBase) else "sha1", self._git)
        if isinstance(self._base, GitBase):
            try:
                return self._start_from_git(self._base)
            except CheckpointError as exc:
                self._fall_back(f"git's index could not be used here ({exc})")
        if not self.index.exists():
            copy_newest(self.index)
        return None if self.index.exists() else "folder"

    def _start_from_git(self, base: GitBase) -> str | None:
        """Copies the user's index again whenever it changed since the last copy: the files
        that differ from it are then the only ones read."""
        from glmcode.agent.checkpoint_base import seed_index

        if self._seeded is None:
            own = shadow_format(self.git_dir)
            if own != base.object_format:
                raise CheckpointError(f"its objects are {base.object_format}, the shadow repository's {own}")
        key = stat_key(base.index)
        if key == self._seeded and self.index.exists():
            return None
        try:
            seed_index(base, self.git_dir, self.index, self._git, self.workspace, self.limits.max_file_bytes)
        except OSError as exc:
            raise CheckpointError(f"{exc.strerror}: {exc.filename}") from None
        self._seeded = key
        return "git"

    def _fall_back(self, why: str) -> None:
        """Snapshots as outside a git repository from now on, and the user is told why."""
        self.index.unlink(missing_ok=True)
        self._base = why
        self._top, self._prefix = self.workspace, ""
        self.index = self.git_dir / "glmcode-index" / self.session_id
        self._git_runner = None
        limit = f"{self.limits.max_files:,} files and {self.limits.max_total_bytes // (1024 * 1024)} MB"
        self.notes.append(f"Checkpoints: {why}, so the first snapshot reads every file (up to {limit}).")

    # -- snapshots ----------------------------------------------------------------------------

    def write_tree(self) -> tuple[str, tuple[str, ...]]:
        """The workspace as it is now, as a tree in the shadow repository; and the files left
        out for their size."""
        with self._lock:
            return self._write_tree()

    def _write_tree(self) -> tuple[str, tuple[str, ...]]:
        limits = self._ensure()
        add: list[str] = []
        remove: list[str] = []
        skipped: list[str] = []
        total = 0
        for path in listed_paths(self._git):
            if path.endswith("/"):
                continue  # a repository nested inside: its own git keeps it
            try:
                st = os.lstat(self.workspace / path)
            except OSError:
                remove.append(path)
                continue
            if stat.S_ISDIR(st.st_mode):
                remove.append(path)
            elif stat.S_ISREG(st.st_mode) and st.st_size > self.limits.max_file_bytes:
                skipped.append(path)
                remove.append(path)
            elif stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
                add.append(path)
                total += st.st_size
        why = self._base if isinstance(self._base, str) else "git's index could not be used here"
        note = check_first(limits, why, len(add), total, self.limits.max_files, self.limits.max_total_bytes)
        if note:
            self.notes.append(note)
        if remove:
            self._git("update-index", "-z", "--force-remove", "--stdin", stdin=z_paths(remove))
        if add:
            self._git("update-index", "-z", "--add", "--remove", "--stdin", stdin=z_paths(add))
        if not add and not remove and self._written is not None and self._written[0] == stat_key(self.index):
            return self._written[1], tuple(sorted(skipped))  # nothing changed since that tree
        try:
            tree = self._git("write-tree", *([f"--prefix={self._prefix}"] if self._prefix else []))
        except CheckpointError as exc:
            if not self._prefix or "not found" not in str(exc):
                raise
            tree = self._git("mktree", stdin=b"")  # nothing below the workspace yet
        self._written = (stat_key(self.index), tree.decode().strip())
        return self._written[1], tuple(sorted(skipped))

    def snapshot(self, message: str, written: tuple[str, tuple[str, ...]] | None = None) -> Snapshot:
        """Records the workspace as a commit on this session's ref; `written` is what
        `write_tree` returned just now, when the workspace need not be read again."""
        with self._lock:
            tree, skipped = written or self._write_tree()
            ref = self.git_dir / self.ref
            if self._parent is None:
                try:
                    self._parent = ref.read_text(encoding="ascii").strip()
                except OSError:
                    self._parent = ""  # the session's first snapshot
            args = ["commit-tree", tree, "-m", message]
            if self._parent:
                args += ["-p", self._parent]
            commit = self._git(*args).decode().strip()
            # The ref is this session's alone and never packed (gc is off), so it is written as
            # git writes a loose ref, without another git run.
            ref.parent.mkdir(parents=True, exist_ok=True)
            temporary = ref.with_name(f"{ref.name}.{os.getpid()}.lock")
            temporary.write_text(commit + "\n", encoding="ascii")
            os.replace(temporary, ref)
            self._parent = commit
            return Snapshot(commit, tree, skipped)

    # -- restoring ----------------------------------------------------------------------------

    def changes(self, tree: str) -> list[FileRestore]:
        """What `restore(tree)` would do to the workspace as it is now."""
        current, _ = self.write_tree()
        result = []
        for status, path in self._diff(tree, current):
            if status == "A":
                action = "delete"
            elif status == "D":
                action = "restore" if os.path.lexists(self.workspace / path) else "recreate"
            else:
                action = "restore"
            result.append(FileRestore(path, action))
        return result

    def run_changes(self, before: str, after: str) -> tuple[list[FileRestore], list[str]]:
        """Putting back what one run changed, given the trees taken before and after it: each
        file that differs between them goes back to `before`. A file that no longer is as the
        run left it was changed since by someone else; it is left alone and returned apart."""
        current, _ = self.write_tree()
        since = {path for _, path in self._diff(after, current)}
        result: list[FileRestore] = []
        kept: list[str] = []
        for status, path in self._diff(before, after):
            if path in since:
                kept.append(path)
            elif status == "A":
                result.append(FileRestore(path, "delete"))
            else:
                result.append(FileRestore(path, "recreate" if status == "D" else "restore"))
        return result, kept

    def _diff(self, old: str, new: str) -> list[tuple[str, str]]:
        """(status, path) of every file that differs from tree `old` to tree `new`."""
        if old == new:
            return []
        out = self._git("diff-tree", "-r", "-z", "--no-renames", "--name-status", old, new)
        fields = out.decode("utf-8", "surrogateescape").split("\0")
        return list(zip(fields[0::2], fields[1::2]))

    def restore(self, tree: str, changes: Sequence[FileRestore]) -> None:
        """Puts the files of `changes` back as they are in `tree`."""
        with self._lock:
            self._restore(tree, changes)

    def _restore(self, tree: str, changes: Sequence[FileRestore]) -> None:
        wanted = {c.path for c in changes if c.action != "delete"}
        entries = self._entries(tree, wanted)
        blobs = self._blobs(entries)
        deleted = [c.path for c in changes if c.action == "delete"]
        # Deletions first: a file may come back where a folder of new files now stands.
        for path in deleted:
            target = self.workspace / path
            if target.is_symlink() or target.is_file():
                target.unlink()
        self._prune_dirs(deleted, tree)
        for change in changes:
            if change.action != "delete":
                mode, sha = entries[change.path]
                write_file(self.workspace / change.path, blobs[sha], mode, change.path)

    def _entries(self, tree: str, paths: Iterable[str]) -> dict[str, tuple[int, str]]:
        paths = set(paths)
        if not paths:
            return {}
        out = self._git("ls-tree", "-r", "-z", "--full-tree", tree).decode("utf-8", "surrogateescape")
        entries = {}
        for line in out.split("\0"):
            if not line:
                continue
            meta, _, path = line.partition("\t")
            if path in paths:
                mode, _, sha = meta.split(" ")
                entries[path] = (int(mode, 8), sha)
        missing = paths - set(entries)
        if missing:
            raise CheckpointError(f"the snapshot does not hold {sorted(missing)[0]}")
        return entries

    def _blobs(self, entries: dict[str, tuple[int, str]]) -> dict[str, bytes]:
        shas = sorted({sha for _, sha in entries.values()})
        if not shas:
            return {}
        out = self._git("cat-file", "--batch", stdin=("\n".join(shas) + "\n").encode())
        return read_batch(out, shas, {sha: path for path, (_, sha) in entries.items()})

    def _prune_dirs(self, deleted: list[str], tree: str) -> None:
        if deleted:
            listing = self._git("ls-tree", "-r", "-z", "--name-only", "--full-tree", tree)
            prune_folders(self.workspace, deleted, listing.decode("utf-8", "surrogateescape").split("\0"))
