"""Escape attempts against the real sandbox, each judged by what is on disk or on the wire
afterwards; and the ordinary work that must still succeed inside it."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import INTERPRETER_HIDDEN_BY_SANDBOX
from glmcode.sandbox.limits import Limits
from tests.sandbox_support import disk_dir, needs_bwrap, sandboxed, shell  # noqa: F401 (a fixture)

pytestmark = needs_bwrap


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    return workspace


def test_a_write_outside_the_workspace_is_refused_and_the_model_is_told_why(ws: Path, disk_dir: Path) -> None:
    outside = disk_dir / "outside.txt"
    result = shell(sandboxed(ws), f"echo pwned > {outside}")
    assert not outside.exists()
    assert result.is_error
    assert "Read-only file system" in result.output
    assert "The sandbox may have caused this failure: a write was refused" in result.for_model
    assert result.data is not None and "write was refused" in result.data["sandbox_refusal"]


def test_tmp_is_private_to_the_command(ws: Path) -> None:
    name = f"/tmp/outside-{uuid.uuid4().hex}"
    result = shell(sandboxed(ws), f"touch {name} && ls {name} && echo $TMPDIR")
    assert not result.is_error, result.output
    assert name in result.output and "/tmp" in result.output
    assert not Path(name).exists()


def test_git_hooks_and_config_cannot_be_planted_but_commits_work(git_repo: Path) -> None:
    (git_repo / "a.txt").write_text("one\n")
    hook = git_repo / ".git" / "hooks" / "pre-commit"
    config_before = (git_repo / ".git" / "config").read_bytes()
    ctx = sandboxed(git_repo)
    planted = shell(ctx, f"printf '#!/bin/sh\\ntouch {git_repo}/pwned\\n' > .git/hooks/pre-commit; "
                         "chmod +x .git/hooks/pre-commit")
    assert planted.is_error and not hook.exists()
    configured = shell(ctx, "git config core.hooksPath /tmp/evil")
    assert configured.is_error
    assert (git_repo / ".git" / "config").read_bytes() == config_before
    glmcode_dir = shell(ctx, "mkdir -p .glmcode && echo 'mode = \"full-auto\"' > .glmcode/config.toml")
    assert glmcode_dir.is_error and not (git_repo / ".glmcode").exists()
    committed = shell(ctx, "git add a.txt && git commit -qm 'from the sandbox' && git log --oneline")
    assert not committed.is_error, committed.output
    log = subprocess.run(["git", "log", "--format=%s"], cwd=git_repo, capture_output=True, text=True)
    assert log.stdout.strip() == "from the sandbox"
    assert not (git_repo / "pwned").exists()


def test_a_listener_on_localhost_is_not_reached(ws: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        result = shell(sandboxed(ws), f"echo hello > /dev/tcp/127.0.0.1/{port}")
        assert result.is_error
        # Had the command connected, the connection would wait in the backlog now.
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert "without network access" in result.for_model


def test_secrets_are_hidden_also_through_a_symlink(ws: Path, disk_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolated_home = disk_dir / "home"
    monkeypatch.setenv("HOME", str(isolated_home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(isolated_home / ".config"))
    ssh = isolated_home / ".ssh"
    ssh.mkdir(parents=True)
    (ssh / "id_rsa").write_text("-----BEGIN FAKE PRIVATE KEY-----\n")
    config = isolated_home / ".config" / "glmcode"
    config.mkdir(parents=True)
    (config / "config.toml").write_text('api_key = "sk-secret-in-config"\n')
    (isolated_home / ".netrc").write_text("machine example.com password hunter2\n")
    (ws / "key").symlink_to(ssh / "id_rsa")
    result = shell(sandboxed(ws), "cat ~/.ssh/id_rsa key ~/.config/glmcode/config.toml ~/.netrc; ls -a ~/.ssh")
    assert "FAKE PRIVATE KEY" not in result.output
    assert "sk-secret-in-config" not in result.output
    assert "hunter2" not in result.output
    assert (ssh / "id_rsa").read_text().startswith("-----BEGIN")  # untouched outside


def test_a_symlink_out_of_the_workspace_does_not_lead_out(ws: Path, disk_dir: Path) -> None:
    outside = disk_dir / "elsewhere"
    outside.mkdir()
    (ws / "link").symlink_to(outside)
    result = shell(sandboxed(ws), "echo pwned > link/file.txt")
    assert result.is_error
    assert not (outside / "file.txt").exists()


def test_read_only_sandbox_writes_nothing_even_in_the_workspace(ws: Path) -> None:
    (ws / "a.txt").write_text("keep\n")
    result = shell(sandboxed(ws, mode="read-only"), "cat a.txt; echo gone > a.txt")
    assert "keep" in result.output and result.is_error
    assert (ws / "a.txt").read_text() == "keep\n"


def test_added_folders_are_writable(ws: Path, disk_dir: Path) -> None:
    extra = disk_dir / "extra"
    extra.mkdir()
    result = shell(sandboxed(ws, extra=(extra,)), f"echo ok > {extra}/out.txt")
    assert not result.is_error, result.output
    assert (extra / "out.txt").read_text() == "ok\n"


def _marked(mark: str) -> list[int]:
    """Processes on this machine whose environment carries `mark`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_a_fork_bomb_stays_under_the_process_limit_and_dies_with_the_command(ws: Path) -> None:
    mark = f"GLMCODE_TEST_MARK={uuid.uuid4().hex}"
    ctx = sandboxed(ws, limits=Limits(max_processes=40))
    counted = shell(ctx, f"export {mark}; " + """python3 -c '
import os, time
n = 0
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    n += 1
print("forked", n)
'""")
    forked = int(counted.output.split("forked ", 1)[1].split()[0])
    assert 10 <= forked < 40, counted.output
    bomb = shell(ctx, f"export {mark}; bomb() {{ bomb | bomb & }}; bomb; sleep 5", timeout=2)
    assert bomb.data is not None and bomb.data["duration"] < 10
    assert _marked(mark.split("=", 1)[1]) == []


