"""JSON-RPC messages over stdio, one JSON object per line.

Protocol messages alone go to the editor: the real standard output is kept for them and the
process's own file descriptor 1 points at stderr, so a stray print, a library's warning or a
child process that inherits it cannot corrupt the stream. A line that is not JSON, or not a
JSON-RPC message, is answered with the JSON-RPC error for it and reading goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
from typing import IO, Any

log = logging.getLogger("glmcode.acp")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
# Large enough for a prompt with whole files embedded in it.
LINE_LIMIT = 64 * 1024 * 1024


def claim_stdout() -> IO[bytes]:
    """The real standard output, for protocol messages only; fd 1 (and sys.stdout) become
    stderr from here on."""
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


class StdioTransport:
    """The acp package's Transport (send, receive, close) over stdin and stdout. Pipes (how
    editors start agents) are read and written by the loop; a file or a terminal, which the
    loop cannot watch, through a thread."""

    def __init__(self, reader: asyncio.StreamReader, write: Any) -> None:
        self._reader = reader
        self._write = write
        self._closed = False

    @classmethod
    async def open(cls, stdin: IO[bytes], stdout: IO[bytes]) -> StdioTransport:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=LINE_LIMIT)
        try:
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
        except ValueError:
            threading.Thread(target=_feed, args=(stdin, reader, loop), daemon=True).start()
        try:
            transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, stdout)
        except ValueError:
            return cls(reader, _ThreadWriter(stdout))
        return cls(reader, _PipeWriter(asyncio.StreamWriter(transport, protocol, None, loop)))

    async def send(self, message: dict[str, Any]) -> None:
        if self._closed:
            raise ConnectionError("the editor's connection is closed")
        line = json.dumps(message, ensure_ascii=False, separators=(",", ":")) + "\n"
        await self._write.send(line.encode("utf-8"))

    async def receive(self) -> dict[str, Any] | None:
        while True:
            try:
                line = await self._reader.readuntil(b"\n")
            except asyncio.IncompleteReadError as exc:
                line = exc.partial
                if not line.strip():
                    return None
            except asyncio.LimitOverrunError:
                await self._skip_long_line()
                await self._error(None, INVALID_REQUEST, f"message longer than {LINE_LIMIT} bytes")
                continue
            if not line.strip():
                continue
            message = await self._parse(line)
            if message is not None:
                return message

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._write.close()

    async def _parse(self, line: bytes) -> dict[str, Any] | None:
        try:
            message = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            log.warning("not JSON: %.200r", line)
            await self._error(None, PARSE_ERROR, f"Parse error: {exc}")
            return None
        problem = _invalid(message)
        if problem is not None:
            log.warning("not a JSON-RPC message: %.200r", line)
            request_id = message.get("id") if isinstance(message, dict) else None
            await self._error(request_id if isinstance(request_id, (int, str)) else None, INVALID_REQUEST, problem)
            return None
        return message

    async def _error(self, request_id: int | str | None, code: int, message: str) -> None:
        name = "Parse error" if code == PARSE_ERROR else "Invalid Request"
        error = {"code": code, "message": name, "data": {"details": message}}
        await self.send({"jsonrpc": "2.0", "id": request_id, "error": error})

    async def _skip_long_line(self) -> None:
        while True:
            try:
                await self._reader.readuntil(b"\n")
                return
            except asyncio.LimitOverrunError as exc:
                await self._reader.readexactly(exc.consumed)
            except asyncio.IncompleteReadError:
                return


class _PipeWriter:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def send(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    def close(self) -> None:
        try:
            self._writer.close()
        except (OSError, RuntimeError):
            pass  # the editor went first; nothing is left to tell it


class _ThreadWriter:
    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._lock = threading.Lock()

    async def send(self, data: bytes) -> None:
        await asyncio.to_thread(self._send, data)

    def _send(self, data: bytes) -> None:
        with self._lock:  # one message at a time, never interleaved
            self._out.write(data)
            self._out.flush()

    def close(self) -> None:
        try:
            self._out.flush()
        except (OSError, ValueError):
            pass


def _feed(stdin: IO[bytes], reader: asyncio.StreamReader, loop: asyncio.AbstractEventLoop) -> None:
    """Reads stdin that the loop cannot watch (a file, a terminal) into `reader`."""
    try:
        for line in iter(stdin.readline, b""):
            loop.call_soon_threadsafe(reader.feed_data, line)
    finally:
        loop.call_soon_threadsafe(reader.feed_eof)


def _invalid(message: Any) -> str | None:
    """Why this is no JSON-RPC 2.0 request, notification or response; None when it is one."""
    if not isinstance(message, dict):
        return f"a message is a JSON object, not {type(message).__name__}"
    if message.get("jsonrpc") != "2.0":
        return 'a message needs "jsonrpc": "2.0"'
    if "method" in message:
        if not isinstance(message["method"], str):
            return "method must be a string"
        if "params" in message and not isinstance(message["params"], (dict, list, type(None))):
            return "params must be an object or an array"
        return None
    if "id" in message and ("result" in message or "error" in message):
        return None
    return "a message is a request (method), a notification (method, no id) or a response (id with result or error)"
