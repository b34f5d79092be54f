"""An editor's prompt (content blocks) as the text glmcode sends the model: the words, files
the user attached whole (embedded context) with their content, files only linked by path."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from acp import RequestError, schema

from glmcode.acp.updates import fenced


def prompt_text(blocks: Sequence[Any]) -> str:
    parts: list[str] = []
    for block in blocks:
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


def uri_path(uri: str) -> str:
    """A file:// URI as a path; any other URI as it is."""
    parts = urlsplit(uri)
    return unquote(parts.path) if parts.scheme == "file" else uri
