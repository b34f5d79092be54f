"""Permission rules: `tool` or `tool:pattern`, written in config or added by an "always" answer."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from glmcode.globs import glob_to_regex
from glmcode.permissions.targets import SHELL_TOOL, WEB_TOOL

_TOOL_NAME = re.compile(r"[A-Za-z0-9_.*?-]+")


@dataclass(frozen=True)
class Rule:
    """`tool` or `tool:pattern`. For run_shell the pattern is matched against one simple
    command (`git diff*` is a prefix match); for web_fetch against the host name without the
    port (`*.github.com`); for other tools against the path, glob style."""

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
        if tool == WEB_TOOL and any(c in pattern for c in "/:@ "):
            raise ValueError(
                f"rule {text!r}: a web_fetch rule names a host, without scheme, port or path; "
                "e.g. 'web_fetch:docs.python.org' or 'web_fetch:*.github.com'"
            )
        return cls(tool, pattern.lower() if tool == WEB_TOOL else pattern)

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
        if tool_name == WEB_TOOL:
            return fnmatchcase(target.lower(), self.pattern)
        return _path_matches(self.pattern, target)


def names_host(rule: Rule, host: str) -> bool:
    """Whether the rule names `host` itself: its pattern matches and is more than wildcards,
    so `web_fetch:*` allows every host but names none."""
    pattern = rule.pattern
    return (
        rule.tool == WEB_TOOL
        and pattern is not None
        and bool(pattern.strip("*?."))
        and fnmatchcase(host.lower(), pattern)
    )


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
    if pattern == "~" or pattern.startswith("~/"):
        pattern = os.path.expanduser(pattern)
    if pattern.endswith("/"):
        pattern += "**"
    regex = _glob_regex(pattern)
    if regex.fullmatch(path):
        return True
    # Like .gitignore: a pattern without a slash names a file at any depth.
    return "/" not in pattern and regex.fullmatch(path.rsplit("/", 1)[-1]) is not None
