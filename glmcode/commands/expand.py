"""A custom command's prompt for one use: `$ARGUMENTS` is everything typed after the command,
`$1`..`$9` its words (quotes group words, as in a shell). A prompt that uses none of them gets
the arguments on a line of their own at the end, so nothing typed is lost. Shell lines
("!`...`", see `shell`) are replaced by what they print."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable

from glmcode.commands.discovery import CustomCommand
from glmcode.commands.shell import SHELL_SPAN

_PLACEHOLDER = re.compile(r"\$(ARGUMENTS|[1-9])")


def split_arguments(arguments: str) -> list[str]:
    try:
        return shlex.split(arguments)
    except ValueError:  # an unclosed quote: the words as typed
        return arguments.split()


def expand(command: CustomCommand, arguments: str, shell: Callable[[str], str] | None = None) -> str:
    """The prompt to send. Shell lines get their arguments quoted for the shell, and are run by
    `shell` (left as written without one); the arguments can never add a shell line."""
    arguments = arguments.strip()
    words = split_arguments(arguments)

    def fill(quoted: bool) -> Callable[[re.Match[str]], str]:
        def value(match: re.Match[str]) -> str:
            key = match.group(1)
            if key == "ARGUMENTS":
                text = arguments
            else:
                index = int(key) - 1
                text = words[index] if index < len(words) else ""
            return shlex.quote(text) if quoted else text

        return value

    pieces = SHELL_SPAN.split(command.body)
    out = []
    for n, piece in enumerate(pieces):
        if n % 2 == 0:
            out.append(_PLACEHOLDER.sub(fill(False), piece))
            continue
        line = _PLACEHOLDER.sub(fill(True), piece)
        out.append(shell(line) if shell is not None else f"!`{line}`")
    text = "".join(out)
    if arguments and not _PLACEHOLDER.search(command.body):
        text = f"{text}\n\n{arguments}"
    return text


def parse_invocation(line: str) -> tuple[str, str] | None:
    """("name", "arguments") for `/name arguments`; None when the line is not a command (a
    path such as `/usr/lib is missing` is a message)."""
    text = line.strip()
    match = re.match(r"/(\S+)", text)
    if match is None or "/" in match.group(1):
        return None
    return match.group(1).lower(), text[match.end():].strip()
