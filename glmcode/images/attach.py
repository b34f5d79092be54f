"""Images attached to one prompt, ready to go: read, checked, and routed by the settings.
Every frontend attaches through here, so a bad image is refused the same way everywhere,
before anything is sent."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from glmcode.events import Event
from glmcode.images.load import Image, load_image
from glmcode.images.route import ImageRoute, route_for, run_with_images

if TYPE_CHECKING:
    from glmcode.agent.loop import Agent
    from glmcode.config.settings import Settings


@dataclass(frozen=True)
class Attached:
    images: tuple[Image, ...]
    route: ImageRoute

    def run(self, agent: Agent, prompt: str) -> Generator[Event, None, None]:
        return run_with_images(agent, prompt, self.images, self.route)


def attach(
    paths: Sequence[str | Path], settings: Settings, base: Path | None = None, names: Sequence[str] = ()
) -> Attached:
    """Reads every image (relative paths from `base`, by default the current folder; shown by
    `names` when given, else as written) and picks the route. Raises ImageError for the first
    one that cannot be sent, or when the model cannot see and no vision model is set."""
    route = route_for(settings.model, settings.vision_model, settings.image_mode)
    folder = base or Path.cwd()
    shown = list(names) or [str(p) for p in paths]
    images = tuple(load_image(folder / Path(p).expanduser(), name=n) for p, n in zip(paths, shown))
    return Attached(images, route)
