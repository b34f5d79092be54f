"""The todo_write tool: the model's own plan, replaced whole on every call. The list lives in
the result (`data["todos"]`); the agent and the screen keep it, this module keeps nothing."""

from __future__ import annotations

from typing import Any

from glmcode.tools.base import Param, Tool, ToolContext, ToolError, ToolResult, description_beside

STATUSES = ("pending", "in_progress", "completed")
MARKS = {"completed": "[x]", "in_progress": "[~]", "pending": "[ ]"}

ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "content": {"type": "string", "description": "What to do, in a few words."},
        "status": {"type": "string", "enum": list(STATUSES)},
    },
    "required": ["content", "status"],
}


def run(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    todos = [_item(i, raw) for i, raw in enumerate(args["todos"], start=1)]
    doing = [t["content"] for t in todos if t["status"] == "in_progress"]
    if len(doing) > 1:
        raise ToolError(
            f"todo_write: {len(doing)} items are in_progress ({'; '.join(doing)}); keep at most "
            "one in progress and mark the others pending or completed"
        )
    return ToolResult(output=render(todos), data={"todos": todos})


def render(todos: list[dict[str, str]]) -> str:
    """The checklist as text: `[x]` completed, `[~]` in progress, `[ ]` pending."""
    if not todos:
        return "Todo list cleared."
    done = sum(t["status"] == "completed" for t in todos)
    lines = [f"Todo list ({done}/{len(todos)} completed):"]
    lines += [f"{MARKS[t['status']]} {t['content']}" for t in todos]
    return "\n".join(lines)


def _item(number: int, raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ToolError(f"todo_write: item {number} must be an object with content and status")
    content = raw.get("content")
    if not isinstance(content, str) or not content.strip():
        raise ToolError(f"todo_write: item {number} has no content; every item needs some text")
    status = raw.get("status")
    if status not in STATUSES:
        raise ToolError(
            f"todo_write: item {number} has status {status!r}; use one of {', '.join(STATUSES)}"
        )
    return {"content": " ".join(content.split()), "status": status}


TOOL = Tool(
    name="todo_write",
    description=description_beside(__file__, "todo_write"),
    params=(
        Param(
            "todos", "array", "The whole list, in order; it replaces the previous one.",
            items=ITEM_SCHEMA,
        ),
    ),
    kind="meta",
    run=run,
)
