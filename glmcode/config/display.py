"""What `glmcode config` shows: every setting, where it came from, and never a usable key."""

from __future__ import annotations

from typing import Any

from glmcode.config.settings import LISTS, SCALARS, Settings


def mask_secret(value: str) -> str:
    """Enough of a key to tell two keys apart, never enough to use it: at most the first 3 and
    last 4 characters, and only of keys long enough that this is a small part of them."""
    if len(value) < 16:
        return "****"
    return f"{value[:3]}…{value[-4:]}"


def _shown(name: str, value: Any) -> str:
    if name == "api_key":
        return mask_secret(value) if value else "(not set)"
    if value is None:
        return "(model default)" if name in ("max_tokens", "temperature") else "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ", ".join(value) if value else "(none)"
    if isinstance(value, float) and value.is_integer() and name in ("timeout", "command_timeout"):
        return str(int(value))
    return str(value)


def describe(settings: Settings) -> list[tuple[str, str, str]]:
    """(key, value as shown, where it came from) for every setting; the key masked."""
    rows = [
        (name, _shown(name, getattr(settings, name)), settings.sources.get(name, "default"))
        for name in (*SCALARS, *LISTS)
    ]
    found_by = "nearest folder with .git or .glmcode"
    rows.append(("project_root", str(settings.project_root), found_by))
    from glmcode.config.mcp_sources import describe_servers

    rows.extend(describe_servers(settings.mcp_servers))
    return rows
