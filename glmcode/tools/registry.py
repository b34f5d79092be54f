"""The set of tools the model is offered, in a fixed order so the request stays byte-stable."""

from __future__ import annotations

import importlib
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from glmcode.tools.base import Tool

BUILTIN_MODULES: tuple[str, ...] = (
    "read_file",
    "write_file",
    "edit_file",
    "apply_patch",
    "run_shell",
    "grep",
    "glob",
    "todo_write",
    "web_fetch",
    "web_search",
)
WEB_MODULES: tuple[str, ...] = ("web_fetch", "web_search")


class Registry:
    def __init__(self, tools: Iterable[Tool]) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            if tool.name in self._tools:
                raise ValueError(f"two tools are named {tool.name}")
            self._tools[tool.name] = tool
        self._schemas = [t.schema() for t in self._tools.values()]

    @classmethod
    def builtin(cls, only: Sequence[str] | None = None) -> Registry:
        names = BUILTIN_MODULES if only is None else tuple(only)
        return cls(importlib.import_module(f"glmcode.tools.{n}").TOOL for n in names)

    def without(self, names: Collection[str]) -> Registry:
        """These tools but `names`; this registry itself when it has none of them."""
        if not any(n in self._tools for n in names):
            return self
        return Registry(t for n, t in self._tools.items() if n not in names)

    def set_group(self, prefix: str, tools: Iterable[Tool]) -> bool:
        """Replaces the tools whose names start with `prefix` (an extension's, which come and
        go while the session runs) by `tools`, after the others; True when that changed the
        list. The schema list is a new object only then."""
        kept = {n: t for n, t in self._tools.items() if not n.startswith(prefix)}
        added = {t.name: t for t in tools if t.name not in kept}
        schemas = [t.schema() for t in (*kept.values(), *added.values())]
        if schemas == self._schemas:
            return False
        self._tools = {**kept, **added}
        self._schemas = schemas
        return True

    def kinds(self) -> dict[str, str]:
        """Each tool's kind by its name, as permission rules and agent definitions read them."""
        return {name: tool.kind for name, tool in self._tools.items()}

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        """The same list object every time: the request body must not change between turns."""
        return self._schemas

    def __len__(self) -> int:
        return len(self._tools)
