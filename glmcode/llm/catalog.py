"""The GLM models glmcode knows: context window, output limit, prices; and where to reach them."""

from __future__ import annotations

from dataclasses import dataclass

from glmcode.events import TokenUsage

PROVIDERS: dict[str, str] = {
    "zai": "https://api.z.ai/api/paas/v4",
    "zai-coding": "https://api.z.ai/api/coding/paas/v4",
    "bigmodel": "https://open.bigmodel.cn/api/paas/v4",
    "bigmodel-coding": "https://open.bigmodel.cn/api/coding/paas/v4",
    "openrouter": "https://openrouter.ai/api/v1",
    "cometapi": "https://api.cometapi.com/v1",
}
# Providers that resell GLM under their own names and keys, with the names they go by: a
# Z.ai key means nothing to them, and they lack some of Z.ai's extensions.
RESELLERS: dict[str, str] = {"openrouter": "OpenRouter", "cometapi": "CometAPI"}

# Enough room for long thinking plus a large edit in one step, without asking for the
# model's whole output limit on every request.
DEFAULT_MAX_TOKENS = 32_768


@dataclass(frozen=True)
class ModelInfo:
    """Limits in tokens; prices in USD per million tokens."""

    name: str
    context_window: int
    max_output: int
    price_input: float
    price_cached_input: float
    price_output: float
    vision: bool = False  # takes image parts

    def cost(self, usage: TokenUsage) -> float:
        """USD for one request: cached prompt tokens at the cached price, the rest of the
        prompt at the input price, completion (reasoning included) at the output price."""
        cached = min(max(usage.cached_tokens, 0), max(usage.prompt_tokens, 0))
        fresh = max(usage.prompt_tokens, 0) - cached
        total = (
            fresh * self.price_input
            + cached * self.price_cached_input
            + max(usage.completion_tokens, 0) * self.price_output
        )
        return total / 1_000_000


_CONTEXT_128K = 131_072
_OUTPUT_4_5 = 98_304
_OUTPUT_VISION = 32_768

_MODELS: tuple[ModelInfo, ...] = (
    ModelInfo("glm-4.6", 204_800, 131_072, 0.60, 0.11, 2.20),
    ModelInfo("glm-4.5", _CONTEXT_128K, _OUTPUT_4_5, 0.60, 0.11, 2.20),
    ModelInfo("glm-4.5-air", _CONTEXT_128K, _OUTPUT_4_5, 0.20, 0.03, 1.10),
    ModelInfo("glm-4.5-x", _CONTEXT_128K, _OUTPUT_4_5, 2.20, 0.45, 8.90),
    ModelInfo("glm-4.5-airx", _CONTEXT_128K, _OUTPUT_4_5, 1.10, 0.22, 4.50),
    ModelInfo("glm-4.5-flash", _CONTEXT_128K, _OUTPUT_4_5, 0.0, 0.0, 0.0),
    ModelInfo("glm-4.6v", _CONTEXT_128K, _OUTPUT_VISION, 0.30, 0.05, 0.90, vision=True),
    ModelInfo("glm-4.6v-flashx", _CONTEXT_128K, _OUTPUT_VISION, 0.04, 0.004, 0.40, vision=True),
    ModelInfo("glm-4.6v-flash", _CONTEXT_128K, _OUTPUT_VISION, 0.0, 0.0, 0.0, vision=True),
    ModelInfo("glm-4.5v", 65_536, 16_384, 0.60, 0.11, 1.80, vision=True),
)


def known_models() -> tuple[ModelInfo, ...]:
    return _MODELS


def normalize_model_name(name: str) -> str:
    """The bare model name: without a router prefix ("z-ai/glm-4.6") or a routing suffix
    ("glm-4.6:exacto"), lower-cased."""
    bare = name.strip().rsplit("/", 1)[-1]
    return bare.split(":", 1)[0].lower()


def is_known_model(name: str) -> bool:
    """Whether `name` (with any router prefix or routing suffix) is in the catalog."""
    bare = normalize_model_name(name)
    return any(info.name == bare for info in _MODELS)


def sees_images(name: str) -> bool:
    """Whether the model takes image parts: a known vision model, or a name in the GLM
    vision family's form (glm-4.6v, glm-5v...)."""
    bare = normalize_model_name(name)
    if is_known_model(bare):
        return get_model(bare).vision
    return bare.startswith("glm-") and bare.split("-")[1].endswith("v")


def get_model(name: str) -> ModelInfo:
    """The catalog entry for `name`. A model glmcode does not know is not an error: it gets a
    128K context window, a 32K output limit and no price (its cost shows as 0)."""
    bare = normalize_model_name(name)
    for info in _MODELS:
        if info.name == bare:
            return info
    return ModelInfo(bare or name, _CONTEXT_128K, DEFAULT_MAX_TOKENS, 0.0, 0.0, 0.0)


def default_max_tokens(model: str) -> int:
    """The `max_tokens` to request when the user set none."""
    return min(DEFAULT_MAX_TOKENS, get_model(model).max_output)


def max_tokens_for(model: str, requested: int | None) -> int:
    """What to send as `max_tokens`: the user's value, held to a known model's output limit
    (GLM rejects a larger one as a bad request), or the default."""
    if requested is None:
        return default_max_tokens(model)
    if is_known_model(model):
        return min(requested, get_model(model).max_output)
    return requested
