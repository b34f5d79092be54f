"""Settings from five layers, later winning: defaults, the user's config file, the project's
`.glmcode/config.toml`, environment variables, command-line flags.

Every value remembers where it came from (`Settings.sources`), which is what `glmcode config`
shows. A project file is written by whoever wrote the repository, so it may tighten
permissions but may only loosen them once the user has trusted the folder.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from glmcode.llm.catalog import PROVIDERS
from glmcode.paths import (
    find_project_root,
    home_dir,
    project_config_file,
    trust_file,
    user_config_file,
)
from glmcode.permissions import MODES, Rule, mode_strictness

DEFAULT_PROVIDER = "zai"
DEFAULT_MODEL = "glm-4.6"

# Variables and the setting each gives; where two name one setting, the first set wins.
ENV_VARS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("GLMCODE_API_KEY", "ZAI_API_KEY"), "api_key"),
    (("GLMCODE_BASE_URL", "ZAI_BASE_URL"), "base_url"),
    (("GLMCODE_MODEL",), "model"),
    (("GLMCODE_PROVIDER",), "provider"),
    (("GLMCODE_PERMISSION_MODE",), "permission_mode"),
)
# Flags named like the option a person types, where that differs from the field name.
FLAG_NAMES = {"add_dirs": "--add-dir"}


@dataclass(frozen=True, kw_only=True)
class Settings:
    api_key: str | None = field(default=None, repr=False)
    provider: str = DEFAULT_PROVIDER
    base_url: str = PROVIDERS[DEFAULT_PROVIDER]
    model: str = DEFAULT_MODEL
    max_tokens: int | None = None
    temperature: float | None = None
    thinking: bool = True
    timeout: float = 300.0
    compact_threshold: float = 0.8
    permission_mode: str = "ask"
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    add_dirs: tuple[str, ...] = ()
    project_root: Path
    sources: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


SCALARS = ("api_key", "provider", "base_url", "model", "max_tokens", "temperature", "thinking",
           "timeout", "compact_threshold", "permission_mode")
LISTS = ("allow", "deny", "add_dirs")
# Settings' own defaults, except base_url: None there means "the chosen provider's URL".
DEFAULTS: dict[str, Any] = {
    **{f.name: f.default for f in fields(Settings) if f.name in SCALARS},
    "base_url": None,
}


class ConfigError(Exception):
    """A setting glmcode cannot use, said so that the user can fix it: which file and line
    (or which variable or flag), which key, and what was expected."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
        origin: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.key = key
        self.origin = origin
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.path is not None:
            where = _tilde(self.path)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
        else:
            where = self.origin or "settings"
        what = f"key '{self.key}': " if self.key else ""
        return f"{where}: {what}{self.message}"


class MissingKeyError(ConfigError):
    def __str__(self) -> str:
        return self.message


def _tilde(path: Path) -> str:
    try:
        return "~/" + Path(path).relative_to(Path.home()).as_posix()
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------------
# Values


class _Invalid(ValueError):
    """A value of the right key but the wrong shape; the loader adds where it was."""


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return str(value)


