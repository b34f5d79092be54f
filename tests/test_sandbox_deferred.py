"""The sandbox decided on first need: once a session, the same answer for every caller, the
notice said once, and a headless turn that runs no command never decides it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from glmcode.sandbox.choose import Choice
from glmcode.sandbox.deferred import DeferredSandbox
from tests.conftest import run_glmcode
from tests.test_sandbox_exec import _env, _path_without_bwrap, _shell


def _counting(choice: Choice) -> tuple[DeferredSandbox, list[int]]:
    calls: list[int] = []

    def decide() -> Choice:
        calls.append(1)
        return choice

    return DeferredSandbox(decide), calls


def test_callers_on_many_threads_get_one_decision() -> None:
    deferred, calls = _counting(Choice(None, "off"))
    start = threading.Barrier(8)
    seen: list[Choice] = []

    def ask() -> None:
        start.wait()
        seen.append(deferred.choice())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1] and len(seen) == 8 and all(c is seen[0] for c in seen)


def test_begun_early_it_is_the_same_decision() -> None:
    deferred, calls = _counting(Choice(None, "unavailable", "no sandbox here"))
    deferred.begin()
    deferred.begin()
    assert deferred.choice().state == "unavailable"
    assert calls == [1]


def test_the_notice_goes_to_the_first_caller_only() -> None:
    deferred, _ = _counting(Choice(None, "unavailable", "no sandbox here"))
    assert deferred.take_notice() == "no sandbox here"
    assert deferred.take_notice() is None


def test_a_failed_decision_reaches_every_caller() -> None:
    def decide() -> Choice:
        raise OSError("cannot stat bwrap")

    deferred = DeferredSandbox(decide)
    deferred.begin()
    for _ in range(2):
        with pytest.raises(OSError, match="cannot stat bwrap"):
            deferred.choice()


def test_a_turn_without_commands_says_nothing_of_the_sandbox(fake_glm, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    fake = fake_glm([{"content": "Hello."}, _shell("ls", "c1"), {"content": "Listed."}])
    env = _env(fake, PATH=_path_without_bwrap(tmp_path / "bin"))
    quiet = run_glmcode(["exec", "hi"], ws, env)
    assert quiet.returncode == 0, quiet.stderr
    assert "sandbox" not in quiet.stderr
    told = run_glmcode(["exec", "list the files"], ws, env)
    assert told.returncode == 0, told.stderr
    assert told.stderr.count("Commands cannot be sandboxed: bwrap was not found") == 1
