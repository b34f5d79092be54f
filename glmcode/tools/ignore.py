"""Which files a search sees when ripgrep is not there to decide, decided the way ripgrep
does: the rules of `.gitignore`, `.git/info/exclude`, `.ignore` and `.rgignore` files, hidden
entries left out, symlinks not followed, entries in the order of `rg --sort path`. Also the
glob patterns the grep and glob tools take. Both kinds of pattern go through one translation
to regular expressions, with ripgrep's semantics: `*` never crosses a slash, and a rule
matches a path itself, not the files below a matching folder."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from glmcode.globs import glob_to_regex

# Ignore files by precedence, as ripgrep ranks them: a match in an earlier kind of file, at
# any depth, wins over any match in a later kind; within one kind the deepest folder wins.
RULE_FILES = (".rgignore", ".ignore", ".gitignore", ".git/info/exclude")
# Rules from these apply only inside a git repository, or everywhere when there is none.
GIT_RULE_FILES = frozenset({".gitignore", ".git/info/exclude"})


def git_root(path: Path) -> Path | None:
    """The nearest folder at or above `path` that holds a `.git`."""
    start = path if path.is_dir() else path.parent
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


@dataclass(frozen=True)
class Rule:
    """One line of an ignore file."""

    regex: re.Pattern[str]
    ignores: bool  # False for a `!pattern` that re-includes
    dirs_only: bool  # the pattern ended with a slash

    @classmethod
    def parse(cls, line: str) -> Rule | None:
        if not line or line.startswith("#"):
            return None
        while line.endswith(" ") and not line.endswith("\\ "):
            line = line[:-1]
        ignores = not line.startswith("!")
        line = line if ignores else line[1:]
        dirs_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            return None
        return cls(re.compile(_glob_regex(line)), ignores, dirs_only)


@dataclass(frozen=True)
class Rules:
    """The ignore rules found in one folder, one tuple per kind of file in RULE_FILES,
    matched against paths relative to the folder."""

    base: Path
    kinds: tuple[tuple[Rule, ...], ...]

    @classmethod
    def read(cls, folder: Path, git_rules: bool) -> Rules | None:
        kinds = []
        for name in RULE_FILES:
            rules: list[Rule] = []
            if git_rules or name not in GIT_RULE_FILES:
                try:
                    text = (folder / name).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    text = ""
                rules = [r for r in map(Rule.parse, text.splitlines()) if r is not None]
            kinds.append(tuple(rules))
        return cls(folder, tuple(kinds)) if any(kinds) else None

    def verdict(self, kind: int, path: Path, is_dir: bool) -> bool | None:
        """True when the last matching rule of that kind ignores `path`, False when it
        re-includes it (`!pattern`), None when no rule matches. A rule matches the path
        itself, never a folder above it: that folder was skipped already, unless the search
        was asked to look inside it."""
        rules = self.kinds[kind]
        if not rules:
            return None
        rel = path.relative_to(self.base).as_posix()
        for rule in reversed(rules):
            if (is_dir or not rule.dirs_only) and rule.regex.fullmatch(rel):
                return rule.ignores
        return None


def walk_files(root: Path, include_hidden: bool = False) -> Iterator[Path]:
    """The files under `root` a search should see: what `rg --files` lists, in the order
    `rg --sort path` gives. `root` itself is always searched, even if hidden or ignored;
    `.git` folders are never entered."""
    if not root.is_dir():
        yield root
        return
    repo = git_root(root)
    chain: list[Rules] = []
    for folder in reversed((root, *root.parents)):
        rules = Rules.read(folder, _git_rules_apply(folder, repo))
        if rules is not None:
            chain.append(rules)
    yield from _walk(root, chain, repo, include_hidden)


def _walk(
    folder: Path, chain: list[Rules], repo: Path | None, include_hidden: bool
) -> Iterator[Path]:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: os.fsencode(e.name))
    except OSError:
        return
    for entry in entries:
        if entry.name == ".git" or (entry.name.startswith(".") and not include_hidden):
            continue
        if entry.is_symlink():
            continue
        path = Path(entry.path)
        is_dir = entry.is_dir(follow_symlinks=False)
        if _ignored(chain, path, is_dir):
            continue
        if is_dir:
            rules = Rules.read(path, _git_rules_apply(path, repo))
            yield from _walk(path, chain + [rules] if rules else chain, repo, include_hidden)
        elif entry.is_file(follow_symlinks=False):
            yield path


def _git_rules_apply(folder: Path, repo: Path | None) -> bool:
    # ripgrep is told to honour git rules everywhere when the search is outside any
    # repository; inside one, only from the repository's top down.
    return repo is None or folder == repo or folder.is_relative_to(repo)


def _ignored(chain: list[Rules], path: Path, is_dir: bool) -> bool:
    for kind in range(len(RULE_FILES)):
        for rules in reversed(chain):
            verdict = rules.verdict(kind, path, is_dir)
            if verdict is not None:
                return verdict
    return False


@dataclass(frozen=True)
class GlobFilter:
    """A glob such as `*.py`, `src/**/*.ts` or `*.{js,jsx}`, matched against a file's path
    relative to the folder searched. `*` and `?` stay within a folder, `**` crosses folders;
    a pattern without a slash matches file names at any depth, one with a slash is anchored
    to the folder searched. A leading `!` keeps the files that do not match."""

    pattern: str
    negated: bool
    regexes: tuple[re.Pattern[str], ...]

    @classmethod
    def parse(cls, pattern: str) -> GlobFilter:
        text = pattern.strip()
        negated = text.startswith("!")
        text = text[1:] if negated else text
        text = text[2:] if text.startswith("./") else text
        if not text:
            raise ValueError(f"the glob {pattern!r} is empty")
        return cls(pattern, negated, tuple(re.compile(_glob_regex(p)) for p in expand_braces(text)))

    def matches(self, rel: str) -> bool:
        """Whether a file, given by its path relative to the folder searched, is kept."""
        return any(r.fullmatch(rel) for r in self.regexes) != self.negated

    @property
    def names_hidden(self) -> bool:
        """Whether the pattern asks for hidden entries by name (`.github/**`, `**/.env*`)."""
        parts = self.pattern.strip().lstrip("!").split("/")
        return any(p.startswith(".") and p not in (".", "..") for p in parts)

    @property
    def basename_only(self) -> bool:
        """Whether a positive pattern looks at file names only, so ripgrep can pre-filter."""
        return not self.negated and "/" not in self.pattern.strip()


def _glob_regex(pattern: str) -> str:
    """The regex, for `re.fullmatch`, of one glob whose braces are already expanded."""
    anchored = "/" in pattern.rstrip("/")
    pattern = pattern.lstrip("/")
    if pattern.endswith("/"):
        pattern += "**"
    return ("" if anchored else "(?:.*/)?") + glob_to_regex(pattern)


def expand_braces(pattern: str) -> list[str]:
    """`*.{ts,tsx}` -> [`*.ts`, `*.tsx`]; groups nest; a group without a comma stays as is."""
    depth = 0
    start = 0
    for i, ch in enumerate(pattern):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                options = _split_top_level(pattern[start + 1 : i])
                if len(options) > 1:
                    head, tail = pattern[:start], pattern[i + 1 :]
                    return [x for o in options for x in expand_braces(head + o + tail)]
    return [pattern]


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts
