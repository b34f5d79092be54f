"""A server's configuration made concrete just before it starts: `${VAR}` references filled
in from the environment, the bearer token read from its variable. glmcode's own key is there
as `GLMCODE_API_KEY`, so a configuration can hand it on without holding it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from glmcode.config.mcp_servers import ServerSpec

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class LaunchError(Exception):
    """The configuration cannot be made concrete (a variable it needs is not set)."""


@dataclass(frozen=True)
class Launch:
    command: str = ""
    args: tuple[str, ...] = ()
    env: Mapping[str, str] | None = None
    cwd: str | None = None
    url: str = ""
    headers: Mapping[str, str] | None = None


def expand(text: str, env: Mapping[str, str], where: str) -> str:
    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = env.get(name)
        if value:
            return value
        if default is not None:
            return default
        raise LaunchError(f"{where} refers to ${{{name}}}, which is not set")

    return _REFERENCE.sub(one, text)


def launch_for(spec: ServerSpec, env: Mapping[str, str], api_key: str | None, workspace: Path | None = None) -> Launch:
    """`env`: the environment references are read from; `api_key`: glmcode's own key;
    `workspace`: where a stdio server starts, and what a relative `cwd` is taken from."""
    scope = dict(env)
    if api_key:
        scope["GLMCODE_API_KEY"] = api_key
    if spec.transport == "stdio":
        return Launch(
            command=expand(spec.command, scope, "command"),
            args=tuple(expand(a, scope, "args") for a in spec.args),
            env={k: expand(v, scope, f"env.{k}") for k, v in spec.env.items()},
            cwd=_folder(expand(spec.cwd, scope, "cwd") if spec.cwd else None, workspace),
        )
    headers = {k: expand(v, scope, f"headers.{k}") for k, v in spec.headers.items()}
    if spec.bearer_token_env_var:
        token = scope.get(spec.bearer_token_env_var, "")
        if not token:
            if spec.bearer_token_env_var == "GLMCODE_API_KEY":
                raise LaunchError("it sends glmcode's API key, and none is set (ZAI_API_KEY or api_key)")
            raise LaunchError(f"bearer_token_env_var names {spec.bearer_token_env_var}, which is not set")
        headers["Authorization"] = f"Bearer {token}"
    return Launch(url=expand(spec.url, scope, "url"), headers=headers)


def _folder(cwd: str | None, workspace: Path | None) -> str | None:
    if cwd is None:
        return str(workspace) if workspace is not None else None
    path = Path(cwd).expanduser()
    return str(path if path.is_absolute() or workspace is None else workspace / path)
