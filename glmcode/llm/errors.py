"""What can go wrong talking to GLM, and what the user can do about it.

Every error carries the business code and HTTP status it came from, a message, a hint meant
for the user, and whether a retry may help. Messages built from server text pass through
`redact` first, so the API key can never reach the terminal, a log or a session file.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from glmcode.llm.retry import parse_retry_after

CODING_URL = "https://api.z.ai/api/coding/paas/v4"
PAYG_URL = "https://api.z.ai/api/paas/v4"

_RESET_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_CONTEXT_WORDS = re.compile(
    r"context (?:length|window)|prompt (?:is )?too long|too many tokens|maximum context",
    re.IGNORECASE,
)


MIN_SECRET = 8


def redact(text: str, secret: str) -> str:
    """`text` with every occurrence of `secret` replaced.

    Z.ai keys are `<id>.<secret>`; each half is redacted on its own as well, since a server
    may quote only one of them. A value under MIN_SECRET characters is no real key, and would
    be found inside ordinary words.
    """
    if len(secret) < MIN_SECRET or not text:
        return text
    text = text.replace(secret, "[redacted]")
    for part in secret.split("."):
        if len(part) >= MIN_SECRET and part in text:
            text = text.replace(part, "[redacted]")
    return text


class GLMError(Exception):
    """Base of every failure the GLM client reports."""

    kind = "api"
    default_hint = ""
    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        hint: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.hint = self.default_hint if hint is None else hint
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message

    def with_message(self, message: str) -> GLMError:
        """The same error (same class, code, hint) with another message."""
        return type(self)(
            message,
            code=self.code,
            status=self.status,
            hint=self.hint,
            retryable=self.retryable,
            retry_after=self.retry_after,
        )


class AuthError(GLMError):
    kind = "auth"
    default_hint = (
        "Check the API key: export ZAI_API_KEY=<your key>, or set api_key in "
        "~/.config/glmcode/config.toml (create a key in the Z.ai console), and make sure it "
        "has not expired or been deleted."
    )


class AccountError(GLMError):
    kind = "account"
    default_hint = (
        "The account behind this key cannot make requests right now; check its status and "
        "balance in the Z.ai console."
    )


class QuotaError(GLMError):
    kind = "quota"
    default_hint = (
        "The usage quota for this key is spent; wait for it to reset, or upgrade the plan."
    )


class BadRequestError(GLMError):
    kind = "bad_request"
    default_hint = (
        "GLM rejected the request as malformed. This is a bug in glmcode; please report it "
        "with this message."
    )


class ContextTooLongError(GLMError):
    kind = "context_too_long"
    default_hint = (
        "The conversation no longer fits in the model's context window, even summarised; start "
        "a new session, or ask for less at once (a smaller file, a narrower search)."
    )


class ContentFilterError(GLMError):
    kind = "content_filter"
    default_hint = (
        "GLM's content safety filter stopped this turn. Rephrase the request; the session is "
        "kept."
    )


class RateLimitError(GLMError):
    kind = "rate_limit"
    default_retryable = True
    default_hint = (
        "GLM is busy or too many requests are running on this key; glmcode waits and retries."
    )


class ServerError(GLMError):
    kind = "server"
    default_retryable = True
    default_hint = "GLM had an internal error; glmcode waits and retries."


class NetworkError(GLMError):
    kind = "network"
    default_retryable = True
    default_hint = (
        "Could not reach the GLM endpoint. Check the connection, the base URL, and the proxy "
        "settings (HTTPS_PROXY, NO_PROXY, SSL_CERT_FILE)."
    )


class StreamCutError(GLMError):
    kind = "stream_cut"
    default_retryable = True
    default_hint = "The reply stream broke off before it was complete; glmcode retries."


_HINT_1113 = (
    "Code 1113 usually means the key and the endpoint do not match, not an empty balance: a "
    f"GLM Coding Plan key needs --provider zai-coding ({CODING_URL}), a pay-as-you-go key needs "
    f"--provider zai ({PAYG_URL}). If they do match, top up the account balance."
)
_HINT_1211 = "GLM does not know this model name; check --model (for example glm-4.6)."
_HINT_CONTENT_FILTER_OUTPUT = (
    "GLM's content safety filter withheld the reply. Rephrase the request; the session is kept."
)

_CODE_GROUPS: tuple[tuple[type[GLMError], tuple[str, ...]], ...] = (
    (AuthError, ("1000", "1001", "1002", "1003", "1004")),
    (AccountError, ("1100", "1110", "1111", "1112", "1113", "1120", "1121", "1220")),
    (QuotaError, ("1304", "1308", "1309", "1310")),
    (BadRequestError, ("1200", "1210", "1211", "1212", "1213", "1214", "1215", "1221", "1222")),
    (ContextTooLongError, ("1261",)),
    (ContentFilterError, ("1301",)),
    (RateLimitError, ("1302", "1303", "1305")),
    (ServerError, ("500", "1230", "1231", "1234")),
)


def _class_for_code(code: str | None) -> type[GLMError] | None:
    for cls, codes in _CODE_GROUPS:
        if code in codes:
            return cls
    return None


def _class_for_status(status: int | None) -> type[GLMError]:
    if status is None:
        # An error inside a stream without a known code: most often a transient upstream
        # failure, so worth another try.
        return ServerError
    if status == 401:
        return AuthError
    if status in (402, 403):
        return AccountError
    if status == 408:
        return NetworkError
    if status == 413:
        return ContextTooLongError
    if status == 429:
        return RateLimitError
    if status >= 500:
        return ServerError
    return BadRequestError


def _hint_for(cls: type[GLMError], code: str | None, message: str) -> str | None:
    if code == "1113":
        return _HINT_1113
    if code == "1211":
        return _HINT_1211
    if cls is QuotaError:
        reset = _RESET_TIME.search(message)
        if reset:
            return f"The usage quota for this key is spent; it resets at {reset.group(0)}."
    return None


def error_from_payload(
    payload: Mapping[str, Any],
    *,
    status: int | None = None,
    retry_after: float | None = None,
    secret: str = "",
) -> GLMError:
    """The error described by a decoded error body: `{"error": {"code", "message"}}`, or the
    flatter `{"code", "msg"}` some gateways send. The business code decides first, the HTTP
    status second."""
    err = payload.get("error", payload)
    if not isinstance(err, Mapping):
        err = {"message": str(err)}
    raw_code = err.get("code", payload.get("code"))
    code = str(raw_code) if raw_code not in (None, "") else None
    message = err.get("message") or err.get("msg") or payload.get("msg") or ""
    if not isinstance(message, str):
        message = json.dumps(message, ensure_ascii=False)
    message = redact(message, secret)
    cls = _class_for_code(code) or _class_for_status(status)
    if cls is BadRequestError and _CONTEXT_WORDS.search(message):
        cls = ContextTooLongError
    if code:
        label = f"GLM error {code}"
    elif status:
        label = f"GLM error (HTTP {status})"
    else:
        label = "GLM error"
    return cls(
        f"{label}: {message or 'no details given'}",
        code=code,
        status=status,
        hint=_hint_for(cls, code, message),
        retry_after=retry_after,
    )


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    value = headers.get(name)
    if value is not None:
        return value
    for key, val in headers.items():
        if key.lower() == name:
            return val
    return None


def error_from_response(
    status: int, body: bytes | str, headers: Any = None, *, secret: str = ""
) -> GLMError:
    """The error for a non-2xx HTTP response."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    retry_after = parse_retry_after(_header(headers, "retry-after"))
    try:
        payload = json.loads(body) if body.strip() else {}
    except ValueError:
        payload = {}
    if not isinstance(payload, dict) or not payload:
        # Not JSON (a proxy's HTML page, an empty body): keep a short excerpt of it.
        excerpt = " ".join(body.split())[:200]
        payload = {"error": {"message": excerpt or f"HTTP {status}"}}
    return error_from_payload(payload, status=status, retry_after=retry_after, secret=secret)


def error_for_finish(finish_reason: str) -> GLMError | None:
    """The error a finish reason stands for, if any: the reply is then unusable."""
    if finish_reason == "sensitive":
        return ContentFilterError(
            "GLM stopped the reply for content safety (finish_reason sensitive)",
            hint=_HINT_CONTENT_FILTER_OUTPUT,
        )
    if finish_reason == "network_error":
        return StreamCutError(
            "GLM reported a network error while generating (finish_reason network_error)"
        )
    if finish_reason == "model_context_window_exceeded":
        return ContextTooLongError(
            "The reply ran past the model's context window "
            "(finish_reason model_context_window_exceeded)"
        )
    return None
