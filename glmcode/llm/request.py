"""The JSON body of one chat-completions request, in the shape GLM accepts.

Keys always come in the same order and nothing varies between two requests with the same
inputs: a byte-stable prefix is what lets GLM's implicit prompt cache hit.
"""

from __future__ import annotations

from typing import Any

from glmcode.llm.catalog import RESELLERS, max_tokens_for, sees_images
from glmcode.llm.content import without_images
from glmcode.llm.types import ClientConfig

OPENROUTER_PREFIX = "z-ai/"
TEMPERATURE_MIN = 0.01
TEMPERATURE_MAX = 0.99
# Providers known to honour `response_format` {"type": "json_object"}; elsewhere the prompt
# alone asks for JSON, and the answer is checked all the same.
JSON_MODE_PROVIDERS = frozenset({"zai", "zai-coding", "bigmodel", "bigmodel-coding", "openrouter"})


def wire_model(model: str, provider: str) -> str:
    """The model name as the provider wants it: OpenRouter namespaces GLM under "z-ai/"."""
    if provider == "openrouter" and "/" not in model:
        return OPENROUTER_PREFIX + model
    return model


def clamp_temperature(value: float) -> float:
    """GLM rejects or mishandles the ends of [0, 1]; like the official SDK, values outside
    [0.01, 0.99] are moved to the nearest end. Values inside are sent unchanged."""
    return min(max(value, TEMPERATURE_MIN), TEMPERATURE_MAX)


def _wire_message(message: dict[str, Any]) -> dict[str, Any]:
    # GLM's chat template drops a null content and ignores OpenAI's `name`; sending either
    # only risks a 1214.
    if message.get("content", "") is not None and "name" not in message:
        return message
    out = {k: v for k, v in message.items() if k != "name"}
    if out.get("content", "") is None:
        out["content"] = ""
    return out


def _wire_tool(tool: dict[str, Any]) -> dict[str, Any]:
    function = tool.get("function")
    if not isinstance(function, dict) or "strict" not in function:
        return tool
    return {**tool, "function": {k: v for k, v in function.items() if k != "strict"}}


def build_body(
    config: ClientConfig,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    *,
    stream: bool,
    response_format: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The request body. Thinking is switched with `thinking` for Z.ai and BigModel and with
    `reasoning.enabled` for OpenRouter, which does not know GLM's own field. `response_format`
    goes only to providers in JSON_MODE_PROVIDERS."""
    openrouter = config.provider == "openrouter"
    # A text model is never sent an image: each becomes a note (see llm/content.py).
    seen = messages if sees_images(config.model) else [without_images(m) for m in messages]
    body: dict[str, Any] = {
        "model": wire_model(config.model, config.provider),
        "messages": [_wire_message(m) for m in seen],
    }
    if openrouter:
        body["reasoning"] = {"enabled": config.thinking}
    else:
        body["thinking"] = {"type": "enabled" if config.thinking else "disabled"}
    body["stream"] = stream
    if tools:
        # Resellers relay an OpenAI-shaped API without GLM's `tool_stream`: tool calls arrive
        # whole instead of piece by piece, which the assembler reads just as well.
        if stream and config.provider not in RESELLERS:
            body["tool_stream"] = True
        body["tools"] = [_wire_tool(t) for t in tools]
        body["tool_choice"] = "auto"
    body["max_tokens"] = max_tokens_for(config.model, config.max_tokens)
    if config.temperature is not None:
        body["temperature"] = clamp_temperature(config.temperature)
    if response_format is not None and config.provider in JSON_MODE_PROVIDERS:
        body["response_format"] = response_format
    return body
