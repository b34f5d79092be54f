"""A tool call's answer from the SDK's content blocks into glmcode's plain `RemoteResult`: text
stays text, images (and embedded resources that hold one) go on as images, and what the model
cannot take is named in its place."""

from __future__ import annotations

from typing import Any

import mcp_types as types

from glmcode.mcp.state import RemoteImage, RemoteResult


def content_text(block: Any) -> str:
    """A content block as the text the model reads: images, audio and binary resources are
    named in their place."""
    kind = getattr(block, "type", "")
    if kind == "text":
        return str(block.text)
    if kind == "image":
        return f"[image ({block.mime_type}) left out]"
    if kind == "audio":
        return f"[audio ({block.mime_type}) left out: glmcode passes no audio to the model]"
    if kind == "resource":
        inner = block.resource
        text = getattr(inner, "text", None)
        return text if isinstance(text, str) else f"[binary resource {inner.uri} ({inner.mime_type}) left out]"
    if kind == "resource_link":
        return f"[resource {block.uri}" + (f": {block.description}" if block.description else "") + "]"
    return f"[{kind or 'unknown'} content left out]"


def _image_blob(block: Any) -> bool:
    """An embedded resource holding an image (a screenshot saved as a resource, say) goes on as
    the image it is."""
    inner = getattr(block, "resource", None) if getattr(block, "type", "") == "resource" else None
    return isinstance(getattr(inner, "blob", None), str) and str(getattr(inner, "mime_type", "") or "").startswith("image/")


def as_result(result: types.CallToolResult) -> RemoteResult:
    texts, images = [], []
    for block in result.content:
        if getattr(block, "type", "") == "image":
            images.append(RemoteImage(str(block.mime_type), str(block.data)))
        elif _image_blob(block):
            images.append(RemoteImage(str(block.resource.mime_type), str(block.resource.blob)))
        else:
            texts.append(content_text(block))
    return RemoteResult(tuple(texts), result.structured_content, tuple(images), bool(result.is_error))


def unusable_answer(server: str, exc: Exception) -> str:
    """What to tell the model of an answer the SDK would not take: the first problem of the
    many a validator lists, for the model needs only to know the tool's result is lost."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        found = errors()
        first = found[0] if found else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        more = f", and {len(found) - 1} more" if len(found) > 1 else ""
        return f"the MCP server {server} answered with no valid tool result ({where}: {first.get('msg', exc)}{more})"
    said = str(exc).split("\n", 1)[0]
    if said.startswith("Invalid structured content"):
        said = "its structured content breaks the tool's own output schema: " + said.split(": ", 1)[-1]
    return f"the MCP server {server}'s answer cannot be used: {said}"
