"""The permission policy: for each tool call, whether it runs, asks the user first, or is refused.

Order of decision: deny rules, then allow rules (config and "always" answers), then the mode.
Shell commands are read with shlex; anything the reader cannot see through (command
substitution, subshells, here-documents, writes through redirection) is treated as a command
that may change things. Keeping writes inside the workspace is not decided here: every tool
goes through `ToolContext.writable` for that.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from glmcode.globs import glob_to_regex

# Strictest first: a mode further down the list allows more.
MODES: tuple[str, ...] = ("read-only", "ask", "auto-edit", "full-auto")
KINDS: tuple[str, ...] = ("read", "edit", "shell", "meta")
SHELL_TOOL = "run_shell"


PROTECTED_FOLDERS = frozenset({".git", ".glmcode"})


def mode_strictness(mode: str) -> int:
    """Higher is stricter: read-only 3, ask 2, auto-edit 1, full-auto 0."""
    return len(MODES) - 1 - MODES.index(mode)


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"unknown permission mode {mode!r}; expected one of {', '.join(MODES)}")
    return mode


@dataclass(frozen=True)
class Verdict:
    decision: str  # "allow" | "ask" | "deny"
    reason: str


_TOOL_NAME = re.compile(r"[A-Za-z0-9_.*?-]+")


@dataclass(frozen=True)
class Rule:
    """`tool` or `tool:pattern`. For run_shell the pattern is matched against one simple
    command (`git diff*` is a prefix match); for other tools against the path, glob style."""

    tool: str
    pattern: str | None = None

    @classmethod
    def parse(cls, text: str) -> Rule:
        if not isinstance(text, str):
            raise ValueError(f"a permission rule must be a string, got {type(text).__name__}")
        tool, sep, pattern = text.strip().partition(":")
        tool = tool.strip()
        if not tool:
            raise ValueError(
                f"rule {text!r} names no tool; write it as 'tool' or 'tool:pattern', "
                "e.g. 'run_shell:git diff*' or 'edit_file:src/**'"
            )
        if not _TOOL_NAME.fullmatch(tool):
            raise ValueError(
                f"rule {text!r}: {tool!r} is not a tool name; write it as 'tool' or "
                "'tool:pattern', e.g. 'run_shell:pytest*'"
            )
        if not sep:
            return cls(tool)
        pattern = " ".join(pattern.split())
        if not pattern:
            raise ValueError(
                f"rule {text!r} has an empty pattern after ':'; write just {tool!r} to match "
                "every call of that tool"
            )
        return cls(tool, pattern)

    def __str__(self) -> str:
        return self.tool if self.pattern is None else f"{self.tool}:{self.pattern}"

    def matches(self, tool_name: str, target: str | None) -> bool:
        if not fnmatchcase(tool_name, self.tool):
            return False
        if self.pattern is None:
            return True
        if target is None:
            return False
        if tool_name == SHELL_TOOL:
            return _command_matches(self.pattern, target)
        return _path_matches(self.pattern, target)


def _command_matches(pattern: str, command: str) -> bool:
    command = " ".join(command.split())
    if fnmatchcase(command, pattern):
        return True
    # "pytest *" should also cover a bare "pytest".
    return pattern.endswith(" *") and command == pattern[:-2]


def _glob_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(glob_to_regex(pattern))


def _path_matches(pattern: str, path: str) -> bool:
    pattern = pattern.removeprefix("./")
    if pattern.endswith("/"):
        pattern += "**"
    regex = _glob_regex(pattern)
    if regex.fullmatch(path):
        return True
    # Like .gitignore: a pattern without a slash names a file at any depth.
    return "/" not in pattern and regex.fullmatch(path.rsplit("/", 1)[-1]) is not None


# ---------------------------------------------------------------------------------------------
# Reading shell commands


@dataclass(frozen=True)
class _Shell:
    segments: tuple[tuple[str, ...], ...]  # the words of each simple command
    writes: bool  # output redirected into a file
    opaque: bool  # substitution, subshell or here-document: what runs is not all visible


_PUNCTUATION = set(";&|()<>")
# Longest first, so that a run like ";>" or "2>&1" is cut where the shell would cut it.
_OPERATORS = sorted(
    ("&>>", "<<<", "&&", "||", ";;", ";&", "|&", ">>", "<<", ">&", "<&", "&>", ">|", "<>",
     "<(", ">(", ";", "&", "|", "<", ">", "(", ")"),
    key=len,
    reverse=True,
)


def _operators(run: str) -> list[str]:
    out = []
    while run:
        op = next(op for op in _OPERATORS if run.startswith(op))
        out.append(op)
        run = run[len(op) :]
    return out


def _shell_tokens(line: str) -> list[tuple[str, bool]] | None:
    """(text, is_operator) pairs of one line; None when quotes do not balance. A quoted word
    made only of punctuation ('|') reads as an operator, which errs on the safe side."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        raw = list(lexer)
    except ValueError:
        return None
    tokens: list[tuple[str, bool]] = []
    for token in raw:
        if token and set(token) <= _PUNCTUATION:
            tokens.extend((op, True) for op in _operators(token))
        else:
            tokens.append((token, False))
    return tokens


