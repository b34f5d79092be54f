"""The settings glmcode runs with, their defaults, and the one setting with no default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from glmcode.config.errors import MissingKeyError, tilde
from glmcode.llm.catalog import PROVIDERS, RESELLERS
from glmcode.paths import user_config_file

if TYPE_CHECKING:
    from glmcode.config.mcp_servers import ServerSpec  # loaded only where a file names a server

DEFAULT_PROVIDER = "zai"
DEFAULT_MODEL = "glm-4.6"


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
    max_subagents: int = 3
    subagent_max_turns: int = 30
    permission_mode: str = "ask"
    notify: str = "bell"
    vision_model: str = "glm-4.6v"
    image_mode: str = "describe"
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    add_dirs: tuple[str, ...] = ()
    web: bool = True
    web_fetch_model: str = "glm-4.5-air"
    sandbox: str = "workspace-write"
    sandbox_network: bool = False
    command_timeout: float = 120.0
    command_max_output: int = 64  # MB
    command_max_processes: int = 512
    project_root: Path
    sources: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    mcp_servers: tuple[ServerSpec, ...] = ()
    mcp_untrusted: tuple[str, ...] = ()  # a project's servers waiting for trust or left out, as told at start


SCALARS = ("api_key", "provider", "base_url", "model", "max_tokens", "temperature", "thinking",
           "timeout", "compact_threshold", "permission_mode", "notify", "web", "web_fetch_model",
           "max_subagents", "subagent_max_turns",
           "sandbox", "sandbox_network", "command_timeout", "command_max_output", "command_max_processes",
           "vision_model", "image_mode")
LISTS = ("allow", "deny", "add_dirs")
# Settings' own defaults, except base_url: None there means "the chosen provider's URL".
DEFAULTS: Mapping[str, Any] = MappingProxyType({
    **{f.name: f.default for f in fields(Settings) if f.name in SCALARS},
    "base_url": None,
})


def require_api_key(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """The key, or a MissingKeyError saying every way to give one."""
    if settings.api_key:
        return settings.api_key
    config = tilde(user_config_file(env))
    vendor = RESELLERS.get(settings.provider)
    if vendor:
        # ZAI_API_KEY never goes to a reseller, so the Z.ai instructions would lead nowhere.
        held_back = (os.environ if env is None else env).get("ZAI_API_KEY")
        message = (
            "no API key found.\n"
            f"With --provider {settings.provider}, give glmcode your {vendor} key in one of these ways:\n"
            '  - export GLMCODE_API_KEY="your-key"\n'
            f"  - or add this line to {config}:\n"
            '        api_key = "your-key"\n'
            + (f"ZAI_API_KEY is set, but glmcode never sends it to {vendor}.\n" if held_back else "")
            + "For a Z.ai key, use --provider zai or zai-coding instead."
        )
    else:
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
        )
    raise MissingKeyError(message, path=user_config_file(env), key="api_key")
