"""A scriptable fake GLM server speaking the real wire format over HTTP on 127.0.0.1.

    with FakeGLM({"turns": [{"content": "Hello!"}]}) as fake:
        client = make_client(base_url=fake.base_url)
        ...
        assert fake.requests[0].body["messages"][-1]["content"] == "hi"

Each POST to `{base_url}/chat/completions` plays the next turn of the script, each POST to
`{base_url}/web_search` the next of its searches (see `testing/search.py`). From a shell:
`python -m glmcode.testing.fake_glm --script FILE [--port N] [--api-key KEY]` prints the base URL
on its first line of output and serves until killed.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import socket
import sys
import threading
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from glmcode.testing.answer import Answer, error_answer, plan_answer
from glmcode.testing.prompt_cache import PromptCache
from glmcode.testing.script import Turn, check_turn, load_script, pick_for_model
from glmcode.testing.search import ENDPOINT as SEARCH_ENDPOINT
from glmcode.testing.search import body_error, load_searches, search_answer

BASE_PATH = "/api/paas/v4"
_ENDPOINT = "/chat/completions"
# GLM knows no json_schema format: structured output is json_object plus the client's check.
_RESPONSE_FORMATS = ({"type": "text"}, {"type": "json_object"})


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it; header names are lower-case."""

    path: str
    headers: dict[str, str]
    body: dict


