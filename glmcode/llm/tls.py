"""The TLS context for GLM's endpoint, begun on a thread before the rest of glmcode loads.

Loading the CA certificates takes tens of milliseconds, and OpenSSL spends them without
holding Python's lock, so begun first they overlap the imports that follow instead of
delaying the first request. The context is made as httpx makes its own: SSL_CERT_FILE or
SSL_CERT_DIR when set, else certifi's bundle.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl


def default_context() -> ssl.SSLContext:
    import ssl

    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


class EarlyContext:
    """`default_context()`, being made from the moment this is created; calling it waits for
    the context and returns it, or raises what making it raised."""

    def __init__(self) -> None:
        self._context: ssl.SSLContext | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._make, daemon=True)
        self._thread.start()

    def _make(self) -> None:
        try:
            self._context = default_context()
        except BaseException as exc:  # handed to whoever asks for the context
            self._error = exc

    def __call__(self) -> ssl.SSLContext:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._context is not None
        return self._context
