"""Request bodies and the model catalog."""

from __future__ import annotations

import json

import pytest

from glmcode.events import TokenUsage
from glmcode.llm.catalog import (
    PROVIDERS,
    default_max_tokens,
    get_model,
    is_known_model,
    known_models,
)
from glmcode.llm.types import ClientConfig
from glmcode.llm.request import build_body, clamp_temperature

MESSAGES = [
    {"role": "system", "content": "You are glmcode."},
    {"role": "user", "content": "hi"},
]
TOOL = {
    "type": "function",
    "function": {
        "name": "read_file",
        "description": "Read a file",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
    },
}
FORBIDDEN = {
    "parallel_tool_calls",
    "frequency_penalty",
    "logit_bias",
    "n",
    "seed",
    "stream_options",
    "max_completion_tokens",
}


def config(**kw: object) -> ClientConfig:
    return ClientConfig("k", "http://127.0.0.1:1/v4", **kw)  # type: ignore[arg-type]


def test_streamed_with_tools_and_thinking() -> None:
    body = build_body(config(), MESSAGES, [TOOL], stream=True)
    assert body == {
        "model": "glm-4.6",
        "messages": MESSAGES,
        "thinking": {"type": "enabled"},
        "stream": True,
        "tool_stream": True,
        "tools": [TOOL],
        "tool_choice": "auto",
        "max_tokens": 32768,
    }
    assert list(body) == [
        "model",
        "messages",
        "thinking",
        "stream",
        "tool_stream",
        "tools",
        "tool_choice",
        "max_tokens",
    ]


def test_whole_without_tools_thinking_off_with_temperature() -> None:
    body = build_body(
        config(thinking=False, temperature=0.3, max_tokens=1000), MESSAGES, None, stream=False
    )
    assert body == {
        "model": "glm-4.6",
        "messages": MESSAGES,
        "thinking": {"type": "disabled"},
        "stream": False,
        "max_tokens": 1000,
        "temperature": 0.3,
    }


def test_tool_stream_only_when_streaming_with_tools() -> None:
    assert "tool_stream" not in build_body(config(), MESSAGES, [TOOL], stream=False)
    assert "tool_stream" not in build_body(config(), MESSAGES, None, stream=True)
    assert "tool_stream" not in build_body(config(), MESSAGES, [], stream=True)
    assert "tool_choice" not in build_body(config(), MESSAGES, [], stream=True)


def test_openrouter_prefixes_the_model_and_uses_its_reasoning_switch() -> None:
    body = build_body(config(provider="openrouter"), MESSAGES, [TOOL], stream=True)
    assert body == {
        "model": "z-ai/glm-4.6",
        "messages": MESSAGES,
        "reasoning": {"enabled": True},
        "stream": True,
        "tools": [TOOL],
        "tool_choice": "auto",
        "max_tokens": 32768,
    }
    named = config(provider="openrouter", model="z-ai/glm-4.5")
    assert build_body(named, MESSAGES, None, stream=False)["model"] == "z-ai/glm-4.5"
    assert build_body(config(model="glm-4.5-air"), MESSAGES, None, stream=True)["model"] == (
        "glm-4.5-air"
    )


def test_cometapi_keeps_glms_names_and_thinking_switch_but_not_tool_stream() -> None:
    body = build_body(config(provider="cometapi"), MESSAGES, [TOOL], stream=True)
    assert body == {
        "model": "glm-4.6",
        "messages": MESSAGES,
        "thinking": {"type": "enabled"},
        "stream": True,
        "tools": [TOOL],
        "tool_choice": "auto",
        "max_tokens": 32768,
    }


def test_messages_are_cleaned_of_what_glm_cannot_take() -> None:
    messages = [
        {"role": "user", "content": "hi", "name": "alice"},
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "think",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "x", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "ok"},
    ]
    strict_tool = {"type": "function", "function": {**TOOL["function"], "strict": True}}
    body = build_body(config(), messages, [strict_tool], stream=True)
    assert body["messages"] == [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": "",
            "reasoning_content": "think",
            "tool_calls": messages[1]["tool_calls"],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "ok"},
    ]
    assert body["tools"] == [TOOL]
    # The caller's conversation is not modified.
    assert messages[0]["name"] == "alice" and messages[1]["content"] is None
    assert strict_tool["function"]["strict"] is True


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("tools", [None, [TOOL]])
def test_no_openai_only_fields(stream: bool, tools: list | None) -> None:
    body = build_body(config(temperature=0.5), MESSAGES, tools, stream=stream)
    assert not FORBIDDEN & set(body)
    text = json.dumps(body)
    assert '"strict"' not in text and '"name": "alice"' not in text


