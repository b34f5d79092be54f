"""What a sub-agent is: a name, a description for the model that chooses it, its system
prompt, and optionally its tools, model and turn limit. Custom ones are Markdown files with
front matter:

    ---
    description: Finds where things are defined and used; cheap and quick.
    tools: read_file, grep, glob
    model: glm-4.5-air
    max_turns: 20
    ---
    You search the codebase ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
KEYS = ("name", "description", "tools", "model", "max_turns")
ALL_TOOLS = "all"
BUILTIN_DIR = Path(__file__).parent


class DefinitionError(ValueError):
    """An agent file that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class AgentDefinition:
    """`tools`: None for the read tools, ("all",) for all of the parent's but `task`, or
    names. `model`: None for the parent's."""

    name: str
    description: str
    prompt: str
    tools: tuple[str, ...] | None = None
    model: str | None = None
    max_turns: int | None = None
    source: str = "built-in"
    scope: str = "built-in"  # "built-in", "user" or "project"


def builtin_agents() -> list[AgentDefinition]:
    return [
        AgentDefinition(
            "explore",
            "Explores the codebase with the read tools (read_file, grep, glob) and reports what it "
            "found, with paths and line numbers. Use it for questions that need many files read.",
            (BUILTIN_DIR / "explore.md").read_text(encoding="utf-8").strip(),
        ),
        AgentDefinition(
            "general",
            "Works on a self-contained part of the task with all of your tools but task, under the "
            "same permissions, and reports what it did.",
            (BUILTIN_DIR / "general.md").read_text(encoding="utf-8").strip(),
            tools=(ALL_TOOLS,),
        ),
    ]


def parse_definition(text: str, path: Path, scope: str) -> AgentDefinition:
    """One agent file; raises DefinitionError."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise DefinitionError("must start with front matter between two '---' lines")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise DefinitionError("front matter has no closing '---' line") from None
    fields: dict[str, str] = {}
    for number, line in enumerate(lines[1:end], 2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, colon, value = line.partition(":")
        key = key.strip()
        if not colon:
            raise DefinitionError(f"line {number}: expected 'key: value'")
        if key not in KEYS:
            raise DefinitionError(f"line {number}: unknown key {key!r}; known keys: {', '.join(KEYS)}")
        fields[key] = value.strip().strip("'\"")
    name = fields.get("name") or path.stem
    if not NAME.match(name):
        raise DefinitionError(f"name {name!r}: use lower-case letters, digits, '-' and '_' (at most 40)")
    description = fields.get("description", "")
    if not description:
        raise DefinitionError("needs a description: the model picks an agent by it")
    prompt = "\n".join(lines[end + 1 :]).strip()
    if not prompt:
        raise DefinitionError("has no system prompt: write it below the front matter")
    return AgentDefinition(
        name,
        description,
        prompt,
        tools=_tools(fields["tools"]) if "tools" in fields else None,
        model=fields.get("model") or None,
        max_turns=_turns(fields["max_turns"]) if "max_turns" in fields else None,
        source=str(path),
        scope=scope,
    )


def _tools(value: str) -> tuple[str, ...]:
    names = tuple(t.strip().strip("'\"") for t in value.strip("[]").split(",") if t.strip())
    if not names:
        raise DefinitionError("tools: list tool names (read_file, grep, ...) or 'all'")
    return names


def _turns(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise DefinitionError(f"max_turns: expected a whole number above 0, got {value!r}")
    return int(value)
