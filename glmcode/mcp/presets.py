"""The GLM Coding Plan's own MCP servers, ready to add: web search, web reader, zread (a
repository reader) over HTTP, and vision as a local stdio server. Each refers to glmcode's
key (`GLMCODE_API_KEY`, filled in when the server starts), so the key is never written down."""

from __future__ import annotations

from glmcode.config.mcp_servers import ServerSpec

_HOSTS = {"zai": "https://api.z.ai", "bigmodel": "https://open.bigmodel.cn"}
_HTTP = {"zai-web-search": "web_search_prime", "zai-web-reader": "web_reader", "zai-zread": "zread"}
PRESETS = (*_HTTP, "zai-vision")
KEY_REFERENCE = "GLMCODE_API_KEY"


def region(provider: str) -> str:
    """"bigmodel" for the BigModel (mainland China) providers, else "zai"."""
    return "bigmodel" if provider.startswith("bigmodel") else "zai"


def preset(name: str, provider: str, *, source: str, scope: str) -> ServerSpec:
    """The preset's server, named after it, for the region of `provider`."""
    where = region(provider)
    if name in _HTTP:
        return ServerSpec(
            name=name, transport="http", source=source, scope=scope,
            url=f"{_HOSTS[where]}/api/mcp/{_HTTP[name]}/mcp", bearer_token_env_var=KEY_REFERENCE,
        )
    if name == "zai-vision":
        mode = "ZHIPU" if where == "bigmodel" else "ZAI"
        return ServerSpec(
            name=name, transport="stdio", source=source, scope=scope,
            command="npx", args=("-y", "@z_ai/mcp-server"),
            env={"Z_AI_API_KEY": "${" + KEY_REFERENCE + "}", "Z_AI_MODE": mode},
            startup_timeout_s=60.0,  # npx may download the package first
        )
    raise ValueError(f"unknown preset {name!r}; the presets are: {', '.join(PRESETS)}")