class FakeGLM:
    """Plays a script of turns, one per chat-completions request. See docs/testing.md."""

    def __init__(
        self,
        script: Any,
        *,
        searches: list[dict[str, Any]] | None = None,
        api_key: str | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        self._turns: list[Turn] = load_script(script)
        self._played = 0
        self._searches = load_searches(script) if searches is None else load_searches({"searches": searches})
        self._searched = 0
        self._api_key = api_key
        self._address = (host, port)
        self._lock = threading.Lock()
        self._cache = PromptCache()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[RecordedRequest] = []

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake GLM server is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{BASE_PATH}"

    @property
    def remaining(self) -> list[Turn]:
        """The turns not played yet, in order."""
        with self._lock:
            return list(self._turns[self._played :])

    def start(self) -> FakeGLM:
        if self._server is not None:
            return self
        server = _Server(self._address, _Handler)
        server.fake = self
        self._server = server
        # A short poll keeps stop() quick; tests start and stop many servers.
        self._thread = threading.Thread(
            target=server.serve_forever, name="fake-glm", kwargs={"poll_interval": 0.01}
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.hang_up_all()
        server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> FakeGLM:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _answer(self, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        """Record one request and decide its answer; the server's handler calls this."""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self._lock:
            self.requests.append(
                RecordedRequest(path, headers, body if isinstance(body, dict) else {})
            )
        route = path.split("?", 1)[0].rstrip("/")
        if not route.endswith((_ENDPOINT, SEARCH_ENDPOINT)):
            return error_answer(404, "404", f"fake GLM: no endpoint {path}; POST {_ENDPOINT}")
        if self._api_key is not None and headers.get("authorization") != (
            f"Bearer {self._api_key}"
        ):
            return error_answer(
                401, "1001", "fake GLM: the Authorization header has no valid Bearer API key"
            )
        if route.endswith(SEARCH_ENDPOINT):
            return self._search(body)
        if not isinstance(body, dict):
            return error_answer(400, "1210", "fake GLM: the request body is not a JSON object")
        if "response_format" in body and body["response_format"] not in _RESPONSE_FORMATS:
            return error_answer(400, "1210", "fake GLM: response_format takes type text or json_object only")
        refused = images_refused(body)
        if refused:
            return error_answer(400, "1210", refused)
        with self._lock:
            if self._played >= len(self._turns):
                return error_answer(
                    400,
                    "1214",
                    f"fake GLM: the script has no turn {self._played + 1} "
                    f"(it has {len(self._turns)})",
                )
            number = self._played + 1
            turn = self._turns[self._played]
            self._played += 1
        try:
            if callable(turn):
                turn = check_turn(turn(body), where=f"turn {number} (returned by a function)")
            chosen = pick_for_model(turn, body)
            if chosen is None:
                return error_answer(
                    400, "1211", f"fake GLM: turn {number} has no answer for model {body.get('model')!r}"
                )
            turn = chosen
            cached = 0 if "error" in turn else self._cache.observe(body)
            return plan_answer(turn, body, len(raw), cached)
        except Exception as exc:  # noqa: BLE001 - any failure of a scripted turn is reported
            traceback.print_exc()
            return error_answer(500, "500", f"fake GLM: turn {number} failed: {exc!r}")


    def _search(self, body: Any) -> Answer:
        refused = body_error(body)
        if refused is not None:
            return refused
        with self._lock:
            if self._searched >= len(self._searches):
                return error_answer(
                    400, "1214",
                    f"fake GLM: the script has no search {self._searched + 1} (it has {len(self._searches)})",
                )
            self._searched += 1
            number, entry = self._searched, self._searches[self._searched - 1]
        return search_answer(entry, body, number)


_VISION_MODEL = re.compile(r"glm-[0-9.]+v(?:-[a-z0-9]+)?")


def images_refused(body: dict[str, Any]) -> str:
    """Why the request may not carry images, as GLM answers a text model sent one; "" when
    it may. Vision models are named like glm-4.6v and glm-4.5v (after any router prefix)."""
    model = str(body.get("model", "")).rsplit("/", 1)[-1].split(":", 1)[0].lower()
    messages = body.get("messages")
    carries = isinstance(messages, list) and any(
        isinstance(m, dict) and isinstance(m.get("content"), list)
        and any(isinstance(p, dict) and p.get("type") == "image_url" for p in m["content"])
        for m in messages
    )
    if carries and not _VISION_MODEL.fullmatch(model):
        return f"fake GLM: model {model!r} does not take image input"
    return ""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeGLM

    def __init__(self, address: tuple[str, int], handler: type) -> None:
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gives up on a stream (a read timeout, an interrupt) resets the
        # connection; that is the client's business, not a server failure worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def hang_up_all(self) -> None:
        """End idle keep-alive connections and pending waits so handler threads exit now."""
        self.stopping.set()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-glm"
    sys_version = ""
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and CI logs should show the client's output, not an access log."""

    def do_POST(self) -> None:
        raw = self._read_body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        self._deliver(self.server.fake._answer(self.path, headers, raw))

    def do_GET(self) -> None:
        self._deliver(error_answer(404, "404", f"fake GLM: no endpoint GET {self.path}"))

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(parts)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _deliver(self, answer: Answer) -> None:
        stopping = self.server.stopping
        if answer.first_byte_delay and stopping.wait(answer.first_byte_delay):
            return self._hang_up()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        if answer.retry_after is not None:
            self.send_header("Retry-After", answer.retry_after)
        try:
            if answer.streamed:
                self._send_stream(answer, stopping)
            else:
                self._send_whole(answer)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_stream(self, answer: Answer, stopping: threading.Event) -> None:
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        write = self.wfile.write
        for n, event in enumerate(answer.parts):
            if n == answer.cut_after:
                return self._hang_up()
            if n and answer.delay and stopping.wait(answer.delay):
                return self._hang_up()
            write(b"%x\r\n%b\r\n" % (len(event), event))
        if answer.cut_after is not None:
            return self._hang_up()
        write(b"0\r\n\r\n")

    def _send_whole(self, answer: Answer) -> None:
        body = answer.parts[0]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if answer.cut_after is None:
            self.wfile.write(body)
            return
        self.wfile.write(body[: answer.cut_after])
        self._hang_up()

    def _hang_up(self) -> None:
        """Drop the connection mid-answer, the way a failing upstream does."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m glmcode.testing.fake_glm",
        description="Serve a scripted fake GLM API on 127.0.0.1 until killed.",
    )
    parser.add_argument("--script", required=True, help="JSON file: {\"turns\": [...]}")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    parser.add_argument("--api-key", help="answer 401 unless this Bearer key is sent")
    args = parser.parse_args(argv)
    try:
        fake = FakeGLM(args.script, api_key=args.api_key, port=args.port).start()
    except (ValueError, OSError) as exc:
        print(f"fake_glm: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(fake.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
