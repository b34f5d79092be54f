"""MCP servers in the config layers: tables, .mcp.json, trust, --mcp-config, the file edits of
`glmcode mcp add/remove`, presets, `${VAR}` references."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from glmcode.config.errors import ConfigError
from glmcode.config.layers import load_settings
from glmcode.config.mcp_edit import add_to_toml, remove_from_toml
from glmcode.config.mcp_servers import parse_server
from glmcode.config.trust import trust_project
from glmcode.config.values import Invalid
from glmcode.mcp.launch import LaunchError, launch_for
from glmcode.mcp.presets import preset


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    return root


def _user_file(text: str) -> Path:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "glmcode" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_user_table_becomes_a_server_with_its_defaults(project: Path) -> None:
    _user_file('model = "glm-4.6"\n[mcp_servers.calc]\ncommand = "python"\nargs = ["calc.py"]\nenv = { A = "1" }\n')
    [spec] = load_settings(project).mcp_servers
    assert (spec.name, spec.transport, spec.command, spec.args, dict(spec.env)) == ("calc", "stdio", "python", ("calc.py",), {"A": "1"})
    assert (spec.startup_timeout_s, spec.tool_timeout_s, spec.enabled, spec.scope) == (10.0, 60.0, True, "user")
    assert spec.source.endswith("glmcode/config.toml")


def test_glmcode_config_shows_each_server_and_its_file(project: Path) -> None:
    from glmcode.config.display import describe

    _user_file('[mcp_servers.calc]\ncommand = "python"\nargs = ["calc.py"]\nenabled = false\n')
    rows = {key: (value, source) for key, value, source in describe(load_settings(project))}
    value, source = rows["mcp_servers.calc"]
    assert value == "stdio python calc.py (disabled)" and source.endswith("glmcode/config.toml")


def test_http_servers_and_tool_filters() -> None:
    spec = parse_server("web", {"url": "https://example.com/mcp", "headers": {"X": "y"}, "bearer_token_env_var": "TOK",
                                "enabled_tools": ["search"], "disabled_tools": ["other"], "tool_timeout_s": 5},
                        source="s", scope="user")
    assert (spec.transport, spec.url, dict(spec.headers), spec.tool_timeout_s) == ("http", "https://example.com/mcp", {"X": "y"}, 5.0)
    assert spec.offers("search") and not spec.offers("other") and not spec.offers("third")
    assert parse_server("old", {"url": "http://127.0.0.1:1/sse", "transport": "sse"}, source="s", scope="user").transport == "sse"


@pytest.mark.parametrize(("name", "data", "message"), [
    ("calc", {"command": "x", "url": "http://a"}, "not both"),
    ("calc", {}, "not neither"),
    ("calc", {"command": "x", "arg": []}, "did you mean 'args'"),
    ("calc", {"url": "ftp://x"}, "http:// or https://"),
    ("calc", {"command": "x", "startup_timeout_s": 0}, "above 0"),
    ("calc", {"command": "x", "env": {"A": True}}, "'env.A' must be a string"),
    ("bad name", {"command": "x"}, "server name"),
    ("a__b", {"command": "x"}, "no '__'"),
])
def test_bad_tables_say_what_is_wrong(name: str, data: dict, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        parse_server(name, data, source="s", scope="user")


def test_a_bad_table_names_the_file_and_server(project: Path) -> None:
    _user_file('[mcp_servers.calc]\ncommand = "python"\ntimeout = 3\n')
    with pytest.raises(ConfigError, match=r"config.toml: key 'mcp_servers.calc': unknown key 'timeout'"):
        load_settings(project)


def test_project_servers_wait_for_trust(project: Path) -> None:
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"calc": {"command": "python", "args": ["calc.py"]}}}))
    (project / ".glmcode").mkdir()
    (project / ".glmcode" / "config.toml").write_text('[mcp_servers.db]\nurl = "http://127.0.0.1:9/mcp"\n')
    settings = load_settings(project)
    assert settings.mcp_servers == ()
    assert any("defines the MCP server calc (python calc.py)" in w and "glmcode trust" in w for w in settings.warnings)
    assert any("MCP server db" in w for w in settings.warnings)
    trust_project(project)
    trusted = load_settings(project)
    assert [s.name for s in trusted.mcp_servers] == ["calc", "db"] and trusted.warnings == ()
    assert {s.scope for s in trusted.mcp_servers} == {"project"}


def test_mcp_json_of_other_tools_is_read_as_is(project: Path) -> None:
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "web": {"type": "streamable-http", "url": "https://example.com/mcp", "headers": {"A": "b"}, "someOtherToolsKey": 1},
        "old": {"type": "sse", "url": "https://example.com/sse"},
    }}))
    trust_project(project)
    web, old = load_settings(project).mcp_servers
    assert (web.transport, old.transport) == ("http", "sse")


def test_a_project_mcp_json_glmcode_cannot_use_is_left_out_with_a_warning(project: Path) -> None:
    trust_project(project)
    mcp_json = project / ".mcp.json"
    mcp_json.write_text("{not json")
    broken = load_settings(project)
    assert broken.mcp_servers == ()
    assert [w for w in broken.warnings if "is not valid JSON" in w and w.endswith("glmcode leaves it out")]
    mcp_json.write_text(json.dumps({"mcpServers": {"calc": {"command": "python"}, "half": {"args": ["x"]}, "odd": 3}}))
    partly = load_settings(project)
    assert [s.name for s in partly.mcp_servers] == ["calc"]
    named = [w for w in partly.warnings if "mcpServers." in w]
    assert len(named) == 2 and any("'mcpServers.half'" in w for w in named) and any("'mcpServers.odd'" in w for w in named)
    assert all(".mcp.json" in w for w in named) and partly.mcp_untrusted == partly.warnings


def test_later_layers_win_and_mcp_config_adds_for_one_run(project: Path, tmp_path: Path) -> None:
    _user_file('[mcp_servers.calc]\ncommand = "user-calc"\n')
    extra = tmp_path / "ci.json"
    extra.write_text(json.dumps({"mcpServers": {"calc": {"command": "ci-calc"}, "more": {"command": "m"}}}))
    settings = load_settings(project, flags={"mcp_config": (str(extra),)})
    assert [(s.name, s.command, s.scope) for s in settings.mcp_servers] == [("calc", "ci-calc", "flag"), ("more", "m", "flag")]
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(project, flags={"mcp_config": (str(tmp_path / "missing.json"),)})
    extra.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_settings(project, flags={"mcp_config": (str(extra),)})


def test_add_and_remove_keep_the_rest_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('# mine\nmodel = "glm-4.6"\n\n[permissions]\nallow = ["grep"]\n')
    spec = parse_server("calc", {"command": "python", "args": ["a b.py"], "env": {"K": "v"}}, source="s", scope="user")
    add_to_toml(path, spec)
    web = parse_server("web", {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer ${TOKEN}"}}, source="s", scope="user")
    add_to_toml(path, web)
    with pytest.raises(ConfigError, match="already defines the MCP server calc"):
        add_to_toml(path, spec)
    assert remove_from_toml(path, "calc") is True
    assert remove_from_toml(path, "calc") is False
    text = path.read_text()
    assert text.startswith('# mine\nmodel = "glm-4.6"\n\n[permissions]\nallow = ["grep"]\n')
    assert "calc" not in text and '[mcp_servers.web]\nurl = "https://example.com/mcp"' in text
    assert remove_from_toml(path, "web") is True
    assert "mcp_servers" not in path.read_text()


def test_references_are_filled_in_only_at_start() -> None:
    spec = parse_server("v", {"command": "npx", "env": {"KEY": "${GLMCODE_API_KEY}", "M": "${MODE:-ZAI}"}}, source="s", scope="user")
    launch = launch_for(spec, {}, "the-key")
    assert dict(launch.env or {}) == {"KEY": "the-key", "M": "ZAI"}
    with pytest.raises(LaunchError, match=r"env.KEY refers to \$\{GLMCODE_API_KEY\}, which is not set"):
        launch_for(spec, {}, None)
    web = parse_server("w", {"url": "https://x/mcp", "bearer_token_env_var": "TOK"}, source="s", scope="user")
    assert dict(launch_for(web, {"TOK": "t1"}, None).headers or {}) == {"Authorization": "Bearer t1"}


def test_presets_follow_the_provider_and_never_hold_the_key(tmp_path: Path) -> None:
    search = preset("zai-web-search", "zai-coding", source="s", scope="user")
    assert search.url == "https://api.z.ai/api/mcp/web_search_prime/mcp" and search.bearer_token_env_var == "GLMCODE_API_KEY"
    reader = preset("zai-web-reader", "bigmodel-coding", source="s", scope="user")
    assert reader.url == "https://open.bigmodel.cn/api/mcp/web_reader/mcp"
    assert preset("zai-zread", "zai", source="s", scope="user").url.endswith("/api/mcp/zread/mcp")
    vision = preset("zai-vision", "bigmodel", source="s", scope="user")
    assert (vision.command, vision.args) == ("npx", ("-y", "@z_ai/mcp-server"))
    assert dict(vision.env) == {"Z_AI_API_KEY": "${GLMCODE_API_KEY}", "Z_AI_MODE": "ZHIPU"}
    path = tmp_path / "config.toml"
    add_to_toml(path, vision)
    assert "${GLMCODE_API_KEY}" in path.read_text()


def test_a_stdio_server_starts_in_the_workspace() -> None:
    here = parse_server("a", {"command": "x"}, source="s", scope="user")
    there = parse_server("b", {"command": "x", "cwd": "tools"}, source="s", scope="user")
    assert launch_for(here, {}, None, Path("/w")).cwd == "/w"
    assert launch_for(there, {}, None, Path("/w")).cwd == "/w/tools"
