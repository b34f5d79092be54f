"""apply_patch: add, delete, update and move several files in one all-or-nothing change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glmcode.tools.base import Param, Tool, ToolContext, ToolError, ToolResult, description_beside
from glmcode.tools.changes import apply_changes, unified_diff

if TYPE_CHECKING:
    from glmcode.tools.patch_apply import Planned


def _summary(planned: list[Planned], ctx: ToolContext) -> tuple[str, dict[str, list[Any]]]:
    data: dict[str, list[Any]] = {"added": [], "updated": [], "deleted": [], "moved": []}
    rows = []
    for item in planned:
        change = item.change
        shown = ctx.display(change.path)
        if change.old is None:
            data["added"].append(shown)
            rows.append(f"added {shown}")
        elif change.new is None:
            data["deleted"].append(shown)
            rows.append(f"deleted {shown}")
        elif change.is_move:
            source = ctx.display(change.source)
            data["moved"].append([source, shown])
            changed = " (and updated)" if change.old != change.new else ""
            rows.append(f"moved {source} -> {shown}{changed}")
        else:
            data["updated"].append(shown)
            rows.append(f"updated {shown}")
    count = len(planned)
    head = f"Applied the patch to {count} file{'s' if count != 1 else ''}:"
    return "\n".join([head, *(f"  {row}" for row in rows)]), data


def run(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    from glmcode.tools.patch_apply import REJECTED, plan

    try:
        planned = plan(args, ctx)
    except ToolError as e:
        message = str(e)
        if not message.endswith(REJECTED):
            message = f"{message}\n{REJECTED}"
        raise ToolError(message) from None
    changes = [item.change for item in planned]
    diff = unified_diff(changes, ctx)
    apply_changes(changes, ctx.editor)
    output, data = _summary(planned, ctx)
    return ToolResult(output, diff=diff, data=data)


def preview(args: dict[str, Any], ctx: ToolContext) -> str:
    from glmcode.tools.patch_apply import plan

    return unified_diff([item.change for item in plan(args, ctx)], ctx)


TOOL = Tool(
    name="apply_patch",
    description=description_beside(__file__, "apply_patch"),
    params=(Param("patch", "string", "The whole patch, from *** Begin Patch to *** End Patch."),),
    kind="edit",
    run=run,
    preview=preview,
)
