"""`glmcode exec` reads its arguments without typer when it can (ui/exec_args): the command
must then be called exactly as typer would call it, and anything unusual is left to typer."""

from __future__ import annotations

from typing import Any

import pytest

from glmcode import cli
from glmcode.ui import exec_args, headless

SAMPLES = [
    ["hi"],
    ["-"],
    [""],
    ["fix the tests", "-o", "json"],
    ["--output-format=stream-json", "hi", "--verbose"],
    ["-v", "--max-turns", "3", "--resume", "2", "hi"],
    ["hi", "-m", "glm-4.5-air", "--provider", "zai", "--base-url", "http://127.0.0.1:1/v4"],
    ["hi", "--permission-mode", "read-only", "--full-auto"],
    ["hi", "--add-dir", "../a", "--add-dir=../b", "-C", "/tmp", "--max-tokens", "0"],
    ["--cd=/tmp", "--max-turns=007", "hi"],
    ["hi", "--thinking"],
    ["--no-thinking", "hi", "--max-tokens=4096"],
    ["hi", "--model="],
    ["hi", "--output-schema", "schema.json", "--schema-retries", "0"],
    ["--json", "hi", "--schema-retries=3", "--output-last-message", "out.txt"],
    ["--output-last-message=last.md", "-o", "json", "hi"],
    ["hi", "--mcp-config", "a.json", "--mcp-config=b.json"],
]

LEFT_TO_TYPER = [
    [],
    ["-h"],
    ["hi", "--help"],
    ["hi", "there"],
    ["--", "hi"],
    ["hi", "-o", "yaml"],
    ["hi", "-ojson"],
    ["hi", "-o=json"],
    ["hi", "--max-turns", "0"],
    ["hi", "--max-turns", "x"],
    ["hi", "--max-tokens", "-5"],
    ["hi", "--model"],
    ["hi", "--model", "--verbose"],
    ["hi", "-v", "-v"],
    ["hi", "-m", "a", "-m", "b"],
    ["hi", "--verbose=yes"],
    ["hi", "--thinking", "--no-thinking"],
    ["hi", "--unknown"],
    ["hi", "--schema-retries", "-1"],
    ["hi", "--json", "--json"],
    ["hi", "--output-schema"],
    ["-x"],
]


def _calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []

    def fake_exec(prompt: str, flags: dict[str, Any], **kwargs: Any) -> int:
        # Each reading begins its own TLS context; that one is begun is what must agree.
        kwargs["tls"] = type(kwargs.get("tls")).__name__
        calls.append((prompt, flags, kwargs))
        return 7

    monkeypatch.setattr(headless, "exec_command", fake_exec)
    return calls


@pytest.mark.parametrize("argv", SAMPLES, ids=" ".join)
def test_the_fast_reading_calls_exec_as_typer_does(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _calls(monkeypatch)
    params = exec_args.parse(argv)
    assert params is not None
    assert cli._run_exec(params) == 7
    assert cli._run(cli.build_app(), ["exec", *argv]) == 7
    fast, typer_call = calls
    assert fast == typer_call


@pytest.mark.parametrize("argv", LEFT_TO_TYPER, ids=" ".join)
def test_anything_unusual_is_left_to_typer(argv: list[str]) -> None:
    assert exec_args.parse(argv) is None
