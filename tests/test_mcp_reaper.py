"""A stdio server, and what it started, ends with glmcode, even when glmcode is killed outright
(SIGKILL), which no shutdown code of glmcode's sees: real processes, `glmcode exec` against the
fake GLM, and the guard (glmcode/mcp/guard.py) run on its own."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from glmcode.mcp.guarded import stdio_command
from glmcode.mcp.launch import Launch

CALC = Path(__file__).resolve().parent / "mcp_servers" / "calc.py"
KEY = "test-key-5d1c9a7e3b2f4a60"
SLOW_START = 60  # a busy machine takes seconds to import the SDK
GONE_WITHIN_S = 10

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the guard is Linux's")


def _alive(pid: int) -> bool:
    # A zombie has ended; whoever it was handed to reaps it in its own time.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _config(table: dict[str, object], env: dict[str, str]) -> None:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "glmcode" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["[mcp_servers.calc]", *(f"{k} = {json.dumps(v)}" for k, v in table.items()), "[mcp_servers.calc.env]"]
    path.write_text("\n".join(lines + [f"{k} = {json.dumps(v)}" for k, v in env.items()]) + "\n")


@linux_only
def test_a_server_and_its_child_end_when_glmcode_is_killed(fake_glm, tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"
    _config({"command": sys.executable, "args": [str(CALC)], "startup_timeout_s": SLOW_START},
            {"CALC_CHILD": str(pids_file)})
    fake = fake_glm([{"tool_calls": [{"name": "mcp__calc__sleep", "arguments": {"seconds": 60}, "id": "c1"}]},
                     {"content": "x"}])
    env = {**os.environ, "ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url}  # type: ignore[attr-defined]
    proc = subprocess.Popen([sys.executable, "-m", "glmcode", "exec", "--full-auto", "go"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pids: list[int] = []
    try:
        deadline = time.monotonic() + SLOW_START
        # The server is ready once the first request went out: glmcode waits for it before.
        while not (pids_file.exists() and fake.requests):  # type: ignore[attr-defined]
            assert time.monotonic() < deadline and proc.poll() is None, "the server never started"
            time.sleep(0.02)
        pids = [int(p) for p in pids_file.read_text().split()]
        assert all(_alive(p) for p in pids)
        proc.kill()
        proc.wait(30)
        deadline = time.monotonic() + GONE_WITHIN_S
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [p for p in pids if _alive(p)] == [], "left running after glmcode was killed"
    finally:
        proc.kill()
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@linux_only
def test_a_server_and_its_child_end_with_a_run_that_ends_as_usual(fake_glm, tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"
    _config({"command": sys.executable, "args": [str(CALC)], "startup_timeout_s": SLOW_START},
            {"CALC_CHILD": str(pids_file)})
    fake = fake_glm([{"content": "done"}])
    env = {**os.environ, "ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url}  # type: ignore[attr-defined]
    pids: list[int] = []
    try:
        proc = subprocess.run([sys.executable, "-m", "glmcode", "exec", "go"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=SLOW_START)
        assert proc.returncode == 0 and proc.stdout == "done\n", proc.stderr
        pids = [int(p) for p in pids_file.read_text().split()]
        # The server leaves when its stdin closes; the child it left behind goes after it.
        deadline = time.monotonic() + GONE_WITHIN_S
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [p for p in pids if _alive(p)] == []
    finally:
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


GUARD = Path(__file__).resolve().parent.parent / "glmcode" / "mcp" / "guard.py"


def _guarded(parent: int, *argv: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    program = argv[0] if os.sep in argv[0] else str(shutil.which(argv[0]) or argv[0])
    return subprocess.run([sys.executable, "-I", "-S", str(GUARD), str(parent), program, *argv],
                          capture_output=True, text=True, timeout=30, start_new_session=True, **kwargs)  # type: ignore[call-overload]


@linux_only
def test_the_guard_passes_stdio_and_the_exit_status_through() -> None:
    echoed = _guarded(os.getpid(), "sh", "-c", "cat; echo oops >&2; exit 7", input="hello\n")
    assert (echoed.returncode, echoed.stdout, echoed.stderr) == (7, "hello\n", "oops\n")


@linux_only
def test_a_guard_whose_glmcode_is_already_gone_starts_nothing(tmp_path: Path) -> None:
    mark = tmp_path / "started"
    # The pid given is not the guard's parent: glmcode died, and the guard was handed to another.
    late = _guarded(os.getppid(), "sh", "-c", f"touch {mark}")
    assert late.returncode == 1 and not mark.exists()


@linux_only
def test_a_guard_that_cannot_start_the_server_says_so(tmp_path: Path) -> None:
    missing = _guarded(os.getpid(), str(tmp_path / "no-such-program"))
    assert missing.returncode == 127 and "glmcode: cannot start" in missing.stderr


@linux_only
def test_a_command_that_cannot_be_run_is_reported_before_the_guard_starts(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "plain").write_text("not a program\n")
    tool = tmp_path / "bin" / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    env = {"PATH": "bin"}  # a folder of PATH that is relative is taken from the server's folder
    command, args = stdio_command(Launch(command="tool", args=("-x",), env=env, cwd=str(tmp_path)))
    assert command == sys.executable and args[-3:] == [str(tool), "tool", "-x"]
    with pytest.raises(FileNotFoundError) as missing:
        stdio_command(Launch(command="ghost", env=env, cwd=str(tmp_path)))
    assert missing.value.filename == "ghost"
    with pytest.raises(PermissionError):
        stdio_command(Launch(command="bin/plain", cwd=str(tmp_path)))
    assert stdio_command(Launch(command="bin/tool", cwd=str(tmp_path)))[1][-2:] == [str(tool), "bin/tool"]


@linux_only
def test_what_a_server_started_outside_its_group_ends_with_it(tmp_path: Path) -> None:
    pid_file = tmp_path / "daemon"
    # The daemon takes a session of its own, out of the group the guard ends, and says so
    # before the server exits.
    server = ("import os, sys, time\n"
              "if os.fork() == 0:\n"
              "    os.setsid()\n"
              "    open(sys.argv[1] + '.part', 'w').write(str(os.getpid()))\n"
              "    os.replace(sys.argv[1] + '.part', sys.argv[1])\n"
              "    time.sleep(600)\n"
              "while not os.path.exists(sys.argv[1]):\n"
              "    time.sleep(0.01)\n")
    try:
        # Left running, the daemon would hold the guard's output open past the timeout.
        ended = _guarded(os.getpid(), sys.executable, "-c", server, str(pid_file))
        assert ended.returncode == 0, ended.stderr
        assert not _alive(int(pid_file.read_text()))
    finally:
        if pid_file.exists() and _alive(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