def _choice(name: str, allowed: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if isinstance(value, str) and value.strip() in allowed:
            return value.strip()
        import difflib

        close = difflib.get_close_matches(str(value), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise _Invalid(f"expected a {name}: one of {', '.join(allowed)}; got {_show(value)}{hint}")

    return check


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"expected a non-empty string, got {_show(value)}")
    return value.strip()


def _url(value: Any) -> str:
    text = _text(value)
    if not re.match(r"https?://[^/\s]+", text):
        raise _Invalid(f"expected an http:// or https:// URL, got {_show(value)}")
    return text.rstrip("/")


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _Invalid(f"expected a whole number above 0, got {_show(value)}")
    return value


def _positive_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise _Invalid(f"expected a number of seconds above 0, got {_show(value)}")
    return float(value)


def _temperature(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise _Invalid(f"expected a number between 0 and 1, got {_show(value)}")
    return float(value)


def _share(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise _Invalid(f"expected a share of the context window above 0 and at most 1 (0.8 is 80 %), got {_show(value)}")
    return float(value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, got {_show(value)}")
    return value


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        raise _Invalid(f"expected a list of strings, got {_show(value)}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise _Invalid(f"expected a list of non-empty strings, found {_show(item)}")
    return tuple(item.strip() for item in value)


def _rules(value: Any) -> tuple[str, ...]:
    out = []
    for text in _strings(value):
        try:
            out.append(str(Rule.parse(text)))
        except ValueError as exc:
            raise _Invalid(str(exc)) from None
    return tuple(out)


VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "api_key": _text,
    "provider": _choice("provider", tuple(PROVIDERS)),
    "base_url": _url,
    "model": _text,
    "max_tokens": _positive_int,
    "temperature": _temperature,
    "thinking": _boolean,
    "timeout": _positive_number,
    "compact_threshold": _share,
    "permission_mode": _choice("permission mode", MODES),
    "allow": _rules,
    "deny": _rules,
    "add_dirs": _strings,
}

# Where each setting lives in a TOML file: (table, key).
FILE_KEYS: dict[str, tuple[str, str]] = {
    **{name: ("", name) for name in SCALARS if name != "permission_mode"},
    "permission_mode": ("permissions", "mode"),
    "allow": ("permissions", "allow"),
    "deny": ("permissions", "deny"),
    "add_dirs": ("permissions", "add_dirs"),
}
# The other way round: table -> key in the file -> field name.
_TABLE_KEYS: dict[str, dict[str, str]] = {
    table: {key: name for name, (t, key) in FILE_KEYS.items() if t == table}
    for table in ("", "permissions")
}


# ---------------------------------------------------------------------------------------------
# Files


def _read_text(path: Path) -> str | None:
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


def _read_file_layer(
    path: Path, *, user_file: Path | None = None
) -> dict[str, tuple[Any, int | None]]:
    """Validated settings of one TOML file: field name -> (value, line). `user_file` is given
    for a project file, which may not hold the API key and says where it belongs instead."""
    text = _read_text(path)
    if text is None:
        return {}
    data = _parse_toml(path, text)
    out: dict[str, tuple[Any, int | None]] = {}
    items: list[tuple[str, str, Any]] = []
    for key, value in data.items():
        if key == "permissions":
            if not isinstance(value, dict):
                raise ConfigError(
                    f"expected a table ([permissions]), got {_show(value)}",
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
                f"and shared; put it in {_tilde(user_file)} or set ZAI_API_KEY",
                path=path, line=line, key=shown,
            )
        try:
            out[name] = (VALIDATORS[name](value), line)
        except _Invalid as exc:
            raise ConfigError(str(exc), path=path, line=line, key=shown) from None
    return out


# ---------------------------------------------------------------------------------------------
# Loading


class _Builder:
    """Accumulates layers: scalars are replaced, lists grow (a deny rule from the user's file
    stays when a flag adds another)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = dict(DEFAULTS)
        self.sources: dict[str, str] = {k: "default" for k in DEFAULTS}
        self.layer: dict[str, int] = {k: 0 for k in DEFAULTS}
        self.lists: dict[str, list[str]] = {k: [] for k in LISTS}
        self.list_sources: dict[str, list[str]] = {k: [] for k in LISTS}
        self.warnings: list[str] = []

    def set(self, name: str, value: Any, source: str, layer: int) -> None:
        if name in LISTS:
            if not value:
                return
            for item in value:
                if item not in self.lists[name]:
                    self.lists[name].append(item)
            if source not in self.list_sources[name]:
                self.list_sources[name].append(source)
        else:
            self.values[name] = value
            self.sources[name] = source
            self.layer[name] = layer


def _absolute_dirs(dirs: tuple[str, ...], base: Path, env: Mapping[str, str]) -> tuple[str, ...]:
    out = []
    for text in dirs:
        if text == "~" or text.startswith("~/"):
            path = home_dir(env) / text[2:]
        else:
            path = Path(text)
        out.append(os.path.normpath(path if path.is_absolute() else base / path))
    return tuple(out)


def _where(path: Path, line: int | None) -> str:
    return f"{_tilde(path)}:{line}" if line else _tilde(path)


def _apply_user_file(builder: _Builder, path: Path, root: Path, env: Mapping[str, str]) -> None:
    for name, (value, line) in _read_file_layer(path).items():
        if name == "add_dirs":
            value = _absolute_dirs(value, root, env)
        builder.set(name, value, _where(path, line), 1)


def _apply_project_file(builder: _Builder, path: Path, root: Path, env: Mapping[str, str]) -> None:
    layer = _read_file_layer(path, user_file=user_config_file(env))
    trusted: bool | None = None

    def trusted_now() -> bool:
        nonlocal trusted
        if trusted is None:
            trusted = is_trusted(root, env)
        return trusted

    hint = "ignored until you run `glmcode trust`"
    for name, (value, line) in layer.items():
        source = _where(path, line)
        if name == "add_dirs":
            value = _absolute_dirs(value, root, env)
        widening = (
            (name in ("allow", "add_dirs") and bool(value))
            or (name == "base_url" and value not in PROVIDERS.values())
            or (
                name == "permission_mode"
                and mode_strictness(value) < mode_strictness(builder.values["permission_mode"])
            )
        )
        if widening and not trusted_now():
            builder.warnings.append(_untrusted_warning(name, value, hint))
            continue
        builder.set(name, value, source, 2)


def _untrusted_warning(name: str, value: Any, hint: str) -> str:
    if name == "permission_mode":
        return f"project config asks for mode {value}; {hint}"
    if name == "allow":
        return f"project config asks to allow {', '.join(value)}; {hint}"
    if name == "add_dirs":
        return f"project config asks to add writable folders {', '.join(value)}; {hint}"
    # The API key goes wherever base_url points, so a repository may not choose it alone.
    return f"project config sets base_url {value}; {hint}"


def _apply_env(builder: _Builder, env: Mapping[str, str]) -> None:
    for names, field_name in ENV_VARS:
        # An empty variable is as good as unset: `ZAI_API_KEY= glmcode` is a common way to
        # hide a key from one run.
        var = next((name for name in names if env.get(name, "").strip()), None)
        if var is None:
            continue
        try:
            value = VALIDATORS[field_name](env[var])
        except _Invalid as exc:
            raise ConfigError(str(exc), origin=f"environment variable {var}") from None
        builder.set(field_name, value, f"env {var}", 3)


def _apply_flags(
    builder: _Builder, flags: Mapping[str, Any], cwd: Path, env: Mapping[str, str]
) -> None:
    for name, value in flags.items():
        if name not in VALIDATORS:
            raise ValueError(f"unknown setting in flags: {name!r}")
        if value is None or (name in LISTS and not value):
            continue
        flag = FLAG_NAMES.get(name, "--" + name.replace("_", "-"))
        try:
            checked = VALIDATORS[name](value)
        except _Invalid as exc:
            raise ConfigError(str(exc), origin=f"flag {flag}") from None
        if name == "add_dirs":
            checked = _absolute_dirs(checked, cwd, env)
        builder.set(name, checked, f"flag {flag}", 4)


def load_settings(
    cwd: Path,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Settings:
    """Settings for work in `cwd`. Raises ConfigError for anything it cannot use."""
    env = os.environ if env is None else env
    cwd = Path(cwd).expanduser().resolve()
    root = find_project_root(cwd)
    builder = _Builder()
    _apply_user_file(builder, user_config_file(env), root, env)
    _apply_project_file(builder, project_config_file(root), root, env)
    _apply_env(builder, env)
    _apply_flags(builder, flags or {}, cwd, env)

    values, sources = builder.values, builder.sources
    provider = values["provider"]
    # An explicit base_url wins unless a later layer chose a provider.
    if values["base_url"] is None or builder.layer["base_url"] < builder.layer["provider"]:
        values["base_url"] = PROVIDERS[provider]
        sources["base_url"] = f"provider {provider}"
    for name in LISTS:
        sources[name] = ", ".join(builder.list_sources[name]) or "default"
    return Settings(
        **values,
        **{name: tuple(builder.lists[name]) for name in LISTS},
        project_root=root,
        sources=MappingProxyType(dict(sources)),
        warnings=tuple(builder.warnings),
    )


def require_api_key(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """The key, or a MissingKeyError saying every way to give one."""
    if settings.api_key:
        return settings.api_key
    config = _tilde(user_config_file(env))
    openrouter = (
        "\nWith --provider openrouter, put your OpenRouter key in GLMCODE_API_KEY instead.\n"
        if settings.provider == "openrouter"
        else ""
    )
    message = (
        "no API key found.\n"
        "Give glmcode your Z.ai key in one of these ways:\n"
        '  - export ZAI_API_KEY="your-key"\n'
        "    (GLMCODE_API_KEY also works, and wins when both are set)\n"
        f"  - or add this line to {config}:\n"
        '        api_key = "your-key"\n'
        "Z.ai has two kinds of keys, each with its own endpoint:\n"
        "  - pay-as-you-go API keys use the default provider, zai;\n"
        "  - GLM Coding Plan keys need --provider zai-coding, or provider = \"zai-coding\" in\n"
        f"    {config}.\n"
        "A key used on the other kind's endpoint fails with error 1113 (\"arrears\")."
        f"{openrouter}"
    )
    raise MissingKeyError(message, path=user_config_file(env), key="api_key")


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
    if isinstance(value, float) and value.is_integer() and name == "timeout":
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
    return rows


# ---------------------------------------------------------------------------------------------
# Trust


def _trusted_roots(path: Path) -> list[str]:
    text = _read_text(path)
    if text is None:
        return []
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"is not valid JSON ({exc}); fix or delete it", path=path) from None
    roots = data.get("trusted") if isinstance(data, dict) else None
    if not isinstance(roots, list) or not all(isinstance(r, str) for r in roots):
        raise ConfigError('expected {"trusted": ["/path", ...]}; fix or delete it', path=path)
    return roots


def _root_key(root: Path) -> str:
    return str(Path(root).expanduser().resolve())


def is_trusted(root: Path, env: Mapping[str, str] | None = None) -> bool:
    return _root_key(root) in _trusted_roots(trust_file(env))


def trust_project(root: Path, env: Mapping[str, str] | None = None) -> None:
    """Remember that `root`'s own config may widen permissions. The file is replaced in one
    step, so a crash never leaves it half written."""
    path = trust_file(env)
    roots = _trusted_roots(path)
    key = _root_key(root)
    if key in roots:
        return
    roots.append(key)
    from glmcode.tools.changes import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"trusted": roots}, indent=2) + "\n"
    # Only the user may change which projects are allowed to widen their own permissions.
    write_atomic(path, text.encode("utf-8"), mode=0o600)
