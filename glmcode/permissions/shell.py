"""Reading shell commands with shlex: the simple commands of a list or pipeline, and whether
anything the reader cannot see through (command substitution, subshells, here-documents,
writes through redirection) is in them. What cannot be seen through counts as a command that
may change things."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

@dataclass(frozen=True)
class ShellCommand:
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


def parse_shell(command: str) -> ShellCommand | None:
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
    return ShellCommand(tuple(segments), writes, opaque)


def _harmless_output(operator: str, target: str) -> bool:
    if operator.endswith("&") or operator.startswith("<"):
        return target.isdigit() or target == "-"  # 2>&1, >&-
    return target == "/dev/null"



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


def deny_candidates(command: str, depth: int = 0) -> set[str]:
    """Every simple command a deny rule should be checked against: the whole text, each part
    of a list or pipeline, the same with wrappers removed, the insides of substitutions, and
    the script given to `sh -c`. A best effort against mistakes, not a sandbox."""
    found = {" ".join(command.split())}
    flattened = re.sub(r"\$\(|[`()]", ";", command)
    for text in {command, flattened}:
        shell = parse_shell(text)
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
                found |= deny_candidates(script, depth + 1)
    found.discard("")
    return found
