"""Which shell commands only read: known programs, with the options that would make them
write refused. Anything not known here needs the mode's approval."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from glmcode.permissions.shell import parse_shell

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


def segment_reads(words: Sequence[str]) -> bool:
    program = words[0]
    # Paths ("./ls") may be anything; assignments (PAGER=..., LD_PRELOAD=...) change behaviour.
    if "/" in program or "=" in program:
        return False
    check = _READERS.get(program)
    return check is not None and check(words[1:])


def is_read_only_command(command: str) -> bool:
    """True only for commands made of known programs that read, in every part of a pipeline
    or list, without substitution or redirection into files. When in doubt, False."""
    shell = parse_shell(command)
    if shell is None or shell.opaque or shell.writes or not shell.segments:
        return False
    return all(segment_reads(words) for words in shell.segments)
