"""Where a shadow repository and its index start from, and what a snapshot reads.

In a git work tree the shadow repository borrows the user's object store (an `alternates`
file names it; git only reads from an alternate) and each session's index starts as a copy of
the user's index, file times kept. git already knows the content and the stat data of every
file that index holds, so a snapshot reads and hashes only the files that differ from it: what
was changed, created or deleted since the user's last git command. The user's repository is
only read: `git rev-parse` to find it (with optional locks off, so it refreshes nothing) and
file copies of its index.

The copy is made fit for a shadow index before it is used. A split index has its shared part
copied too and is written back whole; entries marked skip-worktree (sparse checkout) or
assume-unchanged lose the mark, because a snapshot must look at every file; submodules (gitlinks)
are dropped, since their own repositories keep them.

Outside git, a session starts from the newest index of an earlier one, or from nothing; such a
first snapshot reads every file, and `check_first` holds it to the folder limits.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from glmcode.agent.checkpoint_files import CheckpointError, z_paths

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
# The shadow repository's own settings: never collect garbage (its objects are undo history),
# cache what is untracked, and list paths unquoted.
SETTINGS = "[gc]\n\tauto = 0\n[core]\n\tuntrackedCache = true\n\tquotepath = false\n"


_GITLINK = "160000"
_NOT_PLAIN = re.compile(rb"(?:^|\0)((?:[^H\0]|H 160000 )[^\0]*)")
# A folder snapshotted from nothing that holds this many files earns a word on why it was slow.
_SLOW_FIRST_FILES = 1_000


@dataclass(frozen=True)
class GitBase:
    """The user's repository as a shadow index starts from it: its work tree `top`, the
    workspace's place below it (`prefix`: "" or "sub/dir/"), its index file and object store."""

    top: Path
    prefix: str
    index: Path
    objects: Path
    object_format: str


def find_base(workspace: Path) -> GitBase | str:
    """The git work tree that holds `workspace`; or, when there is none to start from, why."""
    from glmcode.agent.checkpoint_filters import user_git
    from glmcode.vcs import GitError, GitFailed

    runner = user_git(workspace)
    try:
        out = runner.text(
            "rev-parse", "--is-inside-work-tree", "--show-toplevel", "--show-prefix",
            "--git-path", "index", "--git-path", "objects", "--show-object-format",
        )
    except GitFailed as exc:
        if "not a git repository" in exc.stderr:
            return "the folder is not in a git repository"
        return f"git could not read the repository here ({_last_line(exc.stderr)})"
    except GitError as exc:
        return str(exc)
    lines = out.split("\n")
    if len(lines) != 6 or lines[0] != "true":
        return "the folder is not in a git work tree"
    _, top, prefix, index, objects, object_format = lines
    return GitBase(
        Path(top).resolve(),
        prefix,
        (workspace / index).resolve(),
        (workspace / objects).resolve(),
        object_format,
    )


def seed_index(
    base: GitBase, git_dir: Path, index: Path, git: Callable[..., bytes], workspace: Path, max_file_bytes: int
) -> None:
    """Makes `index` a shadow index copied from the user's (`git` runs the shadow repository's
    git with that index, in `workspace`). Raises what `git` raises when git cannot use the copy."""
    _link_objects(git_dir, base.objects)
    index.parent.mkdir(parents=True, exist_ok=True)
    if not base.index.exists():
        index.unlink(missing_ok=True)  # nothing added yet: an empty index is the same
        return
    # With its time kept: git trusts an entry's stat data only if the file changed before the
    # index was written, and a copy that claimed a later time would hide such changes.
    _copy(base.index, index)
    shared = sorted(base.index.parent.glob("sharedindex.*"))
    for path in shared:
        _copy(path, git_dir / path.name)
    if shared:
        try:
            git("update-index", "--no-split-index")
        finally:
            for path in shared:
                (git_dir / path.name).unlink(missing_ok=True)
    listing = git("ls-files", "-z", "-s", "-v")
    skip, assumed, gitlinks = _marked(listing)
    if skip:
        git("update-index", "-z", "--no-skip-worktree", "--stdin", stdin=z_paths(skip))
    if assumed:
        git("update-index", "-z", "--no-assume-unchanged", "--stdin", stdin=z_paths(assumed))
    if gitlinks:
        git("update-index", "-z", "--force-remove", "--stdin", stdin=z_paths(gitlinks))
    from glmcode.agent.checkpoint_filters import converted_paths

    converted = converted_paths(base.top, base.prefix, base.objects.parent, workspace, listing)
    if converted:
        # Taken out and added again, so git reads each file as it is instead of trusting its
        # stat data; those too large to snapshot stay out, and are listed as skipped.
        git("update-index", "-z", "--force-remove", "--stdin", stdin=z_paths(converted))
        again = [p for p in converted if _fits(workspace / p, max_file_bytes)]
        if again:
            git("update-index", "-z", "--add", "--stdin", stdin=z_paths(again))


def init_shadow(git_dir: Path, object_format: str, git: Callable[..., bytes]) -> None:
    """Creates the shadow repository, with objects named as the user's repository names them."""
    git_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    git("init", "--quiet", f"--object-format={object_format}")
    with open(git_dir / "config", "a", encoding="utf-8") as config:
        config.write(SETTINGS)  # as `git config` would add them, without three more runs
    info = git_dir / "info"
    info.mkdir(exist_ok=True)
    (info / "exclude").write_text("\n".join(DEFAULT_EXCLUDES) + "\n", encoding="utf-8")
    (info / "attributes").write_text(ATTRIBUTES, encoding="utf-8")


