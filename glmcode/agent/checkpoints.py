"""Snapshots of the workspace in a shadow git repository, and putting files back from them.

The shadow repository lives under the state folder (`checkpoints/<project>/`) and is always
used as `git --git-dir=<shadow> --work-tree=<workspace>` with an index of its own per session,
so the user's `.git`, index, stash and config are never read or written (git runs through
`vcs.Runner`, which leaves out every GIT_ variable glmcode was started with). The user's
`.gitignore` files decide what is left out, as do files above a size cap; an unchanged tree
costs little to snapshot again, because git's index remembers each file's stat data and only
changed files are read.

Restoring compares a snapshot's tree with a fresh snapshot of the tree as it is now, so files
created or deleted by shell commands are found as well as those the edit tools wrote. Undoing one
run compares the snapshots taken before and after it instead, so it touches only what the run
changed.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glmcode.vcs import Runner

# What a shadow snapshot never holds, on top of the user's ignore files: the edit tools'
# temporary files, and folders that are rebuilt rather than written.
DEFAULT_EXCLUDES = (
    "*.glmcode-tmp",
    "node_modules/",
    "__pycache__/",
    ".venv/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".tox/",
    ".DS_Store",
)
# In-tree .gitattributes could ask for line-ending conversion or filters (git-lfs) on the
# way in or out; a snapshot must hold the bytes as they are, so every such attribute is unset.
ATTRIBUTES = "* -text -filter -ident !eol !working-tree-encoding\n"
_SYMLINK = 0o120000


class CheckpointError(Exception):
    """A snapshot or a restore could not be made; the message says why."""


@dataclass(frozen=True)
class Limits:
    """Files above `max_file_bytes` are skipped. A first snapshot of more than `max_files`
    files or `max_total_bytes` is refused: it would slow the turn down, and such a folder
    needs a .gitignore first."""

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
        self._git_runner: Runner | None = None

    @classmethod
    def for_workspace(
        cls, workspace: Path, env: Mapping[str, str] | None, session_id: str, limits: Limits = Limits()
    ) -> ShadowRepo:
        from glmcode.paths import checkpoints_dir, project_key

        return cls(workspace, checkpoints_dir(env) / project_key(workspace), session_id=session_id, limits=limits)

    # -- git ----------------------------------------------------------------------------------

    def _runner(self) -> Runner:
        from glmcode.vcs import Runner

        if self._git_runner is None:
            env = {
                "GIT_DIR": str(self.git_dir),
                "GIT_WORK_TREE": str(self.workspace),
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
                config=["core.autocrlf=false", "core.safecrlf=false", "core.fsmonitor=false"],
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

    def _ensure(self) -> None:
        if not (self.git_dir / "HEAD").exists():
            self.git_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._git("init", "--quiet")
            for key, value in (("gc.auto", "0"), ("core.untrackedCache", "true"), ("core.quotepath", "false")):
                self._git("config", key, value)
            info = self.git_dir / "info"
            info.mkdir(exist_ok=True)
            (info / "exclude").write_text("\n".join(DEFAULT_EXCLUDES) + "\n", encoding="utf-8")
            (info / "attributes").write_text(ATTRIBUTES, encoding="utf-8")
        if not self.index.exists():
            self._seed_index()

    def _seed_index(self) -> None:
        """A new session starts from the newest index of this workspace: its stat data is
        what makes snapshotting an unchanged tree cheap."""
        self.index.parent.mkdir(parents=True, exist_ok=True)
        others = [p for p in self.index.parent.iterdir() if p.is_file() and not p.name.endswith(".lock")]
        if not others:
            return
        newest = max(others, key=lambda p: p.stat().st_mtime)
        try:
            # With its time kept: git trusts an entry's stat data only if the file changed before
            # the index was written, and a copy made now would claim a later time.
            shutil.copy2(newest, self.index)
        except OSError:
            self.index.unlink(missing_ok=True)

    # -- snapshots ----------------------------------------------------------------------------

    def write_tree(self) -> tuple[str, tuple[str, ...]]:
        """The workspace as it is now, as a tree in the shadow repository; and the files left
        out for their size."""
        self._ensure()
        first = not self.index.exists()
        listed = self._git("ls-files", "-z", "--others", "--modified", "--exclude-standard")
        add: list[str] = []
        remove: list[str] = []
        skipped: list[str] = []
        total = 0
        for path in dict.fromkeys(p for p in listed.decode("utf-8", "surrogateescape").split("\0") if p):
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
        if first and (len(add) > self.limits.max_files or total > self.limits.max_total_bytes):
            raise CheckpointError(
                f"the workspace holds {len(add):,} files ({total / 1e6:,.0f} MB) that .gitignore does "
                "not exclude; that is too many to checkpoint, so /undo and /rewind are off this session"
            )
        if remove:
            self._git("update-index", "-z", "--force-remove", "--stdin", stdin=_paths(remove))
        if add:
            self._git("update-index", "-z", "--add", "--remove", "--stdin", stdin=_paths(add))
        tree = self._git("write-tree").decode().strip()
        return tree, tuple(sorted(skipped))

    def snapshot(self, message: str) -> Snapshot:
        """Records the workspace as a commit on this session's ref."""
        tree, skipped = self.write_tree()
        try:
            parent = self._git("rev-parse", "--verify", "--quiet", self.ref).decode().strip()
        except CheckpointError:
            parent = ""  # the session's first snapshot
        args = ["commit-tree", tree, "-m", message]
        if parent:
            args += ["-p", parent]
        commit = self._git(*args).decode().strip()
        self._git("update-ref", self.ref, commit)
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
        wanted = {c.path for c in changes if c.action != "delete"}
        entries = self._entries(tree, wanted)
        blobs = self._blobs(sorted({sha for _, sha in entries.values()}))
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
                _write(self.workspace / change.path, blobs[sha], mode, change.path)

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

    def _blobs(self, shas: list[str]) -> dict[str, bytes]:
        if not shas:
            return {}
        out = self._git("cat-file", "--batch", stdin=("\n".join(shas) + "\n").encode())
        blobs: dict[str, bytes] = {}
        pos = 0
        for sha in shas:
            end = out.index(b"\n", pos)
            size = int(out[pos:end].split()[2])
            blobs[sha] = out[end + 1 : end + 1 + size]
            pos = end + 1 + size + 1
        return blobs

    def _prune_dirs(self, deleted: list[str], tree: str) -> None:
        """Folders left empty by deleting files the snapshot did not have go too, unless the
        snapshot had something in them."""
        if not deleted:
            return
        kept = set()
        out = self._git("ls-tree", "-r", "-z", "--name-only", "--full-tree", tree).decode("utf-8", "surrogateescape")
        for path in out.split("\0"):
            parts = path.split("/")[:-1]
            kept.update("/".join(parts[: n + 1]) for n in range(len(parts)))
        for path in deleted:
            parts = path.split("/")[:-1]
            for n in range(len(parts), 0, -1):
                folder = "/".join(parts[:n])
                if folder in kept:
                    break
                try:
                    (self.workspace / folder).rmdir()
                except OSError:
                    break


def _paths(paths: list[str]) -> bytes:
    return b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in paths)


def _write(target: Path, data: bytes, mode: int, shown: str) -> None:
    from glmcode.tools.changes import write_atomic

    if target.is_dir() and not target.is_symlink():
        try:
            target.rmdir()
        except OSError:
            raise CheckpointError(
                f"{shown} is a folder now, holding files the snapshot does not have; move them away and try again"
            ) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    if stat.S_IFMT(mode) == _SYMLINK:
        if target.is_symlink() or target.exists():
            target.unlink()
        os.symlink(os.fsdecode(data), target)
        return
    if target.is_symlink():
        target.unlink()  # write_atomic would write through the link
    executable = bool(mode & 0o111)
    try:
        current = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        write_atomic(target, data)
        if executable:
            current = stat.S_IMODE(target.stat().st_mode)
            os.chmod(target, current | (current & 0o444) >> 2)
        return
    if executable and not current & 0o111:
        current |= (current & 0o444) >> 2
    elif not executable:
        current &= ~0o111
    write_atomic(target, data, current)