def test_same_inputs_give_the_same_bytes() -> None:
    a = json.dumps(build_body(config(), MESSAGES, [TOOL], stream=True))
    b = json.dumps(build_body(config(), [dict(m) for m in MESSAGES], [TOOL], stream=True))
    assert a == b


@pytest.mark.parametrize(
    "given, sent",
    [(0.0, 0.01), (-1.0, 0.01), (0.01, 0.01), (0.5, 0.5), (0.99, 0.99), (1.0, 0.99), (1.7, 0.99)],
)
def test_temperature_clamped_only_outside_the_range(given: float, sent: float) -> None:
    assert clamp_temperature(given) == sent
    assert build_body(config(temperature=given), MESSAGES, None, stream=True)["temperature"] == sent


def test_catalog_models() -> None:
    glm46 = get_model("glm-4.6")
    assert (glm46.context_window, glm46.max_output) == (204_800, 131_072)
    assert (glm46.price_input, glm46.price_cached_input, glm46.price_output) == (0.60, 0.11, 2.20)
    for name in ("glm-4.5", "glm-4.5-air", "glm-4.5-x", "glm-4.5-airx", "glm-4.5-flash"):
        info = get_model(name)
        assert (info.name, info.context_window, info.max_output) == (name, 131_072, 98_304)
    flash = get_model("glm-4.5-flash")
    assert flash.cost(TokenUsage(1_000_000, 1_000_000, 0)) == 0.0
    assert {m.name for m in known_models()} >= {"glm-4.6", "glm-4.5-air"}


def test_catalog_strips_router_prefix_and_falls_back_for_unknown_models() -> None:
    assert get_model("z-ai/glm-4.6") == get_model("glm-4.6")
    assert get_model("z-ai/GLM-4.5-Air:floor") == get_model("glm-4.5-air")
    unknown = get_model("glm-9-ultra")
    assert unknown.name == "glm-9-ultra"
    assert unknown.context_window == 131_072 and unknown.max_output == 32_768
    assert unknown.cost(TokenUsage(1000, 1000, 0)) == 0.0
    assert is_known_model("z-ai/GLM-4.6:exacto") and not is_known_model("glm-9-ultra")


def test_cost_bills_cached_tokens_at_the_cached_price() -> None:
    glm46 = get_model("glm-4.6")
    usage = TokenUsage(prompt_tokens=1_000_000, completion_tokens=500_000, cached_tokens=800_000)
    assert glm46.cost(usage) == pytest.approx(0.2 * 0.60 + 0.8 * 0.11 + 0.5 * 2.20)
    # More cached than prompt (a server quirk) never gives a negative fresh count.
    assert glm46.cost(TokenUsage(10, 0, 50)) == pytest.approx(10 * 0.11 / 1e6)


def test_default_max_tokens_and_providers() -> None:
    assert default_max_tokens("glm-4.6") == 32_768
    assert default_max_tokens("glm-4.5-flash") == 32_768
    assert PROVIDERS == {
        "zai": "https://api.z.ai/api/paas/v4",
        "zai-coding": "https://api.z.ai/api/coding/paas/v4",
        "bigmodel": "https://open.bigmodel.cn/api/paas/v4",
        "bigmodel-coding": "https://open.bigmodel.cn/api/coding/paas/v4",
        "openrouter": "https://openrouter.ai/api/v1",
        "cometapi": "https://api.cometapi.com/v1",
    }


def test_config_repr_hides_the_key() -> None:
    assert "sekrit-key-123" not in repr(
        ClientConfig(api_key="sekrit-key-123", base_url="http://127.0.0.1:1")
    )


def test_max_tokens_is_held_to_a_known_models_output_limit() -> None:
    from glmcode.llm.catalog import max_tokens_for

    assert max_tokens_for("glm-4.6", 999_999) == 131_072
    assert max_tokens_for("glm-4.5-flash", 200_000) == 98_304
    assert max_tokens_for("glm-4.6", 4_000) == 4_000
    assert max_tokens_for("some-new-model", 999_999) == 999_999
    assert max_tokens_for("glm-4.6", None) == 32_768


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_json_mode_goes_last_and_only_where_the_provider_knows_it(provider: str) -> None:
    plain = build_body(config(provider=provider), MESSAGES, [TOOL], stream=True)
    body = build_body(config(provider=provider), MESSAGES, [TOOL], stream=True, response_format={"type": "json_object"})
    if provider == "cometapi":
        assert body == plain
    else:
        assert body == {**plain, "response_format": {"type": "json_object"}}
        assert list(body) == [*plain, "response_format"]  # the rest keeps its bytes and order
