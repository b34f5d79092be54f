"""Which entries of the user's git index name other bytes than the files on disk hold.

git converts a file on its way into the index when attributes or settings ask it to: line
endings (`text`, `eol`, `crlf`, `core.autocrlf`), filters (git-lfs keeps a pointer there),
`ident`, `working-tree-encoding`. Such an entry names converted content while its stat data
says the file is unchanged, so a snapshot that trusted it would put the converted bytes back.
Those files are read again with conversion off. Most repositories ask for none of this, which
reading the few places attributes come from tells; only when one of them mentions such an
attribute (or `core.autocrlf` is on) does git say which paths it covers.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from glmcode.agent.checkpoint_files import z_paths

if TYPE_CHECKING:
    from glmcode.vcs import Runner

CONVERTING = ("text", "eol", "crlf", "filter", "ident", "working-tree-encoding")
_MENTION = re.compile(rb"(?<![-!\w])(?:text|eol|crlf|filter|ident|working-tree-encoding)\b")
_ATTRIBUTE_FILES = re.compile(rb"\t((?:[^\0]*/)?\.gitattributes)(?=\0|$)")
_NO_VALUE = ("unspecified", "unset")
_TRUE = ("true", "yes", "on", "1", "input")


def converted_paths(top: Path, prefix: str, common_dir: Path, workspace: Path, listing: bytes) -> list[str]:
    """The paths of `listing` (`git ls-files -s -v -z` of the workspace) that git converts on
    the way into the index, read from the user's repository only."""
    from glmcode.vcs import GitFailed

    git = user_git(workspace)
    try:
        config = git.run("config", "-z", "--get-regexp", r"^core\.(autocrlf|attributesfile)$")
    except GitFailed:
        config = b""  # neither is set
    settings = dict(item.split("\n", 1) for item in config.decode("utf-8", "replace").split("\0") if "\n" in item)
    autocrlf = settings.get("core.autocrlf", "").lower() in _TRUE
    sources = [workspace / m.decode("utf-8", "surrogateescape") for m in _ATTRIBUTE_FILES.findall(listing)]
    parts = prefix.strip("/").split("/") if prefix else []
    sources += [top.joinpath(*parts[:n], ".gitattributes") for n in range(len(parts))]
    sources += [common_dir / "info" / "attributes", Path("/etc/gitattributes"), _global_attributes(settings)]
    if not autocrlf and not any(_mentions(path) for path in sources):
        return []
    paths = [line.partition(b"\t")[2].decode("utf-8", "surrogateescape") for line in listing.split(b"\0") if line]
    out = git.run("check-attr", "-z", "--stdin", *CONVERTING, stdin=z_paths(paths)).decode("utf-8", "surrogateescape")
    fields = out.split("\0")
    found: dict[str, dict[str, str]] = {}
    for path, attribute, value in zip(fields[0::3], fields[1::3], fields[2::3]):
        found.setdefault(path, {})[attribute] = value
    return [path for path, values in found.items() if _converts(values, autocrlf)]


def _converts(values: dict[str, str], autocrlf: bool) -> bool:
    text = values.get("text", "unspecified")
    if text == "unset":
        return values.get("filter", "unspecified") not in _NO_VALUE or values.get("ident") == "set" or (
            values.get("working-tree-encoding", "unspecified") not in _NO_VALUE)
    if text != "unspecified" or autocrlf:
        return True
    return any(values.get(name, "unspecified") not in _NO_VALUE for name in CONVERTING[1:])


def _mentions(path: Path) -> bool:
    try:
        return bool(_MENTION.search(path.read_bytes()))
    except OSError:
        return False


def _global_attributes(settings: dict[str, str]) -> Path:
    if "core.attributesfile" in settings:
        return Path(settings["core.attributesfile"]).expanduser()
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "git" / "attributes"


def user_git(workspace: Path) -> Runner:
    """git in the user's repository, to read it only: no optional locks (so nothing refreshes
    its index), and none of the GIT_ variables glmcode was started with."""
    from glmcode.vcs import Runner

    return Runner(
        workspace,
        {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
        drop=[name for name in os.environ if name.startswith("GIT_")],
        missing="git is not installed",
    )