def shadow_format(git_dir: Path) -> str:
    """The object format the shadow repository was made with (git writes it in the config)."""
    config = (git_dir / "config").read_text(encoding="utf-8", errors="replace")
    return "sha256" if re.search(r"objectformat\s*=\s*sha256", config, re.IGNORECASE) else "sha1"


def listed_paths(git: Callable[..., bytes]) -> list[str]:
    """Every path that may differ from the shadow index: tracked ones whose stat data changed
    (git rereads them when they are added again, which also refreshes that data) and untracked
    ones. The two listings walk the tree side by side."""
    tracked: list[bytes] = []
    failed: list[CheckpointError] = []

    def list_tracked() -> None:
        try:
            # The pathspec keeps a workspace below the top from looking at the rest of the tree.
            tracked.append(git("diff-files", "--name-only", "-z", "--relative", "--ignore-submodules", "--", "."))
        except CheckpointError as exc:
            failed.append(exc)

    thread = threading.Thread(target=list_tracked, name="glmcode-diff-files")
    thread.start()
    try:
        others = git("ls-files", "-z", "--others", "--exclude-standard")
    finally:
        thread.join()
    if failed:
        raise failed[0]
    listed = b"".join(tracked) + others
    return list(dict.fromkeys(p for p in listed.decode("utf-8", "surrogateescape").split("\0") if p))


def stat_key(path: Path) -> tuple[int, int, int]:
    """Enough of a file's stat data to tell that it was rewritten: git replaces its index."""
    try:
        st = path.stat()
    except OSError:
        return (0, 0, 0)
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def copy_newest(index: Path) -> None:
    """Outside a git repository a new session starts from the newest index of an earlier one
    of this workspace: its stat data is what makes snapshotting an unchanged tree cheap."""
    index.parent.mkdir(parents=True, exist_ok=True)
    others = [p for p in index.parent.iterdir() if p.is_file() and not p.name.endswith((".lock", ".copy"))]
    if not others:
        return
    try:
        _copy(max(others, key=lambda p: p.stat().st_mtime), index)
    except OSError:
        index.unlink(missing_ok=True)


def check_first(limits: str | None, why: str, files: int, total: int, max_files: int, max_total: int) -> str | None:
    """Refuses a first snapshot that would store too much (`limits`: "git" holds it to what it
    adds beyond git's index, "folder" to the whole folder, None to nothing); a note for the user
    when a folder's first snapshot read many files. `why`: why snapshots start from nothing."""
    mb, cap = total / 1e6, max_total / 1e6
    if limits == "git" and total > max_total:
        raise CheckpointError(
            f"a first snapshot would store {files:,} files ({mb:,.0f} MB) that git's index does not hold "
            f"and .gitignore does not exclude, over the {cap:,.0f} MB limit; add them to .gitignore, "
            "since /undo and /rewind are off this session"
        )
    if limits != "folder":
        return None
    if files > max_files or total > max_total:
        raise CheckpointError(
            f"the workspace holds {files:,} files ({mb:,.0f} MB) that .gitignore does not exclude, and "
            f"{why}, so a first snapshot would read them all; that is too many to checkpoint (the limit is "
            f"{max_files:,} files or {cap:,.0f} MB), so /undo and /rewind are off this session"
        )
    if files >= _SLOW_FIRST_FILES:
        return (f"Checkpoints: {why}, so the first snapshot read all {files:,} files; "
                "in a git repository only the files that differ from git's index are read.")
    return None


def _marked(listing: bytes) -> tuple[list[str], list[str], list[str]]:
    """From `ls-files -s -v`: the paths marked skip-worktree, those marked assume-unchanged,
    and the gitlinks."""
    skip: list[str] = []
    assumed: list[str] = []
    gitlinks: list[str] = []
    # Nearly every entry is a plain "H" one; a search finds the others without splitting
    # a listing that holds every file of the repository.
    for found in _NOT_PLAIN.finditer(listing):
        meta, _, path = found.group(1).decode("utf-8", "surrogateescape").partition("\t")
        tag, mode = meta[0], meta[2:8]
        if tag in "Ss":
            skip.append(path)
        if tag.islower():
            assumed.append(path)
        if mode == _GITLINK:
            gitlinks.append(path)
    # Paths come back relative to the workspace; ls-files lists each unmerged path once a stage.
    return list(dict.fromkeys(skip)), list(dict.fromkeys(assumed)), list(dict.fromkeys(gitlinks))


def _fits(path: Path, max_bytes: int) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISLNK(st.st_mode) or (stat.S_ISREG(st.st_mode) and st.st_size <= max_bytes)


def _link_objects(git_dir: Path, objects: Path) -> None:
    alternates = git_dir / "objects" / "info" / "alternates"
    wanted = f"{objects}\n"
    try:
        if alternates.read_text(encoding="utf-8") == wanted:
            return
    except OSError:
        pass
    alternates.parent.mkdir(parents=True, exist_ok=True)
    temporary = alternates.with_name(f"alternates.{os.getpid()}")
    temporary.write_text(wanted, encoding="utf-8")
    os.replace(temporary, alternates)


def _copy(source: Path, target: Path) -> None:
    """A whole copy or none: the user's git replaces its index by renaming, so the file opened
    is one consistent version however busy that repository is."""
    temporary = target.with_name(f"{target.name}.{os.getpid()}.copy")
    try:
        shutil.copy2(source, temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else "no message"
