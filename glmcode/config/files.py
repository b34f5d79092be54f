"""Reading glmcode's own files: their text, TOML with the line of each problem, and the
checked settings one config file holds."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from glmcode.config.errors import ConfigError, tilde
from glmcode.config.settings import SCALARS
from glmcode.config.values import VALIDATORS, Invalid, show

# Where each setting lives in a TOML file: (table, key).
FILE_KEYS: Mapping[str, tuple[str, str]] = MappingProxyType({
    **{name: ("", name) for name in SCALARS if name != "permission_mode"},
    "permission_mode": ("permissions", "mode"),
    "allow": ("permissions", "allow"),
    "deny": ("permissions", "deny"),
    "add_dirs": ("permissions", "add_dirs"),
})
# Tables the package they configure reads for itself.
TABLES_READ_ELSEWHERE = frozenset({"hooks", "mcp_servers"})  # glmcode.hooks.config, config/mcp_sources.py
# The other way round: table -> key in the file -> field name.
_TABLE_KEYS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    table: MappingProxyType({key: name for name, (t, key) in FILE_KEYS.items() if t == table})
    for table in ("", "permissions")
})


class ConfigFiles:
    """The config files of one start, each read and parsed at most once, however many parts
    of glmcode look in it (the settings layers, the MCP servers, the hooks)."""

    def __init__(self) -> None:
        self._texts: dict[Path, str | None] = {}
        self._tomls: dict[Path, dict[str, Any]] = {}

    def text(self, path: Path) -> str | None:
        if path not in self._texts:
            self._texts[path] = read_text(path)
        return self._texts[path]

    def toml(self, path: Path) -> dict[str, Any] | None:
        """The file's TOML, None when there is no file."""
        text = self.text(path)
        if text is None:
            return None
        if path not in self._tomls:
            self._tomls[path] = _parse_toml(path, text)
        return self._tomls[path]


def read_text(path: Path) -> str | None:
    """The file's text, None when there is no file; unreadable files are errors."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigError("is a folder, expected a TOML file", path=path) from None
    except PermissionError:
        raise ConfigError("cannot be read: permission denied", path=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot be read: {exc.strerror or exc}", path=path) from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"is not valid UTF-8 (byte {exc.start}); save it as UTF-8", path=path, line=line
        ) from None


def read_toml(path: Path) -> dict[str, Any] | None:
    """The file's TOML, None when there is no file."""
    text = read_text(path)
    return None if text is None else parse_toml(path, text)


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    """`text`, said to be `path`'s, as TOML; a ConfigError with the line of any mistake."""
    return _parse_toml(path, text)


def _parse_toml(path: Path, text: str) -> dict[str, Any]:
    # Imported here: most runs of glmcode that load settings find no file to parse.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\s*\(at line (\d+), column (\d+)\)", message)
        if found:
            reason = message[: found.start()] + message[found.end() :]
            line, column = int(found.group(1)), int(found.group(2))
            raise ConfigError(
                f"invalid TOML at line {line}, column {column}: {reason.strip()}",
                path=path, line=line, column=column,
            ) from None
        if "(at end of document)" in message:
            reason = message.replace("(at end of document)", "").strip()
            line = text.count("\n") + (0 if text.endswith("\n") else 1)
            raise ConfigError(
                f"invalid TOML at the end of the file: {reason}", path=path, line=max(line, 1)
            ) from None
        raise ConfigError(f"invalid TOML: {message}", path=path) from None


def _key_line(text: str, table: str, key: str) -> int | None:
    """The line on which `key` is set inside `[table]` ("" for the top level), also found when
    written dotted (`permissions.mode = ...`) or inline. Lines count from 1."""
    assign = re.compile(rf"""^\s*(?:["']?{re.escape(key)}["']?)\s*=""")
    quoted_table, quoted_key = (rf"""["']?{re.escape(name)}["']?""" for name in (table, key))
    dotted = re.compile(rf"^\s*{quoted_table}\s*\.\s*{quoted_key}\s*=")
    header = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
    current = ""
    fallback = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = header.match(line)
        if match:
            current = match.group(1).strip("\"' ")
            continue
        if current == table and assign.match(line):
            return number
        if table and current == "" and dotted.match(line):
            return number
        if fallback is None and re.search(rf"""\b{re.escape(key)}\b["']?\s*=""", line):
            fallback = number
    return fallback


def _suggest(key: str, table: str) -> str:
    import difflib

    if not table and key in _TABLE_KEYS["permissions"]:
        return "; it belongs under [permissions]"
    if not table and key in ("permission_mode", "mode"):
        return "; write it as mode under [permissions]"
    known = list(_TABLE_KEYS.get(table, {})) + ([] if table else ["permissions"])
    close = difflib.get_close_matches(key, known, n=1)
    return f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(sorted(known))}"


def read_file_layer(
    path: Path, *, user_file: Path | None = None, files: ConfigFiles | None = None
) -> dict[str, tuple[Any, int | None]]:
    """Validated settings of one TOML file: field name -> (value, line). `user_file` is given
    for a project file, which may not hold the API key and says where it belongs instead."""
    files = files or ConfigFiles()
    text, data = files.text(path), files.toml(path)
    if text is None or data is None:
        return {}
    out: dict[str, tuple[Any, int | None]] = {}
    items: list[tuple[str, str, Any]] = []
    for key, value in data.items():
        if key in TABLES_READ_ELSEWHERE:
            continue
        if key == "permissions":
            if not isinstance(value, dict):
                raise ConfigError(
                    f"expected a table ([permissions]), got {show(value)}",
                    path=path, line=_key_line(text, "", key), key=key,
                )
            items.extend(("permissions", k, v) for k, v in value.items())
        else:
            items.append(("", key, value))
    for table, key, value in items:
        line = _key_line(text, table, key)
        shown = f"{table}.{key}" if table else key
        name = _TABLE_KEYS.get(table, {}).get(key)
        if name is None:
            raise ConfigError(
                f"unknown setting{_suggest(key, table)}", path=path, line=line, key=shown
            )
        if name == "api_key" and user_file is not None:
            raise ConfigError(
                "API keys are not read from a project's config file, which may be committed "
                f"and shared; put it in {tilde(user_file)} or set ZAI_API_KEY",
                path=path, line=line, key=shown,
            )
        try:
            out[name] = (VALIDATORS[name](value), line)
        except Invalid as exc:
            raise ConfigError(str(exc), path=path, line=line, key=shown) from None
    return out