def _parse_shell(command: str) -> _Shell | None:
    """None when the command cannot be read (unbalanced quotes)."""
    opaque = "$(" in command or "`" in command
    writes = False
    segments: list[tuple[str, ...]] = []
    for line in command.splitlines() or [""]:
        tokens = _shell_tokens(line)
        if tokens is None:
            return None
        words: list[str] = []
        i = 0
        while i < len(tokens):
            token, is_operator = tokens[i]
            i += 1
            if not is_operator:
                words.append(token)
            elif "<" in token or ">" in token:
                target = tokens[i][0] if i < len(tokens) and not tokens[i][1] else ""
                i += 1 if target else 0
                if token in ("<(", ">(", "<<", "<>"):
                    opaque = True
                elif ">" in token and not _harmless_output(token, target):
                    writes = True
            else:
                if token in ("(", ")"):
                    opaque = True
                if words:
                    segments.append(tuple(words))
                words = []
        if words:
            segments.append(tuple(words))
    return _Shell(tuple(segments), writes, opaque)


def _harmless_output(operator: str, target: str) -> bool:
    if operator.endswith("&") or operator.startswith("<"):
        return target.isdigit() or target == "-"  # 2>&1, >&-
    return target == "/dev/null"


def _always(args: Sequence[str]) -> bool:
    return True


def _refusing(
    short: str = "",
    long: Iterable[str] = (),
    max_positional: int | None = None,
    no_args: bool = False,
) -> Callable[[Sequence[str]], bool]:
    """A check that refuses the given short option letters (also inside clusters like -uo),
    long options (also abbreviated, as getopt accepts `--out` for `--output`), too many
    positional arguments, or any argument at all."""
    long = tuple(long)

    def check(args: Sequence[str]) -> bool:
        if no_args and args:
            return False
        positional = 0
        for arg in args:
            if arg.startswith("--") and len(arg) > 2:
                name = arg[2:].split("=", 1)[0]
                if any(option.startswith(name) for option in long):
                    return False
            elif arg.startswith("-") and len(arg) > 1:
                if any(letter in short for letter in arg[1:]):
                    return False
            else:
                positional += 1
        return max_positional is None or positional <= max_positional

    return check


_FIND_ACTIONS = {"-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprint0",
                 "-fprintf", "-fls"}


def _find_reads(args: Sequence[str]) -> bool:
    return not any(arg in _FIND_ACTIONS for arg in args)


def _date_reads(args: Sequence[str]) -> bool:
    # A bare positional (MMDDhhmm) sets the clock; formats start with "+".
    positional_ok = all(a.startswith(("-", "+")) for a in args)
    return positional_ok and _refusing(short="s", long=("set",))(args)


_GIT_READ = {"status", "diff", "log", "show", "blame", "shortlog", "ls-files", "ls-tree",
             "rev-parse", "describe", "cat-file", "grep", "whatchanged", "rev-list",
             "merge-base", "show-ref", "diff-tree", "count-objects"}
_GIT_WRITING_OPTIONS = _refusing(short="O", long=("output", "open-files-in-pager", "ext-diff"))
_GIT_LISTING_FLAGS = {"-a", "--all", "-r", "--remotes", "-v", "-vv", "--verbose",
                      "--show-current", "--no-color", "--color", "-l", "--list"}
_GIT_CONFIG_READS = {"--get", "--get-all", "--get-regexp", "-l", "--list"}
_GIT_CONFIG_SCOPES = {"--global", "--local", "--system", "--show-origin", "--show-scope",
                      "--name-only", "-z", "--null"}


