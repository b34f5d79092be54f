"""Which model sees a turn's images, and the run that follows.

- `direct`: the main model sees images (glm-4.6v chosen as the model): they go to it as parts.
- `describe` (the default for a text model): the vision model describes them, with the user's
  words for context, and the description goes to the main model in their place. The session
  stays on one model and its prompt cache keeps working.
- `native`: the whole run that carries the images is made by the vision model, tools included.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glmcode.events import Error, Event, ImagesDescribed, RunFinished
from glmcode.images.load import Image, ImageError
from glmcode.llm.catalog import get_model, sees_images
from glmcode.llm.content import image_part, text_part

if TYPE_CHECKING:
    from glmcode.agent.loop import Agent
    from glmcode.llm.types import ModelReply

MODES = ("describe", "native")
DESCRIBE_PROMPT = (Path(__file__).with_name("describe_prompt.md")).read_text(encoding="utf-8")


@dataclass(frozen=True)
class ImageRoute:
    mode: str  # "direct" | "describe" | "native"
    vision_model: str


def route_for(main_model: str, vision_model: str, image_mode: str) -> ImageRoute:
    """Raises ImageError when the main model cannot see and no vision model is set."""
    if sees_images(main_model):
        return ImageRoute("direct", main_model)
    if not vision_model.strip():
        raise ImageError(
            f"{main_model} cannot see images and no vision model is set; set vision_model "
            "(glm-4.6v, say) in the config, or choose a vision model with --model"
        )
    return ImageRoute(image_mode, vision_model)


def content_with(prompt: str, images: Sequence[Image]) -> list[dict[str, Any]]:
    """The user message's content: the words, then each image as a part."""
    return [text_part(prompt), *(image_part(image.data_url()) for image in images)]


def run_with_images(agent: Agent, prompt: str, images: Sequence[Image], route: ImageRoute) -> Generator[Event, None, None]:
    """`agent.run` for a prompt that carries images, sent the way `route` says."""
    if not images:
        yield from agent.run(prompt)
        return
    if route.mode == "direct":
        yield from agent.run(content_with(prompt, images))
        return
    vision = _vision_client(agent, route.vision_model)
    try:
        if route.mode == "native":
            main, agent.client = agent.client, vision
            try:
                yield from agent.run(content_with(prompt, images))
            finally:
                agent.client = main
            return
        described = yield from _described(agent, vision, route.vision_model, prompt, images)
        if described is not None:
            yield from agent.run(f"{prompt}\n\n{described}")
    finally:
        vision.close()


def describe(client: Any, context: str, images: Sequence[Image]) -> ModelReply:
    """What the vision model behind `client` says `images` show, told `context` (why they are
    being looked at); raises the client's GLMError."""
    return client.complete([
        {"role": "system", "content": DESCRIBE_PROMPT},
        {"role": "user", "content": content_with(context, images)},
    ])


def _vision_client(agent: Agent, model: str) -> Any:
    from glmcode.llm.client import GLMClient

    config = replace(agent.client.config, model=model)  # type: ignore[attr-defined]
    return GLMClient(config, known_tools=frozenset(agent.runner.registry.names))


def _described(
    agent: Agent, vision: Any, model: str, prompt: str, images: Sequence[Image]
) -> Generator[Event, None, str | None]:
    """The images' description as the block the main model reads; None (after an error and
    the run's end) when the vision model could not describe them."""
    from glmcode.llm.errors import GLMError

    try:
        reply = describe(vision, f"The user's message, for context:\n{prompt}", images)
    except GLMError as exc:
        for event in (
            Error(exc.kind, f"{model} could not describe the image: {exc}", exc.hint),
            RunFinished("error", "", 0),
        ):
            yield _recorded(agent, event)
        return None
    text = reply.content.strip()
    cost = get_model(model).cost(reply.usage)
    agent.usage = agent.usage + reply.usage
    agent.cost_usd += cost
    names = tuple(image.label() for image in images)
    yield _recorded(agent, ImagesDescribed(model, names, text, cost))
    shown = " ".join(names)
    return f'<images described_by="{model}">\n{shown}\n{text}\n</images>'


def _recorded(agent: Agent, event: Event) -> Event:
    if agent.sink is not None:
        agent.sink.write(event)
    return event

