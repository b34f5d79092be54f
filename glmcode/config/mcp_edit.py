"""Adding and removing `[mcp_servers.NAME]` tables in a config file, and entries of a
`.mcp.json`, without disturbing the rest of the file: a small textual edit, checked by parsing
the result, which must hold exactly the old content with that one change, or nothing is written.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from glmcode.config.errors import ConfigError
from glmcode.config.files import parse_toml, read_text, read_toml
from glmcode.config.mcp_servers import ServerSpec, to_table

_HEADER = re.compile(r"^[ \t]*\[\[?[ \t]*([^\[\]]+?)[ \t]*\]\]?[ \t]*(#.*)?$", re.MULTILINE)
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(text: str) -> str:
    return text if _BARE_KEY.fullmatch(text) else json.dumps(text, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }" if value else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def table_text(spec: ServerSpec) -> str:
    lines = [f"[mcp_servers.{_key(spec.name)}]"]
    lines += [f"{k} = {_value(v)}" for k, v in to_table(spec).items()]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    from glmcode.atomic import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode("utf-8"))


def _servers(data: dict[str, Any] | None) -> dict[str, Any]:
    table = (data or {}).get("mcp_servers", {})
    return table if isinstance(table, dict) else {}


def add_to_toml(path: Path, spec: ServerSpec) -> None:
    """Adds the server's table; a ConfigError when the file already defines that name."""
    old_text = read_text(path) or ""
    old = read_toml(path) or {}
    if spec.name in _servers(old):
        raise ConfigError(f"already defines the MCP server {spec.name}; remove it first", path=path)
    lead = "" if not old_text else ("\n" if old_text.endswith("\n") else "\n\n")
    new_text = f"{old_text}{lead}{table_text(spec)}"
    expected = copy.deepcopy(old)
    expected.setdefault("mcp_servers", {})[spec.name] = to_table(spec)
    _checked_write(path, new_text, expected)


def remove_from_toml(path: Path, name: str) -> bool:
    """Removes the server's table (and its sub-tables); False when the file has none."""
    old_text = read_text(path)
    old = read_toml(path) or {}
    if old_text is None or name not in _servers(old):
        return False
    heads = [(m.start(), m.group(1)) for m in _HEADER.finditer(old_text)]
    keep, cut = [], False
    starts = [s for s, _ in heads] + [len(old_text)]
    pos = 0
    for (start, title), end in zip(heads, starts[1:]):
        keep.append(old_text[pos:start] if not cut else "")
        parts = [p.strip().strip("\"'") for p in title.split(".")]
        cut = parts[:2] == ["mcp_servers", name]
        if not cut:
            keep.append(old_text[start:end])
        pos = end
    new_text = re.sub(r"\n{3,}", "\n\n", "".join(keep) + ("" if cut else old_text[pos:]))
    expected = copy.deepcopy(old)
    del expected["mcp_servers"][name]
    if not expected["mcp_servers"] and "mcp_servers" not in _loaded(new_text, path):
        del expected["mcp_servers"]
    _checked_write(path, new_text, expected)
    return True


def _loaded(text: str, path: Path) -> dict[str, Any]:
    try:
        return parse_toml(path, text)
    except ConfigError:
        raise ConfigError("could not be edited safely; edit it by hand", path=path) from None


def _checked_write(path: Path, new_text: str, expected: dict[str, Any]) -> None:
    if _loaded(new_text, path) != expected:
        raise ConfigError(
            "could not be edited safely (its layout is one this edit does not handle); edit it by hand",
            path=path,
        )
    _write(path, new_text)


def remove_from_json(path: Path, name: str) -> bool:
    """Removes the entry from a `.mcp.json`; False when it has none."""
    text = read_text(path)
    if text is None:
        return False
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"is not valid JSON ({exc})", path=path) from None
    servers = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(servers, dict) or name not in servers:
        return False
    del servers[name]
    _write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return True