def _git_reads(args: Sequence[str]) -> bool:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] in ("--no-pager", "--no-optional-locks"):
            i += 1
        elif args[i] == "-C" and i + 1 < len(args):
            i += 2
        else:
            return False  # -c sets configuration (a pager, a hook), --git-dir and the like
    if i >= len(args):
        return False
    sub, rest = args[i], list(args[i + 1 :])
    flags = [a for a in rest if a.startswith("-")]
    listing = "-l" in rest or "--list" in rest
    if sub in _GIT_READ:
        return _GIT_WRITING_OPTIONS(rest)
    if sub == "branch":
        return all(f in _GIT_LISTING_FLAGS for f in flags) and (listing or len(flags) == len(rest))
    if sub == "tag":
        return not rest or (listing and all(f in ("-l", "--list", "-n") for f in flags))
    if sub == "remote":
        return all(a in ("-v", "--verbose") for a in rest) or rest[0] in ("show", "get-url")
    if sub in ("stash", "worktree"):
        return bool(rest) and rest[0] in ("list", "show")
    if sub == "reflog":
        return not rest or rest[0] == "show"
    if sub == "config":
        return (
            bool(rest)
            and any(a in _GIT_CONFIG_READS for a in rest)
            and all(f in _GIT_CONFIG_READS | _GIT_CONFIG_SCOPES for f in flags)
        )
    return False


_READERS: dict[str, Callable[[Sequence[str]], bool]] = {
    **{name: _always for name in (
        "ls", "cat", "head", "tail", "wc", "grep", "egrep", "fgrep", "pwd", "echo", "printf",
        "cd", "true", "false", "which", "type", "stat", "du", "df", "basename", "dirname",
        "realpath", "readlink", "whoami", "id", "uname", "printenv", "diff", "cmp", "comm",
        "cut", "tr", "nl", "column", "paste", "fold", "rev", "tac", "md5sum", "sha1sum",
        "sha256sum", "jq", "test", "[", "seq",
    )},
    "rg": _refusing(long=("pre",)),
    "find": _find_reads,
    "sort": _refusing(short="o", long=("output", "compress-program")),
    "uniq": _refusing(max_positional=1),
    "tree": _refusing(short="o", long=("output",)),
    "file": _refusing(short="C", long=("compile",)),
    "date": _date_reads,
    "env": _refusing(no_args=True),
    "git": _git_reads,
}


def _segment_reads(words: Sequence[str]) -> bool:
    program = words[0]
    # Paths ("./ls") may be anything; assignments (PAGER=..., LD_PRELOAD=...) change behaviour.
    if "/" in program or "=" in program:
        return False
    check = _READERS.get(program)
    return check is not None and check(words[1:])


def is_read_only_command(command: str) -> bool:
    """True only for commands made of known programs that read, in every part of a pipeline
    or list, without substitution or redirection into files. When in doubt, False."""
    shell = _parse_shell(command)
    if shell is None or shell.opaque or shell.writes or not shell.segments:
        return False
    return all(_segment_reads(words) for words in shell.segments)


_WRAPPERS = {"sudo", "env", "command", "nohup", "time", "exec", "nice", "builtin", "xargs",
             "timeout", "doas"}
_SHELLS = {"sh", "bash", "zsh", "dash"}


def _unwrapped(words: Sequence[str]) -> list[str]:
    """The command a wrapper (sudo, env, nohup, timeout...) runs, assignments dropped."""
    words = list(words)
    while words:
        if "=" in words[0] and not words[0].startswith("-"):
            words.pop(0)
        elif words[0] in _WRAPPERS:
            wrapper = words.pop(0)
            while words and (words[0].startswith("-") or "=" in words[0]):
                words.pop(0)
            if wrapper == "timeout" and words:
                words.pop(0)
        else:
            break
    return words


def _deny_candidates(command: str, depth: int = 0) -> set[str]:
    """Every simple command a deny rule should be checked against: the whole text, each part
    of a list or pipeline, the same with wrappers removed, the insides of substitutions, and
    the script given to `sh -c`. A best effort against mistakes, not a sandbox."""
    found = {" ".join(command.split())}
    flattened = re.sub(r"\$\(|[`()]", ";", command)
    for text in {command, flattened}:
        shell = _parse_shell(text)
        if shell is None:
            found.update(" ".join(p.split()) for p in re.split(r"[;&|\n]+", text) if p.strip())
            continue
        for words in shell.segments:
            found.add(" ".join(words))
            inner = _unwrapped(words)
            if inner:
                found.add(" ".join(inner))
            if depth < 2 and inner and inner[0] in _SHELLS and "-c" in inner[1:-1]:
                script = inner[inner.index("-c", 1) + 1]
                found |= _deny_candidates(script, depth + 1)
    found.discard("")
    return found


