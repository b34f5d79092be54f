"""A custom command's prompt for one use: `$ARGUMENTS` is everything typed after the command,
`$1`..`$9` its words (quotes group words, as in a shell). A prompt that uses none of them gets
the arguments on a line of their own at the end, so nothing typed is lost."""

from __future__ import annotations

import re
import shlex

from glmcode.commands.discovery import CustomCommand

_PLACEHOLDER = re.compile(r"\$(ARGUMENTS|[1-9])")


def split_arguments(arguments: str) -> list[str]:
    try:
        return shlex.split(arguments)
    except ValueError:  # an unclosed quote: the words as typed
        return arguments.split()


def expand(command: CustomCommand, arguments: str) -> str:
    arguments = arguments.strip()
    words = split_arguments(arguments)

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "ARGUMENTS":
            return arguments
        index = int(key) - 1
        return words[index] if index < len(words) else ""

    body = command.body
    if _PLACEHOLDER.search(body):
        return _PLACEHOLDER.sub(fill, body)
    return f"{body}\n\n{arguments}" if arguments else body


def parse_invocation(line: str) -> tuple[str, str] | None:
    """("name", "arguments") for `/name arguments`; None when the line is not a command (a
    path such as `/usr/lib is missing` is a message)."""
    text = line.strip()
    match = re.match(r"/(\S+)", text)
    if match is None or "/" in match.group(1):
        return None
    return match.group(1).lower(), text[match.end():].strip()
