"""The agents the `task` tool can start: the built-in ones, then the user's
(`~/.config/glmcode/agents/*.md`), then the project's (`.glmcode/agents/*.md`), a later one
replacing an earlier one of the same name. A project's agent that could write files or run
commands is a project making glmcode do so, so it needs the user's trust in that project."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from glmcode.config.trust import UNTIL_TRUSTED
from glmcode.subagents.definitions import (
    ALL_TOOLS,
    AgentDefinition,
    DefinitionError,
    builtin_agents,
    parse_definition,
)

TASK_TOOL = "task"
CHANGING_KINDS = frozenset({"edit", "shell"})


@dataclass(frozen=True)
class AgentCatalog:
    agents: dict[str, AgentDefinition]
    warnings: tuple[str, ...] = ()
    # The parent's tools by kind, for resolving an agent's tool list.
    kinds: Mapping[str, str] = field(default_factory=dict)

    def tools_for(self, agent: AgentDefinition) -> list[str]:
        """The parent's tools this agent gets, in the parent's order; never `task`."""
        names = [n for n in self.kinds if n != TASK_TOOL]
        if agent.tools is None:
            return [n for n in names if self.kinds[n] == "read"]
        if ALL_TOOLS in agent.tools:
            return names
        return [n for n in names if n in agent.tools]


def agents_dir(root: Path) -> Path:
    return Path(root) / ".glmcode" / "agents"


def load_catalog(
    project_root: Path,
    user_config_dir: Path,
    kinds: Mapping[str, str],
    trusted: Callable[[], bool],
) -> AgentCatalog:
    """`kinds`: the parent's tool names and kinds; `trusted`: whether the project is trusted
    (asked only when a project agent needs it)."""
    agents = {a.name: a for a in builtin_agents()}
    warnings: list[str] = []
    for scope, folder in (("user", user_config_dir / "agents"), ("project", agents_dir(project_root))):
        for path in sorted(folder.glob("*.md")) if folder.is_dir() else ():
            try:
                agent = parse_definition(path.read_text(encoding="utf-8", errors="replace"), path, scope)
            except (OSError, DefinitionError) as exc:
                warnings.append(f"agent file {path} is not used: {exc}")
                continue
            agent, unknown = _known_tools(agent, kinds)
            if unknown:
                warnings.append(f"agent {agent.name} ({path}): no tool named {', '.join(unknown)}; left out")
            if scope == "project" and _may_change(agent, kinds) and not trusted():
                warnings.append(
                    f"project agent {agent.name} may write files or run commands; "
                    f"ignored {UNTIL_TRUSTED}"
                )
                continue
            agents[agent.name] = agent
    return AgentCatalog(agents, tuple(warnings), dict(kinds))


def _known_tools(agent: AgentDefinition, kinds: Mapping[str, str]) -> tuple[AgentDefinition, list[str]]:
    if agent.tools is None or ALL_TOOLS in agent.tools:
        return agent, []
    unknown = [t for t in agent.tools if t not in kinds or t == TASK_TOOL]
    known = tuple(t for t in agent.tools if t not in unknown)
    return replace(agent, tools=known), unknown


def _may_change(agent: AgentDefinition, kinds: Mapping[str, str]) -> bool:
    if agent.tools is None:
        return False
    if ALL_TOOLS in agent.tools:
        return any(k in CHANGING_KINDS for k in kinds.values())
    return any(kinds.get(t) in CHANGING_KINDS for t in agent.tools)