def test_background_processes_end_with_the_command(ws: Path) -> None:
    mark = f"GLMCODE_TEST_MARK={uuid.uuid4().hex}"
    result = shell(sandboxed(ws), f"export {mark}; sleep 60 & echo started")
    assert "started" in result.output
    assert _marked(mark.split("=", 1)[1]) == []


def test_endless_output_is_stopped_at_the_output_limit(ws: Path) -> None:
    result = shell(sandboxed(ws, limits=Limits(max_output=1024 * 1024)), "yes", timeout=60)
    assert result.is_error
    assert "printed more than 1 MB (the output limit)" in result.output
    assert result.data is not None and result.data["duration"] < 30


def test_build_and_test_inside_the_workspace(ws: Path) -> None:
    (ws / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (ws / "test_calc.py").write_text("from calc import add\nassert add(2, 3) == 5\nprint('tests pass')\n")
    (ws / "Makefile").write_text("build:\n\tmkdir -p out && cp calc.py out/\n")
    result = shell(sandboxed(ws), "make -s build && python3 test_calc.py && python3 -m compileall -q out")
    assert not result.is_error, result.output
    assert "tests pass" in result.output
    assert (ws / "out" / "calc.py").exists()
    assert any((ws / "out" / "__pycache__").iterdir())


def _wheel(folder: Path) -> Path:
    """A real, minimal wheel of a package `sandbox_demo` holding VALUE = 42."""
    import base64
    import hashlib
    import zipfile

    files = {
        "sandbox_demo/__init__.py": b"VALUE = 42\n",
        "sandbox_demo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: sandbox-demo\nVersion: 1.0\n",
        "sandbox_demo-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("sandbox_demo-1.0.dist-info/RECORD,,")
    path = folder / "sandbox_demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as whl:
        for name, data in files.items():
            whl.writestr(name, data)
        whl.writestr("sandbox_demo-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    return path


@pytest.fixture
def package_index(tmp_path: Path):
    """A package index on 127.0.0.1 serving one wheel, and the paths it was asked for."""
    import http.server
    import threading

    wheel = _wheel(tmp_path)
    asked: list[str] = []

    class Index(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            if self.path.rstrip("/") == "/simple/sandbox-demo":
                body = f'<a href="/files/{wheel.name}">{wheel.name}</a>'.encode()
                kind = "text/html"
            elif self.path == f"/files/{wheel.name}":
                body, kind = wheel.read_bytes(), "application/octet-stream"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple", asked
    server.shutdown()
    server.server_close()


@INTERPRETER_HIDDEN_BY_SANDBOX
def test_pip_installs_into_a_venv_in_the_workspace_when_the_network_is_allowed(
    ws: Path, package_index, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    for name in [n for n in os.environ if n.startswith("PIP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # this machine's pip settings stay out
    url, asked = package_index
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(ws / ".venv")], check=True)
    install = (f"{sys.executable} -m pip --python .venv/bin/python install -q --no-cache-dir "
               f"--retries 0 --disable-pip-version-check --index-url {url} sandbox-demo")
    online = shell(sandboxed(ws, network=True), install + " && .venv/bin/python -c 'import sandbox_demo; print(sandbox_demo.VALUE)'")
    assert not online.is_error, online.output
    assert "42" in online.output
    assert any(path.endswith(".whl") for path in asked)
    assert list((ws / ".venv" / "lib").glob("python*/site-packages/sandbox_demo/__init__.py"))


def test_a_socket_in_the_session_runtime_folder_is_out_of_reach(
    ws: Path, disk_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = disk_dir / "run"
    runtime.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    path = runtime / "agent.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen(4)
        listener.setblocking(False)
        result = shell(sandboxed(ws, network=True), f"""python3 -c '
import socket
s = socket.socket(socket.AF_UNIX)
s.connect("{path}")
s.sendall(b"hello")
'""")
        assert result.is_error
        with pytest.raises(BlockingIOError):
            listener.accept()


def test_glmcode_s_own_environment_is_not_readable_through_proc(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = f"sk-{uuid.uuid4().hex}"
    monkeypatch.setenv("ZAI_API_KEY", key)
    result = shell(sandboxed(ws), f"cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c {key}; ls /proc | grep -c '^[0-9]'")
    counts = result.output.split("<stdout>\n", 1)[1].split()
    assert counts[0] == "0"  # neither in the command's environment nor in any process it can see
    assert int(counts[1]) < 10  # a process namespace of its own: only the command's processes
