"""One web page fetched: GET with httpx, redirects followed by hand so each hop is checked,
a time limit for the whole fetch and a cap on the bytes read."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from glmcode import __version__
from glmcode.web.addresses import AddressGuard, BlockedAddress
from glmcode.web.errors import WebError
from glmcode.web.transport import guarded_client

MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 10
TIMEOUT = 30.0
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Fetched:
    """The answer to a GET: the body of the page, or the URL on another host it moved to
    (`moved_to`), which the caller may not follow without the user's say."""

    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes = b""
    moved_to: str | None = None


def check_url(url: str) -> str:
    """`url` if it is an absolute http(s) URL with a host, else a WebError saying what is wrong."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise WebError(f"{url!r} is not a URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise WebError(f"{url!r} is not an http:// or https:// URL")
    if not parts.hostname:
        raise WebError(f"{url!r} names no host")
    return url


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class Fetcher:
    """GETs pages. `host_verdict(url)` is the permission policy's decision ("allow", "ask" or
    "deny") for reaching a URL's host; a redirect to another host is followed only when it is
    "allow"."""

    def __init__(
        self,
        guard: AddressGuard,
        host_verdict: Callable[[str], str],
        *,
        timeout: float = TIMEOUT,
        max_bytes: int = MAX_BYTES,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        self._host_verdict = host_verdict
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._max_redirects = max_redirects
        self._client = guarded_client(guard, timeout, f"glmcode/{__version__} (web_fetch)")

    def get(self, url: str) -> Fetched:
        url = check_url(url)
        deadline = time.monotonic() + self._timeout
        current = url
        for _ in range(self._max_redirects + 1):
            response = self._open(current)
            try:
                location = response.headers.get("location")
                if response.status_code not in _REDIRECTS or not location:
                    body = self._read(response, current, deadline)
                    return Fetched(url, current, response.status_code,
                                   response.headers.get("content-type", ""), body)
            finally:
                response.close()
            target = check_url(urljoin(current, location))
            if host_of(target) != host_of(current):
                verdict = self._host_verdict(target)
                if verdict == "deny":
                    raise WebError(f"{current} redirects to {target}, which a deny rule refuses")
                if verdict != "allow":
                    return Fetched(url, current, response.status_code, "", moved_to=target)
            current = target
        raise WebError(f"{url} redirects more than {self._max_redirects} times; stopped")

    def _open(self, url: str) -> httpx.Response:
        try:
            return self._client.send(self._client.build_request("GET", url), stream=True)
        except BlockedAddress as exc:
            raise WebError(f"refused {url}: {exc}") from None
        except WebError:
            raise
        except httpx.TimeoutException:
            raise WebError(f"{url} did not answer within {self._timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise WebError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from None

    def _read(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        too_big = f"{url} is larger than {_size(self._max_bytes)}, more than web_fetch reads"
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self._max_bytes:
            raise WebError(too_big)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self._max_bytes:
                    raise WebError(too_big)
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise WebError(f"{url} took longer than {self._timeout:g} s to send; stopped")
        except httpx.TimeoutException:
            raise WebError(f"{url} stopped sending for {self._timeout:g} s; gave up") from None
        except httpx.HTTPError as exc:
            raise WebError(f"reading {url} failed: {type(exc).__name__}: {exc}") from None
        return b"".join(chunks)


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB" if n >= 1024 * 1024 else f"{n:,} bytes"
