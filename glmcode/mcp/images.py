"""Images in a server's tool result, checked the way an attached image is: a server may send
anything as base64 and call it a PNG, so each is decoded, identified and held to the limits
before it can reach a model. One that cannot be sent becomes a note saying why."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, replace

from glmcode.images.load import MAX_FILE_BYTES, Image, ImageError, decode_image
from glmcode.mcp.state import RemoteImage


@dataclass(frozen=True)
class Checked:
    images: tuple[Image, ...]
    notes: tuple[str, ...]  # one per image left out


def checked(remote: Sequence[RemoteImage], tool: str) -> Checked:
    """The images `tool` returned, each named by its place in the result."""
    images, notes = [], []
    for n, sent in enumerate(remote, 1):
        try:
            image = _decoded(sent)
        except ImageError as exc:
            notes.append(f"[image {n} of the result ({sent.mime_type or 'no type given'}) is left out: {exc}]")
            continue
        images.append(replace(image, name=f"{n} from {tool}"))
    return Checked(tuple(images), tuple(notes))


def _decoded(sent: RemoteImage) -> Image:
    # Base64 is four characters for three bytes: the size is known before decoding.
    if len(sent.data) * 3 // 4 > MAX_FILE_BYTES:
        raise ImageError(f"it is over {MAX_FILE_BYTES // 2**20} MB")
    try:
        raw = base64.b64decode("".join(sent.data.split()), validate=True)  # line breaks are allowed in base64
    except (binascii.Error, ValueError):
        raise ImageError("its data is not valid base64") from None
    return decode_image(raw, "it")
