"""The parts of the MCP client: schemas made fit for GLM, results as text, the permission kind,
the registry's MCP group, a live server's tools changing, and no SDK import without servers."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_glmcode

from glmcode.config.mcp_servers import parse_server
from glmcode.events import Notice
from glmcode.mcp.hub import McpHub
from glmcode.mcp.schema import SchemaRefused, for_glm
from glmcode.mcp.state import RemoteResult
from glmcode.mcp.tools import as_tool_result, server_of, tool_name
from glmcode.permissions.policy import Policy, suggest_rule
from glmcode.tools.base import ToolContext, ToolError
from glmcode.tools.registry import Registry

CALC = Path(__file__).resolve().parent / "mcp_servers" / "calc.py"


def test_schemas_lose_what_only_describes_them_and_refs_are_written_out() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Args",
        "properties": {"where": {"$ref": "#/$defs/Place", "description": "the place"}},
        "required": ["where"],
        "$defs": {"Place": {"type": "object", "properties": {"city": {"type": "string"}}}},
    }
    assert for_glm(schema) == {
        "title": "Args", "type": "object", "required": ["where"],
        "properties": {"where": {"type": "object", "properties": {"city": {"type": "string"}}, "description": "the place"}},
    }
    assert for_glm({}) == {"type": "object", "properties": {}}  # what some servers send for no arguments
    with pytest.raises(SchemaRefused, match="not an object"):
        for_glm({"type": "string"})
    with pytest.raises(SchemaRefused, match="refers to #/definitions/Missing"):
        for_glm({"type": "object", "properties": {"a": {"$ref": "#/definitions/Missing"}}})
    tree = {
        "type": "object", "properties": {"root": {"$ref": "#/$defs/Node"}},
        "$defs": {"Node": {"type": "object", "description": "a node", "properties": {
            "name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
        }}},
    }
    root = for_glm(tree)["properties"]["root"]
    assert root["properties"]["name"] == {"type": "string"}
    assert root["properties"]["children"]["items"] == {"type": "object", "description": "a node (nested further; the same shape as above)"}
    deep: dict = {"type": "string"}
    for _ in range(30):
        deep = {"type": "array", "items": deep}
    assert "nested further" in json.dumps(for_glm({"type": "object", "properties": {"d": deep}}))


def test_arguments_named_like_schema_keywords_are_kept() -> None:
    schema = {"type": "object", "required": ["definitions", "$id"], "properties": {
        "definitions": {"type": "string"}, "$id": {"type": "integer"}, "other": {"type": "integer"},
    }}
    assert for_glm(schema)["properties"] == schema["properties"]


def test_names_and_results() -> None:
    assert tool_name("db", "run.query") == "mcp__db__run_query"
    assert len(tool_name("s", "x" * 100)) == 64
    assert server_of("mcp__db__run_query") == "db" and server_of("read_file") is None
    structured = as_tool_result(RemoteResult(structured={"rows": 3}), "mcp__db__q")
    assert json.loads(structured.output) == {"rows": 3} and not structured.is_error and structured.images == ()
    summary = as_tool_result(RemoteResult(texts=("3 rows",), structured={"rows": 3}), "mcp__db__q")
    assert summary.output.startswith("3 rows\n") and json.loads(summary.output.split("\n", 1)[1]) == {"rows": 3}
    echoed = as_tool_result(RemoteResult(texts=('{"rows": 3}',), structured={"rows": 3}), "mcp__db__q")
    assert echoed.output == '{"rows": 3}'
    wrapped = as_tool_result(RemoteResult(texts=("7",), structured={"result": 7}), "mcp__db__q")
    assert wrapped.output == "7"
    error = as_tool_result(RemoteResult(texts=("no such table",), is_error=True), "mcp__db__q")
    assert error.is_error and error.output == "no such table"
    big = as_tool_result(RemoteResult(texts=("\n".join(f"line {n}" for n in range(5000)),)), "mcp__db__q")
    assert big.model_output is not None and "lines left out" in big.model_output and len(big.output) > len(big.model_output)
    assert as_tool_result(RemoteResult(), "mcp__db__q").output == "(the tool returned nothing)"


@pytest.mark.parametrize(("mode", "decision"), [("read-only", "deny"), ("ask", "ask"), ("auto-edit", "ask"), ("full-auto", "allow")])
def test_mcp_tools_ask_until_full_auto_whatever_their_arguments(mode: str, decision: str) -> None:
    # A "command" argument that only reads must not make an MCP tool pass as a shell reader.
    assert Policy(mode).decide("mcp__db__query", "mcp", {"command": "ls"}).decision == decision


def test_rules_for_servers_and_the_suggested_rule() -> None:
    policy = Policy("ask", allow=["mcp__github__*"], deny=["mcp__db__drop*"])
    assert policy.decide("mcp__github__create_issue", "mcp", {}).decision == "allow"
    assert policy.decide("mcp__db__drop_table", "mcp", {}).decision == "deny"
    assert Policy("full-auto", deny=["mcp__db__drop*"]).decide("mcp__db__drop_table", "mcp", {}).decision == "deny"
    assert suggest_rule("mcp__db__drop_table", {}) == "mcp__db__*"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[McpHub]:
    spec = parse_server("calc", {"command": sys.executable, "args": [str(CALC)], "startup_timeout_s": 60},
                        source="test", scope="user")
    hub = McpHub([spec], Registry.builtin(), {"PATH": "/usr/bin:/bin"}, None)
    hub.start()
    yield hub
    hub.close()


def test_a_live_servers_tools_join_the_registry_and_their_changes_are_picked_up(hub: McpHub, tmp_path: Path) -> None:
    said = [n.message for n in hub.before_run() if isinstance(n, Notice)]
    assert said in (["Waiting for MCP server calc to start…"], [])  # [] when it was quicker than this test
    names = hub.registry.names
    builtin = Registry.builtin().names
    assert names[: len(builtin)] == builtin and "mcp__calc__add" in names and "mcp__calc__extra" not in names
    schemas = hub.registry.schemas()
    assert list(hub.before_run()) == [] and hub.registry.schemas() is schemas  # nothing changed: the same list

    ctx = ToolContext(workspace=tmp_path)
    peek = hub.registry.get("mcp__calc__peek")
    assert peek is not None and peek.kind == "mcp" and peek.preview is not None
    assert "(the server says: read-only)" in peek.preview({}, ctx)
    picture = hub.registry.get("mcp__calc__picture").run({}, ctx)  # type: ignore[union-attr]
    assert picture.output == "(the tool returned only images)"
    [image] = picture.images
    assert image.label() == "[image 1 from mcp__calc__picture 4x3]" and image.media_type == "image/png"

    grown = hub.registry.get("mcp__calc__grow").run({}, ctx)  # type: ignore[union-attr]
    assert grown.output == "grown"
    list(hub.before_run())
    assert "mcp__calc__extra" in hub.registry.names and hub.registry.schemas() is not schemas
    assert hub.registry.get("mcp__calc__extra").run({}, ctx).output == "extra!"  # type: ignore[union-attr]

    with pytest.raises(ToolError, match="did not answer|went away|refused"):
        hub.registry.get("mcp__calc__crash").run({}, ctx)  # type: ignore[union-attr]
    told = [n.message for n in hub.between_turns() if isinstance(n, Notice)]
    assert len(told) == 1 and "MCP server calc went away" in told[0] and "crashing on purpose" in told[0]
    assert "mcp__calc__add" in hub.registry.names  # for the rest of the run, a call says why it fails
    assert list(hub.between_turns()) == []  # said once
    assert not any("calc" in n.message for n in hub.before_run() if isinstance(n, Notice))  # and not again
    assert not any(name.startswith("mcp__") for name in hub.registry.names)
    assert hub.restart("calc").status == "ready"
    assert "mcp__calc__extra" not in hub.registry.names and "mcp__calc__add" in hub.registry.names


def _imported(stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def _sdk(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in ("mcp", "mcp_types", "httpx2") or m.startswith("glmcode.mcp"))


def test_without_servers_nothing_of_the_sdk_is_imported(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": "ok"}])
    env = {"ZAI_API_KEY": "k", "GLMCODE_BASE_URL": fake.base_url, "PYTHONPROFILEIMPORTTIME": "1"}
    proc = run_glmcode(["exec", "hi"], tmp_path, env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = _imported(proc.stderr)
    assert "glmcode.agent.setup" in modules and _sdk(modules) == []
    version = run_glmcode(["--version"], tmp_path, {"PYTHONPROFILEIMPORTTIME": "1"})
    assert version.returncode == 0 and _sdk(_imported(version.stderr)) == []
