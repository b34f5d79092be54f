from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Real GLM traffic (see the README beside the files for where it comes from and its licence).
RECORDINGS = Path(__file__).resolve().parent / "fixtures" / "glm-recordings"

_KEYS = ("ZAI_API_KEY", "GLMCODE_API_KEY", "GLMCODE_BASE_URL", "ZAI_BASE_URL", "GLMCODE_MODEL",
         "GLMCODE_PROVIDER", "GLMCODE_PERMISSION_MODE", "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY",
         "https_proxy", "http_proxy", "all_proxy")


# A sandboxed command gets a /tmp of its own, so an interpreter that lives under /tmp (a
# checkout there, with its venv) cannot be run from inside one.
INTERPRETER_HIDDEN_BY_SANDBOX = pytest.mark.skipif(
    Path(sys.executable).is_relative_to("/tmp"),
    reason="the test's Python is under /tmp, which sandboxed commands see as their own empty /tmp",
)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the real home, or inherits a real key."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for key in _KEYS:
        monkeypatch.delenv(key, raising=False)
    return home


def pytest_configure(config: pytest.Config) -> None:
    if not RECORDINGS.is_dir():
        raise pytest.UsageError(f"GLM recordings missing from {RECORDINGS}")


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    for args in (["init", "-q", "-b", "main"], ["config", "user.name", "Test"],
                 ["config", "user.email", "test@example.com"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    return repo


def run_glmcode(args: list[str], cwd: Path, env_extra: dict[str, str] | None = None,
                stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "glmcode", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def fake_glm() -> Iterator[object]:
    """Start a fake GLM server with a script: `fake = fake_glm(turns)`."""
    from glmcode.testing import FakeGLM

    started: list[FakeGLM] = []

    def start(script: object, **kwargs: object) -> FakeGLM:
        fake = FakeGLM(script, **kwargs)
        fake.start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()
