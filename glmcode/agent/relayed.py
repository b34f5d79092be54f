"""Tool calls that report as they go (sub-agents), run on worker threads, a few at a time.

The thread that drives the agent waits on one queue: the workers' events come out of it in
the order they happen, and so do the calls a worker needs made on the driving thread (asking
the user), which are made there one at a time. An interrupt cancels every worker, refuses the
questions still waiting, and waits a moment for the workers to wind down.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from glmcode.events import Event, ToolCall
from glmcode.tools.base import Tool, ToolContext, ToolError, ToolResult
from glmcode.tools.relay import MainThreadCall, Relay

DEFAULT_LIMIT = 3
# How long an interrupt waits for the workers to stop. One waiting on the model stops at its
# next event; the user should not wait for that.
WIND_DOWN_SECONDS = 1.0


@dataclass(frozen=True)
class Job:
    call: ToolCall
    tool: Tool
    args: dict[str, Any]


@dataclass(frozen=True)
class Done:
    call: ToolCall
    result: ToolResult
    duration: float


def run_relayed(jobs: list[Job], ctx: ToolContext, limit: int = DEFAULT_LIMIT) -> Iterator[Event | Done]:
    """Yields the workers' events, and one Done per job as it ends (in the order they end)."""
    box: queue.Queue[Event | MainThreadCall | Done] = queue.Queue()
    waiting = list(jobs)
    running: dict[str, Relay] = {}
    try:
        while waiting or running:
            while waiting and len(running) < max(1, limit):
                job = waiting.pop(0)
                running[job.call.id] = _start(job, ctx, box)
            item = _next(box)
            if isinstance(item, MainThreadCall):
                item.run()
            elif isinstance(item, Done):
                running.pop(item.call.id, None)
                yield item
            else:
                yield item
    except BaseException:
        _wind_down(running, box)
        raise


def _start(job: Job, ctx: ToolContext, box: queue.Queue[Any]) -> Relay:
    relay = Relay(job.call.id, box.put)
    relayed = job.tool.relayed
    assert relayed is not None
    started = time.monotonic()

    def work() -> None:
        try:
            result = relayed(job.args, ctx, relay)
        except KeyboardInterrupt:
            result = ToolResult("interrupted by the user before this call finished", is_error=True)
        except ToolError as exc:
            result = ToolResult(str(exc), is_error=True)
        except Exception as exc:  # a bug in one worker must not end the parent's turn
            result = ToolResult(f"{job.tool.name} failed unexpectedly: {type(exc).__name__}: {exc}", is_error=True)
        box.put(Done(job.call, result, time.monotonic() - started))

    threading.Thread(target=work, name=f"glmcode-{job.tool.name}-{job.call.id}", daemon=True).start()
    return relay


def _next(box: queue.Queue[Any]) -> Any:
    # A bounded wait keeps Ctrl-C deliverable to this thread on every platform.
    while True:
        try:
            return box.get(timeout=0.5)
        except queue.Empty:
            continue


def _wind_down(running: dict[str, Relay], box: queue.Queue[Any]) -> None:
    for relay in running.values():
        relay.cancel.set()
    deadline = time.monotonic() + WIND_DOWN_SECONDS
    while running and time.monotonic() < deadline:
        try:
            item = box.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if isinstance(item, MainThreadCall):
            item.fail(KeyboardInterrupt())
        elif isinstance(item, Done):
            running.pop(item.call.id, None)
