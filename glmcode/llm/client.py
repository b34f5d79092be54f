"""The GLM client: one chat-completions request, streamed or whole, with retries.

httpx is imported when a client is built, never when this module is imported, so commands
that never talk to the model (`glmcode --version`) do not pay for it.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any, Callable, Generator, Iterator
from urllib.parse import urlsplit

from glmcode import __version__
from glmcode.events import ReasoningDelta, Retrying, TextDelta
from glmcode.llm.assemble import StreamAssembler, reply_from_response
from glmcode.llm.errors import (
    GLMError,
    NetworkError,
    ServerError,
    StreamCutError,
    error_for_finish,
    error_from_response,
    redact,
)
from glmcode.llm.request import build_body
from glmcode.llm.retry import RetryPolicy
from glmcode.llm.sse import SSEReader
from glmcode.llm.types import ClientConfig, ModelReply

_STREAM_HEADERS = {"Accept": "text/event-stream"}
_JSON_HEADERS = {"Accept": "application/json"}


class GLMClient:
    """Talks to one GLM endpoint with one pooled HTTP connection.

    `stream` and `complete` retry what is worth retrying (rate limits, server errors, network
    failures, cut streams) with jittered backoff, honouring Retry-After; everything else is
    raised at once as a GLMError whose message never contains the API key.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        known_tools: frozenset[str] | None = None,
    ) -> None:
        _import_httpx_without_its_cli()
        import httpx

        self.config = config
        self._httpx = httpx
        self._sleep = sleep
        self._known_tools = known_tools
        self._policy = RetryPolicy(
            max_attempts=max(1, config.max_attempts), cap=config.max_backoff, rng=rng
        )
        self._url = config.base_url.rstrip("/") + "/chat/completions"
        self._host = urlsplit(self._url).netloc or config.base_url
        # trust_env: HTTPS_PROXY, NO_PROXY and SSL_CERT_FILE apply, as users behind a
        # corporate proxy expect.
        self._http = httpx.Client(
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
            trust_env=True,
            verify=config.tls() if config.tls is not None else True,
            headers={
                "Authorization": f"Bearer {config.api_key}",
                "Content-Type": "application/json",
                "User-Agent": f"glmcode/{__version__}",
            },
        )

    @property
    def model(self) -> str:
        return self.config.model

    def __enter__(self) -> GLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def stream(
        self, messages: list[dict], tools: list[dict] | None = None, *, response_format: dict | None = None
    ) -> Iterator[ReasoningDelta | TextDelta | Retrying | ModelReply]:
        """Deltas as they arrive, then exactly one ModelReply. `response_format`: as in
        `build_body`.

        Before a retry it yields Retrying (its `attempt` is the number of the attempt about
        to start): whatever was shown since the previous attempt began is void.
        """
        body = self._encode(messages, tools, stream=True, response_format=response_format)
        attempt = 0
        while True:
            attempt += 1
            try:
                reply = yield from self._stream_once(body)
                _raise_for_finish(reply)
            except GLMError as err:
                failure = err
            else:
                yield reply
                return
            wait = self._wait_or_raise(failure, attempt)
            yield Retrying(failure.message, wait, attempt + 1, self._policy.max_attempts)
            self._sleep(wait)

    def complete(
        self, messages: list[dict], tools: list[dict] | None = None, *, response_format: dict | None = None
    ) -> ModelReply:
        """The whole reply in one response (`stream: false`), with the same retries."""
        body = self._encode(messages, tools, stream=False, response_format=response_format)
        attempt = 0
        while True:
            attempt += 1
            try:
                reply = self._complete_once(body)
                _raise_for_finish(reply)
            except GLMError as err:
                failure = err
            else:
                return reply
            self._sleep(self._wait_or_raise(failure, attempt))

    def _encode(
        self, messages: list[dict], tools: list[dict] | None, *, stream: bool, response_format: dict | None = None
    ) -> bytes:
        body = build_body(self.config, messages, tools, stream=stream, response_format=response_format)
        # Compact and fixed: the same conversation always gives the same bytes. A lone
        # surrogate (from undecodable file bytes) becomes "?" instead of failing the turn.
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8", errors="replace")

    def _wait_or_raise(self, err: GLMError, attempt: int) -> float:
        """The wait before the next attempt; raises `err` when there should be none."""
        if not err.retryable:
            if attempt > 1:
                raise err.with_message(f"{err.message} (on attempt {attempt})") from err
            raise err
        if attempt >= self._policy.max_attempts:
            tries = "1 attempt" if attempt == 1 else f"{attempt} attempts"
            raise err.with_message(f"{err.message} (gave up after {tries})") from err
        return self._policy.delay(attempt, err.retry_after)

    def _stream_once(self, body: bytes) -> Generator[ReasoningDelta | TextDelta, None, ModelReply]:
        httpx = self._httpx
        secret = self.config.api_key
        received = False
        try:
            with self._http.stream(
                "POST", self._url, content=body, headers=_STREAM_HEADERS
            ) as response:
                if not 200 <= response.status_code < 300:
                    raise error_from_response(
                        response.status_code, response.read(), response.headers, secret=secret
                    )
                received = True
                if "json" in response.headers.get("content-type", ""):
                    # A gateway that answers a stream request with one JSON body.
                    return self._reply_from_json(response.read())
                reader = SSEReader(response.iter_lines())
                assembler = StreamAssembler(known_tools=self._known_tools, secret=secret)
                feed = assembler.feed
                loads = json.loads
                try:
                    for payload in reader:
                        yield from feed(loads(payload))
                except (ValueError, AttributeError, TypeError, IndexError, KeyError) as exc:
                    raise StreamCutError(
                        redact(f"GLM sent a malformed stream chunk ({exc})", secret)
                    ) from None
                if not reader.done:
                    raise StreamCutError("the reply stream ended before [DONE]")
                return assembler.finish()
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._transport_error(exc, received) from exc

    def _complete_once(self, body: bytes) -> ModelReply:
        httpx = self._httpx
        try:
            response = self._http.post(self._url, content=body, headers=_JSON_HEADERS)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._transport_error(exc, False) from exc
        if not 200 <= response.status_code < 300:
            raise error_from_response(
                response.status_code,
                response.content,
                response.headers,
                secret=self.config.api_key,
            )
        return self._reply_from_json(response.content)

    def _reply_from_json(self, content: bytes) -> ModelReply:
        try:
            data: Any = json.loads(content)
        except ValueError:
            raise ServerError("GLM sent a response that is not valid JSON") from None
        if not isinstance(data, dict):
            raise ServerError("GLM sent a response that is not a JSON object")
        try:
            return reply_from_response(
                data, known_tools=self._known_tools, secret=self.config.api_key
            )
        except (AttributeError, TypeError, IndexError, KeyError) as exc:
            raise ServerError(f"GLM sent a response glmcode cannot read ({exc})") from None

    def _transport_error(self, exc: Exception, received: bool) -> GLMError:
        """The GLMError for a failure below HTTP: refused connection, timeout, cut body."""
        httpx = self._httpx
        detail = redact(str(exc) or type(exc).__name__, self.config.api_key)
        if isinstance(exc, httpx.ConnectTimeout):
            return NetworkError(
                f"could not connect to {self._host} within {self.config.connect_timeout:g} s"
            )
        if isinstance(exc, httpx.TimeoutException):
            return NetworkError(
                f"no data from {self._host} for {self.config.timeout:g} s (read timeout)"
            )
        if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
            return NetworkError(
                f"the base URL {self.config.base_url!r} is not usable: {detail}",
                retryable=False,
                hint="Set a full base URL such as https://api.z.ai/api/paas/v4, or pick "
                "a --provider.",
            )
        if isinstance(exc, httpx.ConnectError):
            return NetworkError(f"could not connect to {self._host}: {detail}")
        cut = (httpx.ReadError, httpx.RemoteProtocolError, httpx.DecodingError)
        if received and isinstance(exc, cut):
            return StreamCutError(f"the connection to {self._host} broke mid-reply: {detail}")
        return NetworkError(f"request to {self._host} failed: {detail}")


def _raise_for_finish(reply: ModelReply) -> None:
    err = error_for_finish(reply.finish_reason)
    if err is not None:
        raise err


def _import_httpx_without_its_cli() -> None:
    """httpx imports its command-line tool (click, rich, pygments: some 30 ms) whenever click
    is installed, and the MCP SDK's server side brings click. glmcode never runs that tool, so
    its module is marked absent before httpx's first import; httpx then keeps its stub `main`."""
    import sys

    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[assignment]