# ---------------------------------------------------------------------------------------------
# Targets of calls

_PATCH_PATH = re.compile(r"^\*\*\* (?:Add File|Update File|Delete File|Move to): (.+?)\s*$",
                         re.MULTILINE)


def _call_paths(tool_name: str, args: Mapping[str, Any]) -> list[str]:
    if tool_name == "apply_patch":
        patch = args.get("patch")
        return _PATCH_PATH.findall(patch) if isinstance(patch, str) else []
    path = args.get("path")
    return [path] if isinstance(path, str) and path else []


def call_target(tool_name: str, args: Mapping[str, Any]) -> str | None:
    """What a call acts on, as rules see it: the command for run_shell, the path for file
    tools (the paths, comma-separated, for apply_patch), None otherwise."""
    if tool_name == SHELL_TOOL:
        command = args.get("command")
        return command if isinstance(command, str) else None
    paths = _call_paths(tool_name, args)
    return ", ".join(paths) if paths else None


_SUBCOMMAND_PROGRAMS = {"git", "npm", "pnpm", "yarn", "bun", "cargo", "go", "docker", "kubectl",
                        "make", "uv", "poetry", "pip", "pip3", "just", "dotnet", "gh", "hatch",
                        "tox", "nox", "mvn", "gradle", "deno", "helm", "terraform"}
_RUNNERS = {("npm", "run"), ("pnpm", "run"), ("yarn", "run"), ("bun", "run"), ("uv", "run"),
            ("poetry", "run"), ("hatch", "run"), ("python", "-m"), ("python3", "-m"),
            ("bundle", "exec")}


def _command_prefix(words: Sequence[str]) -> str:
    if len(words) >= 3 and (words[0], words[1]) in _RUNNERS:
        return " ".join(words[:3])
    if len(words) >= 2 and words[0] in _SUBCOMMAND_PROGRAMS and not words[1].startswith("-"):
        return " ".join(words[:2])
    return words[0]


def suggest_rule(tool_name: str, args: Mapping[str, Any]) -> str | None:
    """The rule an "always" answer adds: for run_shell the program (and its subcommand) of the
    first part that does not merely read, plus `*`; for other tools the tool itself. None when
    no rule would allow the call (a command that redirects into a file or substitutes one),
    so nobody is offered a rule that does not work."""
    if tool_name != SHELL_TOOL:
        return tool_name
    command = args.get("command")
    shell = _parse_shell(command) if isinstance(command, str) else None
    if shell is None or not shell.segments:
        return None
    words = next((w for w in shell.segments if not _segment_reads(w)), shell.segments[0])
    rule = f"{tool_name}:{_command_prefix(words)}*"
    if Policy("ask", allow=[rule]).decide(tool_name, "shell", args).decision != "allow":
        return None
    return rule


# ---------------------------------------------------------------------------------------------
# The policy


