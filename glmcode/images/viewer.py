"""Images the model opens itself, with read_file, or gets back from a tool, put into words by
the vision model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glmcode.images.load import Image
    from glmcode.llm.types import ModelReply
    from glmcode.tools.base import ImagesSeen


class ImageViewer:
    """`read_file` on an image: the vision model says what it shows (a tool result is text,
    so even a model that sees gets the image in words there). `images`: the same for images a
    tool returned, when the current model cannot see them. One client, made on first use."""

    def __init__(self, config: Any, vision_model: str) -> None:
        self._config = replace(config, model=vision_model)
        self._client: Any = None

    def __call__(self, path: Path) -> str:
        from glmcode.images.load import ImageError, load_image
        from glmcode.llm.errors import GLMError
        from glmcode.tools.base import ToolError

        try:
            image = load_image(path, name=path.name)
        except ImageError as exc:
            raise ToolError(str(exc)) from None
        try:
            reply = self._described("The assistant opened this file with read_file.", [image])
        except GLMError as exc:
            raise ToolError(f"{path.name} is an image, and {self._config.model} could not describe it: {exc}") from None
        text = reply.content.strip()
        return f"{image.label()}, described by {self._config.model} (the image itself cannot go in a tool result):\n{text}"

    def images(self, images: Sequence[Image], context: str) -> ImagesSeen:
        """What `images` show, told `context`; raises ToolError when the vision model fails."""
        from glmcode.llm.catalog import get_model
        from glmcode.llm.errors import GLMError
        from glmcode.tools.base import ImagesSeen, ToolError

        try:
            reply = self._described(context, images)
        except GLMError as exc:
            raise ToolError(f"{self._config.model} could not describe them: {exc}") from None
        labels = " ".join(image.label() for image in images)
        text = f"{labels}, described by {self._config.model} (the current model cannot see images):\n{reply.content.strip()}"
        return ImagesSeen(text, get_model(self._config.model).cost(reply.usage))

    def _described(self, context: str, images: Sequence[Image]) -> ModelReply:
        from glmcode.images.route import describe
        from glmcode.llm.client import GLMClient

        if self._client is None:
            self._client = GLMClient(self._config)
        return describe(self._client, context, images)
