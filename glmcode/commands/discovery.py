"""Finding the custom commands: `NAME.md` files under the project's `.glmcode/commands/` and the
user's `commands/` config folder, a subfolder giving a namespace (`frontend/lint.md` is
`/frontend:lint`). A project command replaces a user command of the same name; no file may
take the name of a command built into glmcode, and a project command that runs shell lines
counts only once the project is trusted."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from glmcode.commands.frontmatter import split_front_matter
from glmcode.commands.shell import runs_shell
from glmcode.config.errors import tilde
from glmcode.config.trust import UNTIL_TRUSTED
from glmcode.paths import PROJECT_DIR, config_dir

COMMANDS_DIR = "commands"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


@dataclass(frozen=True)
class CustomCommand:
    name: str  # without the slash: "review", "frontend:lint"
    description: str
    argument_hint: str
    model: str | None
    body: str
    path: Path
    scope: str  # "project" or "user"
    shown: str  # the path as the user knows it: in the project, or under ~
    overrides: Path | None = None  # the user command this project command replaces


@dataclass(frozen=True)
class CommandSet:
    commands: Mapping[str, CustomCommand]
    problems: tuple[str, ...]  # files that were skipped or read only in part, and why
    ignored: tuple[str, ...] = ()  # project commands that wait for trust, said for the user

    def get(self, name: str) -> CustomCommand | None:
        return self.commands.get(name.lower())


def command_dirs(project_root: Path, env: Mapping[str, str] | None = None) -> tuple[tuple[str, Path], ...]:
    """(scope, folder), the weaker first."""
    return (("user", config_dir(env) / COMMANDS_DIR), ("project", Path(project_root) / PROJECT_DIR / COMMANDS_DIR))


def find_commands(
    project_root: Path, reserved: Collection[str], env: Mapping[str, str] | None = None, *, trusted: bool = False
) -> CommandSet:
    """Every custom command in force; `reserved` are the built-in names no file may take;
    `trusted`: the project is, so its commands may run shell lines."""
    found: dict[str, CustomCommand] = {}
    problems: list[str] = []
    ignored: list[str] = []
    for scope, folder in command_dirs(project_root, env):
        for path in _markdown_files(folder):
            name = ":".join(path.relative_to(folder).with_suffix("").parts).lower()
            inside = path.relative_to(folder).as_posix()
            shown = f"{PROJECT_DIR}/{COMMANDS_DIR}/{inside}" if scope == "project" else tilde(path)
            if not all(_NAME.match(part) for part in name.split(":")):
                problems.append(f"{shown}: not a command name (use letters, digits, '-', '_' and '.')")
                continue
            if name in reserved:
                problems.append(f"{shown}: not used, /{name} is built into glmcode")
                continue
            command = _read(path, name, scope, shown, problems)
            if command is None:
                continue
            if scope == "project" and not trusted and runs_shell(command.body):
                ignored.append(f"{shown}: runs shell lines (!`...`), so /{name} is ignored {UNTIL_TRUSTED}")
                continue
            earlier = found.get(name)
            if earlier is not None and earlier.scope == "user" and scope == "project":
                command = replace(command, overrides=earlier.path)
            found[name] = command
    return CommandSet(dict(sorted(found.items())), tuple(problems), tuple(ignored))


def _markdown_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.rglob("*.md")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _read(path: Path, name: str, scope: str, shown: str, problems: list[str]) -> CustomCommand | None:
    try:
        text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    except (OSError, UnicodeDecodeError) as exc:
        why = "is not valid UTF-8" if isinstance(exc, UnicodeDecodeError) else f"cannot be read ({exc.strerror or exc})"
        problems.append(f"{shown}: {why}")
        return None
    front = split_front_matter(text)
    problems.extend(f"{shown}: {problem}" for problem in front.problems)
    body = front.body.strip()
    if not body:
        problems.append(f"{shown}: the prompt is empty")
        return None
    return CustomCommand(
        name=name,
        description=front.fields.get("description", "") or _first_line(body),
        argument_hint=front.fields.get("argument-hint", ""),
        model=front.fields.get("model") or None,
        body=body,
        path=path,
        scope=scope,
        shown=shown,
    )


def _first_line(body: str) -> str:
    line = body.splitlines()[0].strip().lstrip("#").strip()
    return line if len(line) <= 60 else line[:59] + "…"
