"""Wiring one agent from settings: client, tools, policy, context, session file.

Every frontend (exec, the interactive session, fix) builds its agent here, so they differ
only in how they show events and answer approvals.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from glmcode.agent.loop import Agent
from glmcode.agent.session import SessionWriter, new_session_id
from glmcode.agent.tool_calls import Approver, ToolRunner
from glmcode.config import Settings
from glmcode.events import SessionStarted
from glmcode.tools.base import ToolContext
from glmcode.tools.registry import Registry


@dataclass
class Workspace:
    agent: Agent
    session: SessionWriter
    settings: Settings
    cwd: Path
    started: SessionStarted


def open_workspace(
    settings: Settings,
    cwd: Path,
    *,
    approver: Approver | None,
    max_turns: int | None = None,
    headless_hint: str = "",
    registry: Registry | None = None,
    env: Mapping[str, str] | None = None,
) -> Workspace:
    from glmcode.agent.context import build_system_prompt
    from glmcode.llm.catalog import get_model
    from glmcode.llm.client import ClientConfig, GLMClient
    from glmcode.paths import config_dir, sessions_dir
    from glmcode.permissions import Policy

    env = os.environ if env is None else env
    assert settings.api_key, "open_workspace needs a key: call require_api_key first"
    registry = registry or Registry.builtin()
    model = get_model(settings.model)
    client = GLMClient(
        ClientConfig(
            api_key=settings.api_key,
            base_url=settings.base_url,
            model=settings.model,
            provider=settings.provider,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            thinking=settings.thinking,
            timeout=settings.timeout,
        ),
        known_tools=frozenset(registry.names),
    )
    ctx = ToolContext(
        workspace=cwd,
        extra_dirs=tuple(_resolve_dir(d, cwd) for d in settings.add_dirs),
    )
    policy = Policy(settings.permission_mode, settings.allow, settings.deny, workspace=cwd)
    runner = ToolRunner(registry, policy, ctx, approver, headless_hint=headless_hint)
    system_prompt = build_system_prompt(
        cwd, user_config_dir=config_dir(env), model=settings.model, today=time.strftime("%Y-%m-%d")
    )
    session_id = new_session_id()
    session = SessionWriter(
        sessions_dir(env, settings.project_root) / f"{session_id}.jsonl",
        session_id=session_id,
        header={"cwd": str(cwd), "model": settings.model, "created": time.time()},
        redact=(settings.api_key,),
    )
    agent = Agent(
        client,
        runner,
        system_prompt=system_prompt,
        context_window=model.context_window,
        cost=model.cost,
        max_turns=max_turns,
        sink=session,
    )
    started = SessionStarted(session_id, settings.model, str(cwd), settings.permission_mode)
    session.write(started)
    return Workspace(agent, session, settings, cwd, started)


def _resolve_dir(d: str, cwd: Path) -> Path:
    p = Path(d).expanduser()
    return (p if p.is_absolute() else cwd / p).resolve()
