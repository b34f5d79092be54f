"""Images kept once by content hash under the state folder (`images/`), so the session file
holds a short reference where the request held base64, and resume puts the image back."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from glmcode.llm.content import image_part, is_image_part, text_part
from glmcode.paths import state_dir

SCHEME = "glmcode-image:"
_DATA_URL = re.compile(r"data:(image/[a-z+.-]+);base64,(.*)", re.DOTALL)
_REF = re.compile(r"glmcode-image:([0-9a-f]{64})\.([a-z]+)")
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
_MEDIA_TYPES = {ext: media for media, ext in _EXTENSIONS.items()}


def images_dir(env: Mapping[str, str] | None = None) -> Path:
    return state_dir(env) / "images"


def save(data: bytes, media_type: str, folder: Path) -> str:
    """Stores the bytes (once: the name is their hash) and returns the reference."""
    digest = hashlib.sha256(data).hexdigest()
    ext = _EXTENSIONS.get(media_type, "bin")
    path = folder / f"{digest}.{ext}"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(temporary, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    return f"{SCHEME}{digest}.{ext}"


def to_references(message: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The message with every inline image stored and replaced by its reference; the same
    object when it holds none."""

    def stored(part: Any) -> Any:
        found = _inline(part)
        if found is None:
            return part
        media_type, data = found
        return image_part(save(data, media_type, folder))

    return _with_parts(message, stored)


def from_references(message: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The message with each reference turned back into the inline image; an image no longer
    on disk becomes a note saying so, so the conversation can still be sent."""

    def inline(part: Any) -> Any:
        ref = _reference(part)
        if ref is None:
            return part
        digest, ext = ref
        try:
            data = (folder / f"{digest}.{ext}").read_bytes()
        except OSError:
            return text_part(f"[an image was attached here; its stored copy {digest[:12]} is gone]")
        return image_part(f"data:{_MEDIA_TYPES.get(ext, 'image/png')};base64,{base64.b64encode(data).decode('ascii')}")

    return _with_parts(message, inline)


def _with_parts(message: dict[str, Any], change: Callable[[Any], Any]) -> dict[str, Any]:
    """The message with `change` applied to each content part; the same object when no part
    changed (a plain string content, or nothing to change)."""
    content = message.get("content")
    if not isinstance(content, list):
        return message
    parts = [change(part) for part in content]
    if all(new is old for new, old in zip(parts, content)):
        return message
    return {**message, "content": parts}


def _url(part: Any) -> str:
    if not is_image_part(part):
        return ""
    image_url = part.get("image_url")
    return str(image_url.get("url", "")) if isinstance(image_url, dict) else ""


def _inline(part: Any) -> tuple[str, bytes] | None:
    match = _DATA_URL.fullmatch(_url(part))
    if match is None:
        return None
    try:
        return match.group(1), base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        return None


def _reference(part: Any) -> tuple[str, str] | None:
    match = _REF.fullmatch(_url(part))
    return (match.group(1), match.group(2)) if match else None
