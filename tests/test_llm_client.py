"""The GLM client over real HTTP against the fake GLM server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from glmcode import __version__
from glmcode.events import ReasoningDelta, Retrying, TextDelta, TokenUsage
from glmcode.llm.client import GLMClient
from glmcode.llm.types import ClientConfig
from glmcode.llm.errors import (
    AccountError,
    AuthError,
    BadRequestError,
    ContentFilterError,
    ContextTooLongError,
    GLMError,
    NetworkError,
    QuotaError,
    RateLimitError,
    ServerError,
    StreamCutError,
)
from glmcode.llm.types import ModelReply
from glmcode.testing import FakeGLM, http_error, reply, tool_call

KEY = "f00dfacecafebeef0123456789abcdef.Qx7RzT9uLmNpK2wV"
from conftest import RECORDINGS
MESSAGES = [{"role": "system", "content": "You are glmcode."}, {"role": "user", "content": "hi"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}},
                "required": ["path"],
            },
        },
    }
]


class Harness:
    """A client for one fake server, with a sleep that records instead of sleeping."""

    def __init__(self, base_url: str, known_tools: frozenset[str] | None = None, **config):
        self.waits: list[float] = []
        self.client = GLMClient(
            ClientConfig(KEY, base_url, **config),
            sleep=self.waits.append,
            rng=lambda: 0.5,
            known_tools=known_tools,
        )

    def stream(self, tools: list | None = None) -> list:
        return list(self.client.stream(MESSAGES, tools))

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def serve():
    """serve(turns, **config) -> (fake, harness); both are torn down after the test."""
    opened: list = []

    def start(turns: list, known_tools: frozenset[str] | None = None, **config):
        fake = FakeGLM({"turns": turns}).start()
        harness = Harness(fake.base_url, known_tools, **config)
        opened.append((fake, harness))
        return fake, harness

    yield start
    for fake, harness in opened:
        harness.close()
        fake.stop()


def split(events: list) -> tuple[list, ModelReply]:
    *deltas, last = events
    assert isinstance(last, ModelReply)
    assert not any(isinstance(e, ModelReply) for e in deltas)
    return deltas, last


def assert_no_key(err: GLMError) -> None:
    for text in (str(err), err.message, err.hint, repr(err)):
        assert KEY not in text
        assert KEY.split(".")[0] not in text


# --- the happy paths -------------------------------------------------------------------


def test_streamed_answer(serve) -> None:
    fake, h = serve([reply(["Hel", "lo!"], reasoning=["Say ", "hello."])])
    deltas, final = split(h.stream())
    assert deltas == [
        ReasoningDelta("Say "),
        ReasoningDelta("hello."),
        TextDelta("Hel"),
        TextDelta("lo!"),
    ]
    assert (final.reasoning, final.content, final.finish_reason) == ("Say hello.", "Hello!", "stop")
    assert final.tool_calls == ()
    [request] = fake.requests
    assert request.path.endswith("/chat/completions")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["accept"] == "text/event-stream"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == f"glmcode/{__version__}"
    assert request.body["stream"] is True
    assert request.body["thinking"] == {"type": "enabled"}
    assert request.body["messages"] == MESSAGES
    assert "tool_stream" not in request.body and "tools" not in request.body
    assert h.waits == []


def test_tool_stream_request_and_tool_calls(serve) -> None:
    fake, h = serve(
        [
            reply(
                "Reading.",
                tool_calls=[
                    tool_call("read_file", {"path": "src/app.py"}, id="call_1"),
                    tool_call("read_file", {"path": "README.md"}, id="call_2"),
                ],
            )
        ]
    )
    _, final = split(h.stream(TOOLS))
    body = fake.requests[0].body
    assert body["tool_stream"] is True and body["tool_choice"] == "auto"
    assert body["tools"] == TOOLS
    assert final.finish_reason == "tool_calls"
    assert [(c.id, c.name, json.loads(c.arguments)) for c in final.tool_calls] == [
        ("call_1", "read_file", {"path": "src/app.py"}),
        ("call_2", "read_file", {"path": "README.md"}),
    ]
    assert [c.index for c in final.tool_calls] == [0, 1]


def test_usage_with_cached_tokens(serve) -> None:
    _, h = serve(
        [reply("ok", usage={"prompt_tokens": 900, "completion_tokens": 12, "cached_tokens": 800})]
    )
    _, final = split(h.stream())
    assert final.usage == TokenUsage(900, 12, 800)


def test_complete_sends_stream_false(serve) -> None:
    fake, h = serve([reply("Whole.", reasoning="hm", tool_calls=[tool_call("read_file", {})])])
    final = h.client.complete(MESSAGES, TOOLS)
    assert final.content == "Whole." and final.reasoning == "hm"
    assert [c.name for c in final.tool_calls] == ["read_file"]
    request = fake.requests[0]
    assert request.body["stream"] is False and "tool_stream" not in request.body
    assert request.headers["accept"] == "application/json"


def test_undecodable_text_in_messages_does_not_fail_the_request(serve) -> None:
    fake, h = serve([reply("ok")])
    messages = [{"role": "user", "content": "bytes: \udcff, accents: é"}]
    assert h.client.complete(messages).content == "ok"
    assert fake.requests[0].body["messages"][0]["content"] == "bytes: ?, accents: é"


def test_requests_in_a_row_including_an_abandoned_stream(serve) -> None:
    fake, h = serve([reply("one"), reply("two"), reply("three")])
    assert split(h.stream())[1].content == "one"
    assert h.client.complete(MESSAGES).content == "two"
    # A consumer that stops reading early must not leave the client stuck.
    stream = h.client.stream(MESSAGES)
    next(stream)
    stream.close()
    assert len(fake.requests) == 3


def test_recorded_stream_replayed_by_the_fake(serve) -> None:
    _, h = serve([{"sse_file": str(RECORDINGS / "thinking_streaming.0.sse")}])
    _, final = split(h.stream(TOOLS))
    turn1 = json.loads((RECORDINGS / "thinking_streaming.1.request.json").read_text("utf-8"))
    [assistant] = [m for m in turn1["body"]["messages"] if m["role"] == "assistant"]
    assert final.to_message() == assistant


def test_leaked_tool_call_in_content_becomes_a_call(serve) -> None:
    leaked = (
        "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.py</arg_value>\n"
        "</tool_call>"
    )
    _, h = serve([reply(leaked)], known_tools=frozenset({"read_file"}))
    _, final = split(h.stream(TOOLS))
    assert final.finish_reason == "tool_calls" and final.content == ""
    assert [(c.name, json.loads(c.arguments)) for c in final.tool_calls] == [
        ("read_file", {"path": "a.py"})
    ]


# --- errors: retried or not, and how many requests it took -----------------------------


@pytest.mark.parametrize(
    "status, code, cls",
    [
        (401, "1002", AuthError),
        (429, "1113", AccountError),
        (429, "1308", QuotaError),
        (400, "1214", BadRequestError),
        (400, "1261", ContextTooLongError),
        (400, "1301", ContentFilterError),
    ],
)
def test_errors_that_are_not_retried(serve, status: int, code: str, cls: type) -> None:
    fake, h = serve([http_error(status, code, f"scripted {code}"), reply("never reached")])
    with pytest.raises(cls) as caught:
        h.stream()
    err = caught.value
    assert (err.code, err.status, err.retryable) == (code, status, False)
    assert f"scripted {code}" in str(err)
    assert len(fake.requests) == 1 and h.waits == []
    assert_no_key(err)


@pytest.mark.parametrize(
    "status, code",
    [
        (429, "1302"),
        (429, "1303"),
        (429, "1305"),
        (500, "500"),
        (500, "1230"),
        (503, "1234"),
        (429, "4242"),
    ],
)
def test_errors_that_are_retried(serve, status: int, code: str) -> None:
    fake, h = serve([http_error(status, code, "try later"), reply("done")])
    events = h.stream()
    retrying = [e for e in events if isinstance(e, Retrying)]
    assert len(retrying) == 1
    assert retrying[0].attempt == 2 and retrying[0].max_attempts == 6
    assert code in retrying[0].reason
    assert split(events)[1].content == "done"
    assert len(fake.requests) == 2
    assert h.waits == [retrying[0].wait] == [0.25]  # rng 0.5 x base 0.5


def test_retry_after_is_honoured(serve) -> None:
    _, h = serve([http_error(429, "1302", "too many", retry_after=7), reply("ok")])
    events = h.stream()
    [retrying] = [e for e in events if isinstance(e, Retrying)]
    assert retrying.wait == 7.0
    assert h.waits == [7.0]


def test_retry_after_is_capped_by_max_backoff(serve) -> None:
    turns = [http_error(429, "1305", "overloaded", retry_after=600), reply("ok")]
    _, h = serve(turns, max_backoff=30.0)
    h.stream()
    assert h.waits == [30.0]


def test_server_errors_until_retries_run_out(serve) -> None:
    fake, h = serve([http_error(500, "500", "boom")] * 4, max_attempts=4)
    with pytest.raises(ServerError) as caught:
        h.stream()
    assert len(fake.requests) == 4
    assert h.waits == [0.25, 0.5, 1.0]  # full jitter at rng 0.5: half of 0.5, 1, 2
    assert "gave up after 4 attempts" in str(caught.value)
    assert "boom" in str(caught.value)


def test_complete_retries_the_same_way(serve) -> None:
    fake, h = serve([http_error(503, "1234", "net"), http_error(429, "1302", "busy"), reply("ok")])
    assert h.client.complete(MESSAGES).content == "ok"
    assert len(fake.requests) == 3 and h.waits == [0.25, 0.5]


def test_complete_does_not_retry_auth(serve) -> None:
    fake, h = serve([http_error(401, "1000", "no key")])
    with pytest.raises(AuthError):
        h.client.complete(MESSAGES)
    assert len(fake.requests) == 1


def test_stream_cut_mid_text_is_retried_and_the_final_reply_is_whole(serve) -> None:
    pieces = ["The ", "answer ", "is ", "forty-", "two."]
    fake, h = serve([reply(pieces, cut_after=3), reply(pieces)])
    events = h.stream()
    [retrying] = [e for e in events if isinstance(e, Retrying)]
    before = events[: events.index(retrying)]
    assert before and all(isinstance(e, TextDelta) for e in before)
    assert "".join(e.text for e in before) != "The answer is forty-two."
    assert "[DONE]" in retrying.reason or "broke" in retrying.reason
    _, final = split(events)
    assert final.content == "The answer is forty-two."
    after = events[events.index(retrying) + 1 : -1]
    assert "".join(e.text for e in after) == final.content
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    "broken, reason",
    [
        (reply(["a", "b"], malformed_at=2), "malformed"),
        (reply(["a", "b"], stream_error={"code": "1234", "message": "net hiccup"}), "net hiccup"),
    ],
    ids=["malformed chunk", "error mid-stream"],
)
def test_broken_stream_is_retried(serve, broken: dict, reason: str) -> None:
    fake, h = serve([broken, reply("ab")])
    events = h.stream()
    [retrying] = [e for e in events if isinstance(e, Retrying)]
    assert reason in retrying.reason
    assert split(events)[1].content == "ab" and len(fake.requests) == 2


def test_stream_error_for_content_safety_is_not_retried(serve) -> None:
    fake, h = serve(
        [reply("x", stream_error={"code": "1301", "message": "unsafe"}), reply("never")]
    )
    with pytest.raises(ContentFilterError):
        h.stream()
    assert len(fake.requests) == 1


def test_error_in_a_whole_200_response_is_raised_redacted(serve) -> None:
    fake, h = serve(
        [
            reply("x", stream_error={"code": "1301", "message": f"blocked for {KEY}"}),
            reply("never"),
        ]
    )
    with pytest.raises(ContentFilterError) as caught:
        h.client.complete(MESSAGES)
    assert "[redacted]" in str(caught.value)
    assert_no_key(caught.value)
    assert len(fake.requests) == 1


def test_sensitive_finish_raises_content_filter(serve) -> None:
    fake, h = serve([reply("some text", finish_reason="sensitive"), reply("never")])
    with pytest.raises(ContentFilterError):
        h.stream()
    assert len(fake.requests) == 1


def test_network_error_finish_is_retried(serve) -> None:
    fake, h = serve([reply("half", finish_reason="network_error"), reply("whole")])
    events = h.stream()
    assert sum(isinstance(e, Retrying) for e in events) == 1
    assert split(events)[1].content == "whole" and len(fake.requests) == 2


def test_context_window_finish_raises_context_too_long(serve) -> None:
    fake, h = serve([reply("x", finish_reason="model_context_window_exceeded")])
    with pytest.raises(ContextTooLongError):
        h.stream()
    assert len(fake.requests) == 1


def test_length_finish_is_a_normal_reply(serve) -> None:
    _, h = serve([reply("", reasoning="long thought", finish_reason="length")])
    final = split(h.stream())[1]
    assert final.finish_reason == "length" and final.content == ""


def test_read_timeout_before_the_first_byte_is_retried(serve) -> None:
    fake, h = serve([reply("slow", first_byte_delay=5), reply("fast")], timeout=0.2)
    events = h.stream()
    [retrying] = [e for e in events if isinstance(e, Retrying)]
    assert "read timeout" in retrying.reason
    assert split(events)[1].content == "fast" and len(fake.requests) == 2


def test_read_timeout_between_chunks_is_retried(serve) -> None:
    fake, h = serve([reply(["a", "b", "c"], delay=5), reply("abc")], timeout=0.2)
    events = h.stream()
    assert sum(isinstance(e, Retrying) for e in events) == 1
    assert split(events)[1].content == "abc" and len(fake.requests) == 2


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_is_retried_then_network_error() -> None:
    h = Harness(f"http://127.0.0.1:{closed_port()}/api/paas/v4", max_attempts=3)
    try:
        events: list = []
        with pytest.raises(NetworkError) as caught:
            for event in h.client.stream(MESSAGES):
                events.append(event)
    finally:
        h.close()
    err = caught.value
    assert [e.attempt for e in events] == [2, 3]
    assert h.waits == [0.25, 0.5]
    assert "gave up after 3 attempts" in str(err) and "could not connect" in str(err)
    assert "HTTPS_PROXY" in err.hint
    assert_no_key(err)


def test_unusable_base_url_is_not_retried() -> None:
    h = Harness("ftp://127.0.0.1/v4")
    try:
        with pytest.raises(NetworkError) as caught:
            h.client.complete(MESSAGES)
    finally:
        h.close()
    assert not caught.value.retryable and h.waits == []


# --- the key stays secret --------------------------------------------------------------


def test_key_echoed_by_the_server_never_reaches_an_error(serve) -> None:
    fake, h = serve(
        [
            http_error(401, "1002", f"Authorization Token {KEY} is invalid"),
            reply("x", stream_error={"code": "1301", "message": f"blocked for {KEY}"}),
            http_error(500, "500", f"upstream saw Bearer {KEY}"),
        ],
        max_attempts=1,
    )
    for expected in (AuthError, ContentFilterError, ServerError):
        with pytest.raises(expected) as caught:
            h.stream()
        assert "[redacted]" in str(caught.value)
        assert_no_key(caught.value)
    assert len(fake.requests) == 3


def test_1113_hint_names_the_endpoint_and_provider(serve) -> None:
    _, h = serve([http_error(429, "1113", "Insufficient balance or no resource package")])
    with pytest.raises(AccountError) as caught:
        h.stream()
    hint = caught.value.hint
    assert "--provider zai-coding" in hint and "--provider zai " in hint
    assert "https://api.z.ai/api/coding/paas/v4" in hint


def test_stream_cut_error_class_is_retryable() -> None:
    assert StreamCutError("x").retryable and RateLimitError("x").retryable


def test_importing_the_client_does_not_import_httpx() -> None:
    code = "import sys, glmcode.llm.client; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