class Policy:
    """Decides each call. `workspace`, when given, lets path rules written relative to the
    project (`src/**`) match absolute paths inside it."""

    def __init__(
        self,
        mode: str,
        allow: Sequence[str] = (),
        deny: Sequence[str] = (),
        *,
        workspace: Path | None = None,
    ) -> None:
        self._mode = check_mode(mode)
        self._allow = [Rule.parse(r) for r in allow]
        self._deny = [Rule.parse(r) for r in deny]
        self._session: list[Rule] = []
        self._workspace = workspace.resolve() if workspace is not None else None

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        self._mode = check_mode(value)

    @property
    def session_rules(self) -> tuple[str, ...]:
        return tuple(str(r) for r in self._session)

    def allow_for_session(self, rule: str) -> None:
        parsed = Rule.parse(rule)
        if parsed not in self._session:
            self._session.append(parsed)

    def decide(self, tool_name: str, kind: str, args: Mapping[str, Any]) -> Verdict:
        denied = self._denying_rule(tool_name, args)
        if denied is not None:
            return Verdict("deny", f"{tool_name} is refused by the deny rule '{denied}'")
        if kind == "edit" and self._mode in ("ask", "auto-edit"):
            protected = self._protected_path(tool_name, args)
            if protected is not None:
                return Verdict(
                    "ask",
                    f"{tool_name} writes {protected}, inside .git/ or .glmcode/, where a change "
                    "can make git or glmcode run commands; it needs approval",
                )
        # Read-only mode is a promise that nothing changes; allow rules do not break it.
        if self._mode != "read-only":
            allowed = self._allowing_rules(tool_name, args)
            if allowed:
                which = ", ".join(f"'{r}'" for r in allowed)
                return Verdict("allow", f"allowed by the rule {which}")
        return self._by_mode(tool_name, kind, args)

    def _by_mode(self, tool_name: str, kind: str, args: Mapping[str, Any]) -> Verdict:
        mode = self._mode
        if kind not in KINDS:
            return Verdict("ask", f"{tool_name} is of unknown kind {kind!r}; it needs approval")
        if kind in ("read", "meta"):
            return Verdict("allow", f"{tool_name} changes nothing; allowed in {mode} mode")
        if mode == "full-auto":
            return Verdict("allow", f"{tool_name} is allowed in full-auto mode")
        if kind == "edit":
            if mode == "auto-edit":
                return Verdict("allow", f"{tool_name} is allowed in auto-edit mode")
            if mode == "read-only":
                return Verdict("deny", f"{tool_name} is refused in read-only mode: no file "
                               "changes while planning")
            return Verdict("ask", f"{tool_name} changes files; it needs approval in {mode} mode")
        command = args.get("command")
        if isinstance(command, str) and is_read_only_command(command):
            return Verdict("allow", f"the command only reads; allowed in {mode} mode")
        if mode == "read-only":
            return Verdict("deny", f"{tool_name} is refused in read-only mode: only commands "
                           "that just read (ls, cat, grep, git status, ...) may run")
        return Verdict("ask", f"{tool_name} needs approval in {mode} mode")

    def _protected_path(self, tool_name: str, args: Mapping[str, Any]) -> str | None:
        """A path of the call inside a folder whose files steer tools that run commands:
        git's config and hooks (core.fsmonitor, diff.external run on `git status`/`git diff`,
        which run unasked), and glmcode's own project settings."""
        for path in _call_paths(tool_name, args):
            for form in self._path_forms(path):
                if any(part in PROTECTED_FOLDERS for part in Path(form).parts):
                    return path
        return None

    def _path_forms(self, raw: str) -> list[str]:
        """The path as written (normalised) and, with a workspace, as it resolves: relative
        when inside the workspace, absolute outside."""
        literal = os.path.normpath(os.path.expanduser(raw))
        forms = [literal]
        if self._workspace is not None:
            full = Path(literal)
            resolved = (full if full.is_absolute() else self._workspace / full).resolve()
            try:
                forms.append(resolved.relative_to(self._workspace).as_posix())
            except ValueError:
                forms.append(resolved.as_posix())
        return forms

    def _denying_rule(self, tool_name: str, args: Mapping[str, Any]) -> Rule | None:
        rules = [r for r in self._deny if fnmatchcase(tool_name, r.tool)]
        if not rules:
            return None
        if tool_name == SHELL_TOOL:
            command = args.get("command")
            targets = _deny_candidates(command) if isinstance(command, str) else set()
        else:
            targets = {f for p in _call_paths(tool_name, args) for f in self._path_forms(p)}
        for rule in rules:
            if rule.pattern is None or any(rule.matches(tool_name, t) for t in targets):
                return rule
        return None

    def _allowing_rules(self, tool_name: str, args: Mapping[str, Any]) -> list[Rule]:
        rules = [r for r in (*self._allow, *self._session) if fnmatchcase(tool_name, r.tool)]
        whole = next((r for r in rules if r.pattern is None), None)
        if whole is not None:
            return [whole]
        if tool_name == SHELL_TOOL:
            return self._allowing_shell_rules(rules, args.get("command"))
        paths = _call_paths(tool_name, args)
        if not paths:
            return []
        used: list[Rule] = []
        for path in paths:
            # With a workspace, the resolved form decides: a symlink out of an allowed
            # folder is not allowed by it.
            form = self._path_forms(path)[-1]
            rule = next((r for r in rules if r.matches(tool_name, form)), None)
            if rule is None:
                return []
            if rule not in used:
                used.append(rule)
        return used

    def _allowing_shell_rules(self, rules: list[Rule], command: Any) -> list[Rule]:
        if not rules or not isinstance(command, str):
            return []
        shell = _parse_shell(command)
        if shell is None or shell.opaque or shell.writes or not shell.segments:
            return []
        used: list[Rule] = []
        for words in shell.segments:
            rule = next((r for r in rules if r.matches(SHELL_TOOL, " ".join(words))), None)
            if rule is None:
                if _segment_reads(words):
                    continue
                return []
            if rule not in used:
                used.append(rule)
        return used
