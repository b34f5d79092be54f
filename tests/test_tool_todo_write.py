from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from glmcode.tools.base import ToolContext, ToolError, ToolResult
from glmcode.tools.todo_write import TOOL


def write(todos: Any, tmp_path: Path) -> ToolResult:
    return TOOL.run(TOOL.validate({"todos": todos}), ToolContext(tmp_path))


def test_schema_describes_the_items() -> None:
    params = TOOL.schema()["function"]["parameters"]
    assert list(params["properties"]) == ["todos"]
    assert params["required"] == ["todos"]
    todos = params["properties"]["todos"]
    assert todos["type"] == "array"
    assert todos["items"]["required"] == ["content", "status"]
    assert todos["items"]["properties"]["status"]["enum"] == ["pending", "in_progress", "completed"]
    assert TOOL.kind == "meta" and TOOL.read_only
    assert len(TOOL.description.encode()) <= 700


def test_renders_a_checklist_and_returns_the_list(tmp_path: Path) -> None:
    todos = [
        {"content": "Read the parser", "status": "completed"},
        {"content": "Fix the off-by-one", "status": "in_progress"},
        {"content": "Add a test", "status": "pending"},
    ]
    result = write(todos, tmp_path)
    assert not result.is_error
    assert result.output == (
        "Todo list (1/3 completed):\n"
        "[x] Read the parser\n"
        "[~] Fix the off-by-one\n"
        "[ ] Add a test"
    )
    assert result.data == {"todos": todos}


def test_each_call_replaces_the_whole_list(tmp_path: Path) -> None:
    write([{"content": "one", "status": "pending"}], tmp_path)
    second = write([{"content": "two", "status": "completed"}], tmp_path)
    assert second.data == {"todos": [{"content": "two", "status": "completed"}]}
    assert second.output == "Todo list (1/1 completed):\n[x] two"


def test_an_empty_list_clears_the_plan(tmp_path: Path) -> None:
    result = write([], tmp_path)
    assert result.output == "Todo list cleared."
    assert result.data == {"todos": []}


def test_more_than_one_in_progress_is_refused(tmp_path: Path) -> None:
    todos = [{"content": "a", "status": "in_progress"}, {"content": "b", "status": "in_progress"}]
    with pytest.raises(ToolError, match="2 items are in_progress .*at most one"):
        write(todos, tmp_path)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"content": "  ", "status": "pending"}, "item 1 has no content"),
        ({"status": "pending"}, "item 1 has no content"),
        ({"content": "x", "status": "done"}, "status 'done'; use one of pending, in_progress"),
        ("just text", "item 1 must be an object"),
    ],
)
def test_bad_items_are_refused_with_the_reason(item: Any, message: str, tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=message):
        write([item], tmp_path)


def test_todos_must_be_an_array(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="must be array"):
        write("buy milk", tmp_path)


def test_extra_keys_are_dropped_and_whitespace_folded(tmp_path: Path) -> None:
    result = write([{"content": " tidy\n up ", "status": "pending", "id": "1"}], tmp_path)
    assert result.data == {"todos": [{"content": "tidy up", "status": "pending"}]}
