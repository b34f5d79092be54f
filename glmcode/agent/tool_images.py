"""Images in tool results, on their way to the model. On GLM's wire a tool message is text
only, so for a model that sees, a step's images follow its tool messages in one user message
of their own; for one that does not, the vision model's description takes their place in the
result's text, or, with no vision model set, a note does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from glmcode.images.load import Image
from glmcode.llm.content import image_part, text_part
from glmcode.text import count
from glmcode.tools.base import ImagesSeen, ToolError, ToolResult

HEADER = "Images returned by tool "
# What the vision model is told of the result, beside the images.
_CONTEXT_CHARS = 2000


@dataclass(frozen=True)
class Returned:
    """Images a call returned that go to the model as images."""

    tool: str
    images: tuple[Image, ...]


def settle(
    result: ToolResult,
    tool: str,
    sees: bool,
    see_images: Callable[[Sequence[Image], str], ImagesSeen] | None,
) -> ToolResult:
    """`result` with its images said for the model in the text: that they follow (`sees`, the
    images kept for the message after the tool messages), what they show, or why they are left
    out. The description's cost goes into `data` as a tool's own spending does."""
    images = result.images
    if not images:
        return result
    n = len(images)
    if sees:
        follows = "it follows" if n == 1 else "they follow"
        return _with_line(result, f"[{count(n, 'image')} returned ({_kinds(images)}); {follows} in the next message]", images)
    if see_images is None:
        return _with_line(result, (
            f"[{count(n, 'image')} returned ({_kinds(images)}), left out: the current model cannot see images "
            "and no vision model is set. Setting vision_model (glm-4.6v, say) has them described; "
            "a model that sees (--model glm-4.6v) gets them as they are.]"
        ))
    context = f"The assistant called the tool {tool}, which returned these images with this text:\n{result.output[:_CONTEXT_CHARS]}"
    try:
        seen = see_images(images, context)
    except ToolError as exc:
        return _with_line(result, f"[{count(n, 'image')} returned ({_kinds(images)}), left out: {exc}]")
    data = dict(result.data or {})
    data["cost_usd"] = data.get("cost_usd", 0.0) + seen.cost_usd
    return replace(_with_line(result, seen.text), data=data)


def message(returned: Sequence[Returned]) -> dict[str, Any] | None:
    """The user message that carries a step's images, each call's under a line naming its
    tool; None when there are none."""
    parts: list[dict[str, Any]] = []
    for each in returned:
        parts.append(text_part(f"{HEADER}{each.tool}:"))
        parts.extend(image_part(image.data_url()) for image in each.images)
    return {"role": "user", "content": parts} if parts else None


def is_images_message(message: dict[str, Any]) -> bool:
    """Whether a user message is one `message` made, not a request of the user's."""
    content = message.get("content")
    if message.get("role") != "user" or not isinstance(content, list) or not content:
        return False
    first = content[0]
    return isinstance(first, dict) and first.get("type") == "text" and str(first.get("text", "")).startswith(HEADER)


def _kinds(images: Sequence[Image]) -> str:
    return ", ".join(f"{image.media_type.removeprefix('image/').upper()} {image.width}x{image.height}" for image in images)


def _with_line(result: ToolResult, line: str, images: tuple[Image, ...] = ()) -> ToolResult:
    model_output = None if result.model_output is None else f"{result.model_output}\n{line}"
    return replace(result, output=f"{result.output}\n{line}", model_output=model_output, images=images)
