"""A real HTTP server on 127.0.0.1 for the web tools' tests: each route answers with a fixed
status, headers and body, or waits (on an event, never a sleep) to play a page that is slow."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    stall: bool = False  # wait until the server stops before answering
    chunked: bool = False  # send the body in chunks, without a Content-Length


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that stops reading (the size cap, a timeout) resets the connection.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class Pages:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[str] = []
        self.stop = threading.Event()
        pages = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                pages.hits.append(self.path)
                route = pages.routes.get(self.path)
                if route is None:
                    route = Route(b"not here", 404, {"Content-Type": "text/plain"})
                if route.stall:
                    pages.stop.wait()
                    return
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    try:
                        for start in range(0, len(route.body), 65536):
                            part = route.body[start:start + 65536]
                            self.wfile.write(b"%x\r\n%b\r\n" % (len(part), part))
                        self.wfile.write(b"0\r\n\r\n")
                    except (BrokenPipeError, ConnectionResetError):
                        self.close_connection = True
                    return
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                try:
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def add(self, path: str, body: bytes | str = b"", content_type: str = "text/html; charset=utf-8",
            **options: Any) -> str:
        data = body.encode() if isinstance(body, str) else body
        headers = {"Content-Type": content_type} if content_type else {}
        headers.update(options.pop("headers", {}))
        self.routes[path] = Route(data, headers=headers, **options)
        return self.url(path)

    def redirect(self, path: str, to: str, status: int = 302) -> str:
        self.routes[path] = Route(b"", status, {"Location": to})
        return self.url(path)

    def start(self) -> Pages:
        self.thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
