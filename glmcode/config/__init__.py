"""glmcode's settings: what they are (`settings`), how they are loaded from five layers
(`layers`), what each accepts (`values`), reading the files (`files`), the error a bad one
becomes (`errors`), which projects are trusted (`trust`) and what `glmcode config` shows
(`display`); and the MCP servers configured among them: where they come from (`mcp_sources`),
one server's checked entry (`mcp_servers`) and adding or removing one (`mcp_edit`). The names
below are the ones most of glmcode needs."""

from glmcode.config.display import describe, mask_secret
from glmcode.config.errors import ConfigError, MissingKeyError
from glmcode.config.layers import ENV_VARS, load_settings
from glmcode.config.settings import Settings, require_api_key
from glmcode.config.trust import is_trusted, trust_project

__all__ = [
    "ENV_VARS",
    "ConfigError",
    "MissingKeyError",
    "Settings",
    "describe",
    "is_trusted",
    "load_settings",
    "mask_secret",
    "require_api_key",
    "trust_project",
]
