"""git through GitPython, with glmcode's environment and errors.

Nothing here imports GitPython when the module is imported: its import alone runs `git
version` (50-70 ms), which `glmcode --version` and an `exec` turn must not pay, so `Runner`
imports it (via `vcs/gitpython.py`) on its first command.

Every git process gets glmcode's environment without the API key variables, like any program
glmcode starts (`tools/processes.py`): repository configuration can make git run commands
(aliases, filters, fsmonitor, hooks) that would otherwise see the key.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from glmcode.keys import KEY_VARIABLES

if TYPE_CHECKING:
    import git

    from glmcode.vcs.gitpython import Git


class GitError(Exception):
    """A git command failed, or git could not be run; the message holds git's own words."""


class NotARepository(GitError):
    """The folder is not inside a git work tree."""


class GitFailed(GitError):
    """A git command exited non-zero; `stderr` is what it said."""

    def __init__(self, subcommand: str, status: int | str | None, stderr: str) -> None:
        self.status = status
        self.stderr = stderr.strip()
        super().__init__(f"git {subcommand} failed: {self.stderr or f'exit {status}'}")


class Runner:
    """git commands run in `cwd`, with `env` on top of glmcode's environment, each of
    `config` as a `-c` setting, and the variables of `drop` (as well as the API key's) taken
    out. `missing` is the message when git is not installed."""

    def __init__(
        self,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        *,
        config: Sequence[str] = (),
        drop: Iterable[str] = (),
        missing: str = "git is not installed",
    ) -> None:
        self.cwd = Path(cwd)
        self.env = dict(env or {})
        self.config = tuple(config)
        self.drop = frozenset(drop)
        self.missing = missing
        self._git: Git | None = None

    def run(self, subcommand: str, *args: str, stdin: bytes | None = None, timeout: float | None = None) -> bytes:
        """What `git <subcommand> <args>` wrote to stdout, byte for byte. Raises GitFailed
        when it exits non-zero (or runs out of `timeout` seconds), GitError without git."""
        command = getattr(self._command(), subcommand.replace("-", "_"))
        from git.exc import GitCommandNotFound

        options = {
            "stdout_as_string": False,
            "strip_newline_in_stdout": False,
            "kill_after_timeout": timeout,
            "with_extended_output": True,
            "with_exceptions": False,  # GitCommandError would hand stderr back re-quoted
        }
        try:
            if stdin is None:
                status, out, err = command(*args, **options)
            else:
                # GitPython hands `istream` to Popen as stdin, which needs a real file.
                with tempfile.TemporaryFile() as stream:
                    stream.write(stdin)
                    stream.seek(0)
                    status, out, err = command(*args, istream=stream, **options)
        except GitCommandNotFound as exc:
            raise GitError(self.missing) from exc
        if status != 0:
            raise GitFailed(subcommand, status, err)
        return out

    def text(self, subcommand: str, *args: str, stdin: bytes | None = None, timeout: float | None = None) -> str:
        """`run`'s output as text, without the surrounding blank space."""
        return self.run(subcommand, *args, stdin=stdin, timeout=timeout).decode(errors="surrogateescape").strip()

    def _command(self) -> Git:
        if self._git is None:
            self._git = _gitpython(self.missing).Git(self.cwd, self.env, self.config, self.drop)
        return self._git

    def repo(self) -> git.Repo:
        """The repository whose work tree holds `cwd` (which must be its top folder), its own
        commands run as this runner's are."""
        gitpython = _gitpython(self.missing)
        from git.exc import InvalidGitRepositoryError, NoSuchPathError

        try:
            return gitpython.open_repo(self.cwd, self.env, self.config, self.drop)
        except (InvalidGitRepositoryError, NoSuchPathError) as exc:
            raise NotARepository(f"{self.cwd} is not inside a git repository") from exc


def _gitpython(missing: str) -> ModuleType:
    try:
        with _no_key_in_environ():
            from glmcode.vcs import gitpython
    except ImportError as exc:
        # GitPython's import runs `git version`, and refuses to import without git.
        raise GitError(missing) from exc
    return gitpython


@contextmanager
def _no_key_in_environ() -> Iterator[None]:
    # The `git version` GitPython runs on import gets os.environ as it is, with no way to take
    # a variable out; the key (read into the settings long before) leaves it for that moment.
    held = {name: os.environ.pop(name) for name in KEY_VARIABLES if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(held)
