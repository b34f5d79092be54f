"""Message content as GLM takes it: a string, or a list of parts (`text`, `image_url`).

Only vision models may be sent image parts; for any other model they are replaced with a
short note at the moment the request is built, so a conversation that once carried an image
can go on with a text model without ever sending it one.
"""

from __future__ import annotations

from typing import Any

IMAGE_NOT_SENT = "[an image was attached here; this model cannot see images]"


def text_part(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def image_part(url: str) -> dict[str, Any]:
    """`url` is a data URL (`data:image/png;base64,...`) or an https URL."""
    return {"type": "image_url", "image_url": {"url": url}}


def is_image_part(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") == "image_url"


def has_images(message: dict[str, Any]) -> bool:
    content = message.get("content")
    return isinstance(content, list) and any(is_image_part(p) for p in content)


def without_images(message: dict[str, Any]) -> dict[str, Any]:
    """The message with each image part replaced by a text note; unchanged (the same object)
    when it holds none."""
    if not has_images(message):
        return message
    parts = [text_part(IMAGE_NOT_SENT) if is_image_part(p) else p for p in message["content"]]
    return {**message, "content": parts}


def content_text(content: Any) -> str:
    """The text of a content: the string, or its text parts joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""
