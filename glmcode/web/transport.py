"""An httpx client for web pages whose every TCP connection goes through the address guard.

The check sits in the network backend, where httpcore opens sockets: it sees the name being
connected to, resolves it once, and connects to an address it accepted, so the name cannot
resolve to something else between the check and the connection. TLS still verifies the
certificate against the host name. Proxies from the environment are not used: through a
proxy the addresses could not be checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from glmcode.web.addresses import AddressGuard


class _GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for address in self._guard.addresses(host, port):
            try:
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("web pages are not read from unix sockets")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, guard: AddressGuard) -> None:
        super().__init__(trust_env=False)
        # httpx builds its pool without a way to pass a network backend; this pool is the
        # same one with the guarded backend.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=10,
            max_keepalive_connections=5,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(guard),
        )


def guarded_client(guard: AddressGuard, timeout: float, user_agent: str) -> httpx.Client:
    return httpx.Client(
        transport=_GuardedTransport(guard),
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        follow_redirects=False,
        trust_env=False,
        headers={
            "User-Agent": user_agent,
            "Accept": "text/html,application/xhtml+xml,text/markdown;q=0.9,text/plain;q=0.9,"
            "application/json;q=0.8,*/*;q=0.1",
        },
    )
