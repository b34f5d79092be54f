"""A small JSON-RPC client that drives `glmcode acp` over its stdin and stdout, as an editor
does: it sends requests, collects the agent's notifications, and answers the agent's own
requests (permissions, files) with handlers the test gives."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

TIMEOUT = 30
HOLD = object()  # what a handler returns to leave the agent's request unanswered


class AgentProcess:
    def __init__(self, cwd: Path, env_extra: dict[str, str], args: tuple[str, ...] = ()) -> None:
        env = dict(os.environ)
        env.update(env_extra)
        self.cwd = cwd
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "glmcode", "acp", *args], cwd=cwd, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.raw_lines: list[bytes] = []
        self.notifications: list[dict[str, Any]] = []
        self.handlers: dict[str, Callable[[dict[str, Any]], Any]] = {}
        self.client_requests: list[dict[str, Any]] = []
        self.responses: dict[Any, dict[str, Any]] = {}  # by id, until asked for
        self.on_update: Callable[[dict[str, Any]], None] | None = None
        self._next_id = 0
        self._lock = threading.Lock()
        self.stderr_lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.raw_lines.append(line)
            self.inbox.put(json.loads(line))
        self.inbox.put(None)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line.decode("utf-8", "replace"))

    def write_line(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        with self._lock:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.write_line(json.dumps(message).encode() + b"\n")

    def request(self, method: str, params: dict[str, Any]) -> int:
        self._next_id += 1
        self.send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        return self._next_id

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """The response to one request, serving the agent's requests meanwhile."""
        return self.wait_response(self.request(method, params))

    def wait_response(self, request_id: int | None) -> dict[str, Any]:
        while request_id not in self.responses:
            message = self.next_message()
            if "method" in message:
                self._serve(message)
            else:
                self.responses[message.get("id")] = message
        return self.responses.pop(request_id)

    def next_message(self) -> dict[str, Any]:
        message = self.inbox.get(timeout=TIMEOUT)
        if message is None:
            raise EOFError("the agent closed its stdout:\n" + "".join(self.stderr_lines[-40:]))
        return message

    def wait_update(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """Serves messages until a session/update whose `update` satisfies `predicate`."""
        while True:
            message = self.next_message()
            if "method" in message:
                self._serve(message)
                if message["method"] == "session/update" and predicate(message["params"]["update"]):
                    return message["params"]["update"]

    def _serve(self, message: dict[str, Any]) -> None:
        method = message["method"]
        if "id" not in message:
            self.notifications.append(message)
            if self.on_update is not None and method == "session/update":
                self.on_update(message["params"]["update"])
            return
        self.client_requests.append(message)
        handler = self.handlers.get(method)
        if handler is None:
            self.send({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": "Method not found"}})
            return
        result = handler(message["params"])
        if result is not HOLD:
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})

    def serve_until(self, done: Callable[[], bool]) -> None:
        """Serves messages until `done()` holds."""
        while not done():
            message = self.next_message()
            if "method" in message:
                self._serve(message)
            else:
                self.responses[message.get("id")] = message

    def updates(self, kind: str | None = None, session: str | None = None) -> list[dict[str, Any]]:
        found = [n["params"] for n in self.notifications if n["method"] == "session/update"]
        return [p["update"] for p in found
                if (kind is None or p["update"]["sessionUpdate"] == kind) and (session is None or p["sessionId"] == session)]

    def asked(self, method: str, session: str | None = None) -> list[dict[str, Any]]:
        """The agent's requests of this method (for this session)."""
        return [r for r in self.client_requests
                if r["method"] == method and (session is None or r["params"].get("sessionId") == session)]

    def initialize(self, fs: dict[str, bool] | None = None, terminal: bool = False) -> dict[str, Any]:
        caps: dict[str, Any] = {"fs": fs or {"readTextFile": False, "writeTextFile": False}, "terminal": terminal}
        return self.call("initialize", {"protocolVersion": 1, "clientCapabilities": caps,
                                        "clientInfo": {"name": "test-editor", "version": "1.0"}})

    def new_session(self, cwd: Path) -> str:
        response = self.call("session/new", {"cwd": str(cwd), "mcpServers": []})
        assert "result" in response, response
        return str(response["result"]["sessionId"])

    def prompt(self, session_id: str, text: str) -> dict[str, Any]:
        return self.call("session/prompt", {"sessionId": session_id, "prompt": [{"type": "text", "text": text}]})

    def close(self) -> int:
        """Closes stdin, as an editor quitting does, and waits for the agent to end."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        return self.proc.wait(timeout=TIMEOUT)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)


def texts(updates: list[dict[str, Any]]) -> str:
    return "".join(u["content"]["text"] for u in updates)


class Turns:
    """One fake GLM script for many tests in turn: each test queues the turns its prompts get."""

    def __init__(self) -> None:
        self.queue: deque[Any] = deque()

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        turn = self.queue.popleft()
        return turn(body) if callable(turn) else turn


class Terminals:
    """The editor's terminals: each command a process of this test, its output kept whole."""

    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.outputs: dict[str, str] = {}
        self.created: list[dict[str, Any]] = []
        self.released: list[str] = []

    def install(self, agent: AgentProcess) -> None:
        agent.handlers.update({
            "terminal/create": self.create, "terminal/wait_for_exit": self.wait, "terminal/output": self.output,
            "terminal/release": self.release, "terminal/kill": self.kill,
        })

    def create(self, params: dict[str, Any]) -> dict[str, Any]:
        self.created.append(params)
        env = {**os.environ, **{v["name"]: v["value"] for v in params.get("env") or []}}
        proc = subprocess.Popen([params["command"], *params.get("args", [])], cwd=params.get("cwd"), env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        terminal = f"term-{len(self.procs)}"
        self.procs[terminal] = proc
        return {"terminalId": terminal}

    def wait(self, params: dict[str, Any]) -> dict[str, Any]:
        proc = self.procs[params["terminalId"]]
        out, _ = proc.communicate(timeout=TIMEOUT)
        self.outputs[params["terminalId"]] = out.decode()
        return {"exitCode": proc.returncode}

    def output(self, params: dict[str, Any]) -> dict[str, Any]:
        proc = self.procs[params["terminalId"]]
        return {"output": self.outputs.get(params["terminalId"], ""), "truncated": False,
                "exitStatus": {"exitCode": proc.returncode}}

    def release(self, params: dict[str, Any]) -> dict[str, Any]:
        self.kill(params)
        self.released.append(params["terminalId"])
        return {}

    def kill(self, params: dict[str, Any]) -> dict[str, Any]:
        proc = self.procs[params["terminalId"]]
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        return {}
