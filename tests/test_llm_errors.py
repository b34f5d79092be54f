"""Error mapping, key redaction, backoff."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

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
    error_for_finish,
    error_from_response,
    redact,
)
from glmcode.llm.retry import RetryPolicy, parse_retry_after

KEY = "0123456789abcdef0123456789abcdef.ZyXwVuTsRqPoNmLk"


def body(code: str | None, message: str) -> str:
    err: dict = {"message": message}
    if code is not None:
        err["code"] = code
    return json.dumps({"error": err})


@pytest.mark.parametrize(
    "status, code, cls, retryable",
    [
        (401, "1000", AuthError, False),
        (401, "1002", AuthError, False),
        (429, "1113", AccountError, False),
        (403, "1121", AccountError, False),
        (429, "1304", QuotaError, False),
        (429, "1308", QuotaError, False),
        (400, "1210", BadRequestError, False),
        (400, "1214", BadRequestError, False),
        (400, "1261", ContextTooLongError, False),
        (400, "1301", ContentFilterError, False),
        (429, "1302", RateLimitError, True),
        (429, "1303", RateLimitError, True),
        (429, "1305", RateLimitError, True),
        (500, "500", ServerError, True),
        (500, "1230", ServerError, True),
        (503, "1234", ServerError, True),
        # No known code: the HTTP status decides.
        (429, "9999", RateLimitError, True),
        (429, None, RateLimitError, True),
        (401, None, AuthError, False),
        (502, None, ServerError, True),
        (404, None, BadRequestError, False),
        (422, None, BadRequestError, False),
        (408, None, NetworkError, True),
        (413, None, ContextTooLongError, False),
    ],
)
def test_code_first_status_second(
    status: int, code: str | None, cls: type, retryable: bool
) -> None:
    err = error_from_response(status, body(code, "something happened"), {})
    assert type(err) is cls
    assert err.retryable is retryable
    assert (err.code, err.status) == (code, status)
    assert "something happened" in err.message and err.hint


def test_kinds_are_distinct_names() -> None:
    classes = [
        AuthError,
        AccountError,
        QuotaError,
        BadRequestError,
        ContextTooLongError,
        ContentFilterError,
        RateLimitError,
        ServerError,
        NetworkError,
        StreamCutError,
    ]
    assert len({c.kind for c in classes}) == len(classes)
    assert all(issubclass(c, GLMError) for c in classes)


def test_1113_hint_names_both_endpoints() -> None:
    err = error_from_response(429, body("1113", "Insufficient balance or no resource package."))
    assert isinstance(err, AccountError) and not err.retryable
    assert "--provider zai-coding" in err.hint and "--provider zai " in err.hint
    assert "/api/coding/paas/v4" in err.hint and "/api/paas/v4" in err.hint


def test_auth_hint_says_how_to_set_the_key() -> None:
    err = error_from_response(401, body("1002", "Authorization Token非法"))
    assert "ZAI_API_KEY" in err.hint


def test_quota_hint_shows_the_reset_time() -> None:
    message = "Usage limit reached for 5 hour. Your limit will reset at 2025-11-12 08:31:56"
    err = error_from_response(429, body("1308", message))
    assert isinstance(err, QuotaError)
    assert "2025-11-12 08:31:56" in err.hint
    plain = error_from_response(429, body("1304", "Daily limit reached"))
    assert "reset" in plain.hint and "20" not in plain.hint


def test_bad_request_hint_calls_it_a_bug_and_unknown_model_gets_its_own() -> None:
    assert "bug" in error_from_response(400, body("1214", "messages illegal")).hint
    assert "--model" in error_from_response(400, body("1211", "model not found")).hint


def test_context_words_turn_a_bad_request_into_context_too_long() -> None:
    err = error_from_response(
        400, body(None, "This endpoint's maximum context length is 204800 tokens")
    )
    assert isinstance(err, ContextTooLongError)


def test_retry_after_header_in_seconds_or_date() -> None:
    err = error_from_response(429, body("1302", "busy"), {"Retry-After": "7"})
    assert err.retry_after == 7.0
    later = datetime.now(timezone.utc).timestamp() + 30
    date = format_datetime(datetime.fromtimestamp(later, timezone.utc), usegmt=True)
    err = error_from_response(429, body("1302", "busy"), {"retry-after": date})
    assert 25 <= err.retry_after <= 31


def test_bodies_that_are_not_glm_errors() -> None:
    html = error_from_response(502, "<html><body>Bad   Gateway</body></html>")
    assert isinstance(html, ServerError) and "Bad Gateway" in html.message
    empty = error_from_response(503, b"")
    assert isinstance(empty, ServerError) and "503" in empty.message
    flat = error_from_response(400, json.dumps({"code": 1214, "msg": "bad messages"}))
    assert isinstance(flat, BadRequestError) and flat.code == "1214"
    assert "bad messages" in flat.message
    numeric = error_from_response(429, json.dumps({"error": {"code": 429, "message": "slow"}}))
    assert isinstance(numeric, RateLimitError)


def test_the_key_is_redacted_from_server_text() -> None:
    message = f"Invalid key {KEY}; key id {KEY.split('.')[0]} rejected"
    err = error_from_response(401, body("1002", message), secret=KEY)
    text = f"{err} {err.hint}"
    assert KEY not in text and KEY.split(".")[0] not in text
    assert "[redacted]" in str(err)


def test_redact() -> None:
    assert redact("a longkey-123 b", "longkey-123") == "a [redacted] b"
    assert redact("checkpoint", "k") == "checkpoint", "too short to be a key, and found in words"
    assert redact("nothing", "") == "nothing"
    assert redact("", KEY) == ""


def test_finish_reasons_that_are_errors() -> None:
    assert isinstance(error_for_finish("sensitive"), ContentFilterError)
    cut = error_for_finish("network_error")
    assert isinstance(cut, StreamCutError) and cut.retryable
    assert isinstance(error_for_finish("model_context_window_exceeded"), ContextTooLongError)
    for fine in ("stop", "tool_calls", "length"):
        assert error_for_finish(fine) is None


def test_with_message_keeps_everything_else() -> None:
    err = RateLimitError("busy", code="1302", status=429, retry_after=3.0)
    again = err.with_message("busy (gave up)")
    assert type(again) is RateLimitError
    assert (again.code, again.status, again.retry_after, again.hint, again.retryable) == (
        "1302", 429, 3.0, err.hint, True
    )
    assert str(again) == "busy (gave up)"


# --- backoff ---------------------------------------------------------------------------


def test_full_jitter_grows_exponentially_up_to_the_cap() -> None:
    top = RetryPolicy(base=0.5, cap=60.0, rng=lambda: 1.0)
    assert [top.delay(n) for n in range(1, 10)] == [0.5, 1, 2, 4, 8, 16, 32, 60, 60]
    bottom = RetryPolicy(rng=lambda: 0.0)
    assert bottom.delay(5) == 0.0
    half = RetryPolicy(base=1.0, rng=lambda: 0.5)
    assert half.delay(3) == 2.0


def test_retry_after_wins_but_is_capped() -> None:
    policy = RetryPolicy(cap=60.0, rng=lambda: 0.0)
    assert policy.delay(1, retry_after=12.0) == 12.0
    assert policy.delay(1, retry_after=3600.0) == 60.0
    assert policy.delay(1, retry_after=-5.0) == 0.0


def test_parse_retry_after() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1445412490.0) == 0.0
