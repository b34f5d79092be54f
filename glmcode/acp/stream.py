"""The model's stream read on a thread of its own, so that a cancel ends the turn at once even
while the request waits for its first byte, or for a retry, instead of when the next delta
arrives. The abandoned request is closed as soon as it yields again."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

from glmcode.acp.bridge import Bridge

_END = object()
_CANCEL = object()


class CancellableClient:
    """Wraps the agent's model client; everything but `stream` is the client's own."""

    def __init__(self, client: Any, bridge: Bridge) -> None:
        self._client = client
        self._bridge = bridge

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def stream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> Iterator[Any]:
        items: queue.SimpleQueue[tuple[Any, BaseException | None]] = queue.SimpleQueue()
        stop = threading.Event()
        # The request reads the conversation while the agent may append to it after a cancel.
        sent = list(messages)
        threading.Thread(target=self._produce, args=(sent, tools, items, stop), daemon=True).start()
        remove = self._bridge.on_cancel(lambda: items.put((_CANCEL, None)))
        try:
            while True:
                item, error = items.get()
                if error is not None:
                    raise error
                if item is _END:
                    return
                if item is _CANCEL:
                    raise self._bridge.interrupt()
                yield item
        finally:
            stop.set()
            remove()

    def _produce(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
        items: queue.SimpleQueue[tuple[Any, BaseException | None]], stop: threading.Event,
    ) -> None:
        inner = self._client.stream(messages, tools)
        try:
            for item in inner:
                if stop.is_set():
                    return
                items.put((item, None))
        except BaseException as exc:  # handed to the agent's thread, which raises it
            items.put((None, exc))
            return
        finally:
            close = getattr(inner, "close", None)
            if close is not None:
                close()
        items.put((_END, None))
