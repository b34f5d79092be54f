"""An editor's prompt (content blocks) as the text glmcode sends the model: the words, files
the user attached whole (embedded context) with their content, files only linked by path."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from acp import RequestError, schema

from glmcode.acp.updates import fenced

if TYPE_CHECKING:
    from glmcode.images.load import Image


def prompt_text(blocks: Sequence[Any]) -> str:
    """The prompt's words; images are read apart, by `prompt_images`."""
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, schema.ImageContentBlock):
            continue
        if isinstance(block, schema.TextContentBlock):
            parts.append(block.text)
        elif isinstance(block, schema.ResourceContentBlock):
            parts.append(f"@{uri_path(block.uri)}")
        elif isinstance(block, schema.EmbeddedResourceContentBlock):
            resource = block.resource
            if not isinstance(resource, schema.TextResourceContents):
                raise RequestError.invalid_params({"details": f"{resource.uri}: only text resources can be attached"})
            parts.append(f"\n\nThe file {uri_path(resource.uri)}:\n{fenced(resource.text)}\n")
        else:
            kind = getattr(block, "type", type(block).__name__)
            raise RequestError.invalid_params({"details": f"glmcode takes no {kind} content in a prompt"})
    text = "".join(parts)
    if not text.strip():
        raise RequestError.invalid_params({"details": "the prompt is empty"})
    return text


def prompt_images(blocks: Sequence[Any]) -> list[Image]:
    """The prompt's images, checked as glmcode checks an attached file; invalid params (saying
    which image and why) for one that cannot be sent."""
    from glmcode.images.load import ImageError, decode_image

    images = []
    for number, block in enumerate(b for b in blocks if isinstance(b, schema.ImageContentBlock)):
        name = uri_path(block.uri).rsplit("/", 1)[-1] if block.uri else f"image-{number + 1}"
        try:
            images.append(decode_image(base64.b64decode(block.data, validate=True), name))
        except (binascii.Error, ValueError) as exc:
            message = str(exc) if isinstance(exc, ImageError) else f"{name}: the image data is not base64"
            raise RequestError.invalid_params({"details": message}) from None
    return images


def uri_path(uri: str) -> str:
    """A file:// URI as a path; any other URI as it is."""
    parts = urlsplit(uri)
    return unquote(parts.path) if parts.scheme == "file" else uri
