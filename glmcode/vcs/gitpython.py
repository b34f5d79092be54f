"""The GitPython classes glmcode runs git through. Importing this module imports GitPython
(which runs `git version`), so only `vcs.Runner` imports it, on its first command."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import git

from glmcode.keys import KEY_VARIABLES


class Git(git.Git):
    """`git.Git` that can take variables out of the child's environment.

    GitPython builds a child's environment from `os.environ` and can only add to it
    (`update_environment`, `env=`), never remove; so when a variable to drop is set, the
    command runs under `env -u NAME`, which removes it before git starts. The API key
    variables are always dropped: git, and whatever repository configuration makes it run,
    never sees the key.
    """

    def __init__(self, cwd: Path, env: Mapping[str, str], config: Sequence[str], drop: Iterable[str]) -> None:
        super().__init__(cwd)
        self.update_environment(**env)
        self.set_persistent_git_options(c=list(config))
        self.drop = frozenset(drop) | frozenset(KEY_VARIABLES)

    def execute(self, command: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        # Variables this object sets itself stay; `env -u` would remove those too.
        gone = sorted(n for n in self.drop if n in os.environ and n not in self.environment())
        if gone:
            command = ["env", *(arg for n in gone for arg in ("-u", n)), *command]
        return super().execute(command, **kwargs)


def open_repo(top: Path, env: Mapping[str, str], config: Sequence[str], drop: Iterable[str]) -> git.Repo:
    """The repository whose work tree is `top`, every git command of it (the object database's
    long-running `cat-file` too) run as a `Git` of these. Close it when done: it keeps those
    `cat-file` processes until then."""

    class RepoGit(Git):
        def __init__(self, working_dir: Any) -> None:
            super().__init__(Path(working_dir), env, config, drop)

    class Repo(git.Repo):
        # Repo builds its git.Git (and hands it to the object database) inside its own
        # __init__, so the class to build is the only way in.
        GitCommandWrapperType = RepoGit

    return Repo(top)
