"""Images the model opens itself, with read_file, put into words by the vision model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any


class ImageViewer:
    """`read_file` on an image: the vision model says what it shows (a tool result is text,
    so even a model that sees gets the image in words there). One client, made on first use."""

    def __init__(self, config: Any, vision_model: str) -> None:
        self._config = replace(config, model=vision_model)
        self._client: Any = None

    def __call__(self, path: Path) -> str:
        from glmcode.images.load import ImageError, load_image
        from glmcode.images.route import describe
        from glmcode.llm.client import GLMClient
        from glmcode.llm.errors import GLMError
        from glmcode.tools.base import ToolError

        try:
            image = load_image(path, name=path.name)
        except ImageError as exc:
            raise ToolError(str(exc)) from None
        if self._client is None:
            self._client = GLMClient(self._config)
        try:
            reply = describe(self._client, "The assistant opened this file with read_file.", [image])
        except GLMError as exc:
            raise ToolError(f"{path.name} is an image, and {self._config.model} could not describe it: {exc}") from None
        text = reply.content.strip()
        return f"{image.label()}, described by {self._config.model} (the image itself cannot go in a tool result):\n{text}"
