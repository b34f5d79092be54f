"""Giving a parent agent the `task` tool: the catalog of agents read for its project, the
tool added to its registry, and the spawner bound to its runner once that exists."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from glmcode.config.settings import Settings
from glmcode.subagents.catalog import TASK_TOOL, load_catalog
from glmcode.subagents.spawn import Spawner
from glmcode.subagents.task_tool import task_tool
from glmcode.tools.registry import Registry


def with_task_tool(registry: Registry, settings: Settings, env: Mapping[str, str]) -> tuple[Registry, Spawner | None]:
    """The registry with `task` added, and the spawner behind it; the registry unchanged
    (and no spawner) when it has a `task` already."""
    if registry.get(TASK_TOOL) is not None:
        return registry, None
    from glmcode.config.trust import is_trusted
    from glmcode.llm.catalog import max_tokens_for
    from glmcode.paths import config_dir

    catalog = load_catalog(
        Path(settings.project_root),
        config_dir(env),
        registry.kinds(),
        lambda: is_trusted(settings.project_root, env),
    )
    spawner = Spawner(
        catalog,
        lambda model: max_tokens_for(model, settings.max_tokens),
        max_turns=settings.subagent_max_turns,
        compact_threshold=settings.compact_threshold,
    )
    tools = [t for n in registry.names if (t := registry.get(n)) is not None]
    return Registry([*tools, task_tool(spawner)]), spawner
