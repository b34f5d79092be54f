"""Settings from five layers, later winning: defaults, the user's config file, the project's
`.glmcode/config.toml`, environment variables, command-line flags.

Every value remembers where it came from (`Settings.sources`). A project file is written by
whoever wrote the repository, so it may tighten permissions but may only loosen them once the
user has trusted the folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from glmcode.config.errors import ConfigError, tilde
from glmcode.config.files import ConfigFiles, read_file_layer
from glmcode.config.settings import DEFAULTS, LISTS, Settings
from glmcode.config.trust import UNTIL_TRUSTED, is_trusted
from glmcode.config.values import VALIDATORS, Invalid
from glmcode.llm.catalog import PROVIDERS, RESELLERS
from glmcode.paths import find_project_root, home_dir, project_config_file, user_config_file
from glmcode.permissions.modes import mode_strictness
from glmcode.sandbox.policy import sandbox_strictness

# Limits a project file may lower, but raise only once trusted.
_LIMITS = ("command_timeout", "command_max_output", "command_max_processes")
# Where a project may send the user's key without being trusted: Z.ai's own endpoints.
_OWN_ENDPOINTS = frozenset(url for name, url in PROVIDERS.items() if name not in RESELLERS)

# Variables and the setting each gives; where two name one setting, the first set wins.
ENV_VARS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("GLMCODE_API_KEY", "ZAI_API_KEY"), "api_key"),
    (("GLMCODE_BASE_URL", "ZAI_BASE_URL"), "base_url"),
    (("GLMCODE_MODEL",), "model"),
    (("GLMCODE_PROVIDER",), "provider"),
    (("GLMCODE_PERMISSION_MODE",), "permission_mode"),
    (("GLMCODE_SANDBOX",), "sandbox"),
)
# Flags named like the option a person types, where that differs from the field name.
FLAG_NAMES: Mapping[str, str] = MappingProxyType({"add_dirs": "--add-dir", "web": "--no-web"})


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
        self.zai_key: str | None = None  # ZAI_API_KEY's value, which only Z.ai's endpoints get

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
    return f"{tilde(path)}:{line}" if line else tilde(path)


def _apply_user_file(builder: _Builder, path: Path, root: Path, env: Mapping[str, str], files: ConfigFiles) -> None:
    for name, (value, line) in read_file_layer(path, files=files).items():
        if name == "add_dirs":
            value = _absolute_dirs(value, root, env)
        builder.set(name, value, _where(path, line), 1)


def _apply_project_file(builder: _Builder, path: Path, root: Path, env: Mapping[str, str], files: ConfigFiles) -> None:
    layer = read_file_layer(path, user_file=user_config_file(env), files=files)
    trusted: bool | None = None

    def trusted_now() -> bool:
        nonlocal trusted
        if trusted is None:
            trusted = is_trusted(root, env)
        return trusted

    hint = f"ignored {UNTIL_TRUSTED}"
    for name, (value, line) in layer.items():
        source = _where(path, line)
        if name == "add_dirs":
            value = _absolute_dirs(value, root, env)
        widening = (
            (name in ("allow", "add_dirs") and bool(value))
            or (name == "base_url" and value not in _OWN_ENDPOINTS)
            or (name == "provider" and value in RESELLERS)
            or (name == "web" and value and not builder.values["web"])
            or (
                name == "permission_mode"
                and mode_strictness(value) < mode_strictness(builder.values["permission_mode"])
            )
            or (name == "sandbox" and sandbox_strictness(value) < sandbox_strictness(builder.values["sandbox"]))
            or (name == "sandbox_network" and value and not builder.values["sandbox_network"])
            or (name in _LIMITS and value > builder.values[name])
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
    if name == "web":
        return f"project config turns the web tools on; {hint}"
    if name in ("sandbox", "sandbox_network", *_LIMITS):
        shown = "true" if value is True else value
        return f"project config asks for {name} = {shown}, looser than yours; {hint}"
    # The API key goes wherever base_url points, so a repository may not choose it alone.
    if name == "provider":
        return f"project config sets provider {value}, which would send your key to {RESELLERS[value]}; {hint}"
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
        except Invalid as exc:
            raise ConfigError(str(exc), origin=f"environment variable {var}") from None
        if var == "ZAI_API_KEY":
            builder.zai_key = value  # set once the provider is known
            continue
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
        except Invalid as exc:
            raise ConfigError(str(exc), origin=f"flag {flag}") from None
        if name == "add_dirs":
            checked = _absolute_dirs(checked, cwd, env)
        builder.set(name, checked, f"flag {flag}", 4)


def _mcp_servers(
    root: Path, env: Mapping[str, str], cwd: Path, flag_files: Sequence[str], files: ConfigFiles
) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    """The MCP servers to run here (config/mcp_sources.py). Where no file could name one, the
    definitions are not loaded at all: most runs have none, and every run pays for the loading."""
    from glmcode.paths import project_mcp_json

    named = any(
        "mcp_servers" in (files.text(path) or "") for path in (user_config_file(env), project_config_file(root))
    )
    if not (flag_files or named or project_mcp_json(root).exists()):
        return (), ()
    from glmcode.config.mcp_sources import load_mcp_servers

    return load_mcp_servers(root, env, cwd, flag_files, files)


def load_settings(
    cwd: Path,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
    files: ConfigFiles | None = None,
) -> Settings:
    """Settings for work in `cwd`. Raises ConfigError for anything it cannot use. `files`:
    the config files as read so far, when the caller reads them for more than the settings."""
    env = os.environ if env is None else env
    files = files or ConfigFiles()
    cwd = Path(cwd).expanduser().resolve()
    root = find_project_root(cwd)
    flags = dict(flags or {})
    mcp_files = flags.pop("mcp_config", None) or ()  # files of servers for this run, not a setting
    builder = _Builder()
    _apply_user_file(builder, user_config_file(env), root, env, files)
    _apply_project_file(builder, project_config_file(root), root, env, files)
    _apply_env(builder, env)
    _apply_flags(builder, flags, cwd, env)
    servers, mcp_warnings = _mcp_servers(root, env, cwd, mcp_files, files)

    values, sources = builder.values, builder.sources
    provider = values["provider"]
    # A Z.ai key is worthless to a reseller, and handing it over would leak it.
    if builder.zai_key and provider not in RESELLERS and builder.layer["api_key"] < 3:
        builder.set("api_key", builder.zai_key, "env ZAI_API_KEY", 3)
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
        warnings=(*builder.warnings, *mcp_warnings),
        mcp_servers=servers,
        mcp_untrusted=mcp_warnings,
    )
