"""Commands in their own process group (glmcode.tools.processes): real processes, real signals."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from glmcode.keys import KEY_VARIABLES
from glmcode.tools import processes


def _fifo(tmp_path: Path) -> Path:
    fifo = tmp_path / "ready"
    os.mkfifo(fifo)
    return fifo


def _dead(pid: int) -> bool:
    """No such process, or a zombie nobody has reaped yet."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rfind(")") + 2 :].split()[0] in ("Z", "X")


def test_a_command_runs_in_its_folder_as_leader_of_its_own_group_with_stdin_closed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with open(out, "wb") as f:
        proc = processes.start(["bash", "-c", 'pwd; echo "$EXTRA"; read -r _ _ _ _ pgid _ < /proc/$$/stat; echo $pgid; cat; exit 3'], tmp_path,
                               env={"EXTRA": "extra"}, stdout=f)
        assert processes.wait(proc, 30) == "exited"
    assert proc.returncode == 3
    pwd, extra, pgid = out.read_text().splitlines()
    assert (pwd, extra, int(pgid)) == (str(tmp_path), "extra", proc.pid)
    assert os.getpgid(0) != proc.pid


def test_wait_times_out_and_kill_group_sends_sigterm_first_to_the_whole_group(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path)
    script = f"trap 'echo term > shell.txt; exit 0' TERM; sleep 30 & echo $! > {fifo}; wait"
    proc = processes.start(["bash", "-c", script], tmp_path)
    with open(fifo) as ready:  # the trap is set and the child started
        child = int(ready.read())
    assert processes.wait(proc, 0.1) == "timed_out"
    assert proc.poll() is None, "a wait kills nothing"
    processes.kill_group(proc)
    assert (tmp_path / "shell.txt").read_text() == "term\n", "the shell had its chance to clean up"
    assert proc.returncode == 0 and _dead(child)
    assert not processes.group_alive(proc.pid)


def test_what_ignores_sigterm_gets_sigkill_after_the_grace(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path)
    proc = processes.start(["bash", "-c", f"trap '' TERM; sleep 30 & echo $! > {fifo}; wait"], tmp_path)
    with open(fifo) as ready:
        child = int(ready.read())
    processes.kill_group(proc, grace=0.2)
    assert proc.returncode == -9 and _dead(child)


def test_a_cancel_ends_the_wait_and_idle_replaces_the_sleep(tmp_path: Path) -> None:
    proc = processes.start(["sleep", "30"], tmp_path)
    cancel = threading.Event()
    idled: list[float] = []

    def idle(seconds: float) -> None:
        idled.append(seconds)
        cancel.set()

    try:
        assert processes.wait(proc, 30, cancel=cancel, idle=idle) == "cancelled"
        assert idled == [processes.POLL_SECONDS] and proc.poll() is None
    finally:
        processes.kill_group(proc)
    assert proc.returncode == -15


def test_a_group_of_zombies_counts_as_dead(tmp_path: Path) -> None:
    proc = processes.start(["true"], tmp_path)
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: a zombie
    try:
        os.kill(proc.pid, 0)  # still there for signals
        assert not processes.group_alive(proc.pid)
    finally:
        proc.wait()


def test_kill_group_after_a_clean_exit_takes_what_the_command_left_running(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path)
    proc = processes.start(["bash", "-c", f"sleep 30 & echo $! > {fifo}"], tmp_path)
    with open(fifo) as ready:
        child = int(ready.read())
    assert processes.wait(proc, 30) == "exited" and proc.returncode == 0
    assert not _dead(child)
    processes.kill_group(proc, grace=30)
    assert _dead(child)


def test_the_api_key_variables_are_left_out_of_every_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAI_API_KEY", "zai-secret")
    monkeypatch.setenv("GLMCODE_API_KEY", "glmcode-secret")
    monkeypatch.setenv("ZAI_BASE_URL", "http://127.0.0.1:9/")
    out = tmp_path / "out"
    with open(out, "wb") as f:
        proc = processes.start(["bash", "-c", 'echo "[$ZAI_API_KEY][$GLMCODE_API_KEY][$ZAI_BASE_URL]"'], tmp_path,
                               env={"ZAI_API_KEY": "given-back"}, stdout=f)
        assert processes.wait(proc, 30) == "exited"
    assert out.read_text() == "[][][http://127.0.0.1:9/]\n"


def test_the_key_variables_are_those_the_configuration_reads() -> None:
    from glmcode.config.layers import ENV_VARS

    assert {name for names, field in ENV_VARS if field == "api_key" for name in names} == set(KEY_VARIABLES)


def test_kill_group_returns_even_when_popens_wait_lock_was_left_taken() -> None:
    import subprocess
    import sys

    from glmcode.tools.processes import kill_group

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    proc._waitpid_lock.acquire()  # as an interrupt between acquire and try leaves it
    kill_group(proc, grace=0.5)
    assert proc.returncode is not None


def test_a_ctrl_c_while_popen_runs_still_ends_the_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The interrupt lands after the fork, before Popen hands the process back: the command
    must not be left running with nobody holding its pid."""
    import signal
    import subprocess

    real_popen = subprocess.Popen
    started: list[int] = []

    def popen_interrupted_on_the_way_back(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        proc = real_popen(*args, **kwargs)  # type: ignore[call-overload]
        started.append(proc.pid)
        signal.raise_signal(signal.SIGINT)
        return proc

    monkeypatch.setattr(subprocess, "Popen", popen_interrupted_on_the_way_back)
    with pytest.raises(KeyboardInterrupt):
        processes.start(["sleep", "30"], tmp_path)
    assert _dead(started[0])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
