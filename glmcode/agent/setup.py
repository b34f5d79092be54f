"""Wiring one agent from settings: client, tools, policy, context, session file, checkpoints.

Every frontend (exec, the interactive session, fix) builds its agent here, so they differ
only in how they show events and answer approvals. A resumed session continues its own file
with the conversation read back from it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glmcode.agent.loop import Agent
from glmcode.agent.session import SessionWriter, new_session_id
from glmcode.agent.tool_calls import Approver, ToolRunner
from glmcode.config.settings import Settings
from glmcode.events import MessageAdded, Notice, SessionStarted
from glmcode.hooks.config import HookConfig
from glmcode.text import count
from glmcode.tools.base import ToolContext
from glmcode.tools.registry import Registry

if TYPE_CHECKING:
    from glmcode.agent.sessions_store import Replay
    from glmcode.sandbox.deferred import DeferredSandbox
    from glmcode.subagents.catalog import AgentCatalog


@dataclass
class Workspace:
    agent: Agent
    session: SessionWriter
    settings: Settings
    cwd: Path
    started: SessionStarted
    env: Mapping[str, str] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)  # for the user, before the first prompt
    hooks: HookConfig = field(default_factory=HookConfig)
    subagents: AgentCatalog | None = None  # the agents `task` can start
    sandboxing: DeferredSandbox | None = None  # the commands' sandbox, decided on first need
    mcp: Any = None  # the MCP servers (glmcode.mcp.hub.McpHub), when any is configured

    @property
    def sandbox(self) -> str:
        """The commands' sandbox as the user reads it, or "off"/"unavailable"; waits for the
        decision."""
        return "off" if self.sandboxing is None else self.sandboxing.choice().state

    def close(self) -> None:
        """Closes the session file and ends every MCP server."""
        self.session.close()
        if self.mcp is not None:
            self.mcp.close()


def open_workspace(
    settings: Settings,
    cwd: Path,
    *,
    approver: Approver | None,
    max_turns: int | None = None,
    headless_hint: str = "",
    registry: Registry | None = None,
    env: Mapping[str, str] | None = None,
    resume: Replay | None = None,
    checkpoints: bool | None = None,
    hooks: HookConfig | None = None,
    tls: Callable[[], Any] | None = None,
    mcp_restart: bool = False,
) -> Workspace:
    """`resume`: continue that session (its file, id and conversation) instead of a new one.
    `checkpoints`: snapshot the workspace before each run's changes, for /undo and /rewind;
    by default on when someone is there to approve calls (an interactive session).
    `hooks`: the hooks in force, read from the config files when not given.
    `tls`: the TLS context, when the caller began making it early (llm/tls.py).
    `mcp_restart`: the frontend has /mcp restart, so what is said of a server that is down
    may point to it."""
    from glmcode.agent.context import build_system_prompt
    from glmcode.hooks.config import load_hooks
    from glmcode.llm.catalog import get_model, max_tokens_for
    from glmcode.llm.client import GLMClient
    from glmcode.llm.types import ClientConfig
    from glmcode.paths import config_dir
    from glmcode.images.viewer import ImageViewer
    from glmcode.permissions.policy import Policy
    from glmcode.sandbox.deferred import DeferredSandbox
    from glmcode.sandbox.limits import limits_from
    from glmcode.sandbox.secrets import secret_paths
    from glmcode.web.access import web_access

    env = os.environ if env is None else env
    assert settings.api_key, "open_workspace needs a key: call require_api_key first"
    registry = (registry or Registry.builtin()).without(tools_left_out(settings))
    from glmcode.subagents.wiring import with_task_tool

    registry, spawner = with_task_tool(registry, settings, env)
    mcp = None
    if any(spec.enabled for spec in settings.mcp_servers):
        from glmcode.mcp.hub import McpHub

        # Started first: the servers come up while the rest of the workspace is built.
        mcp = McpHub(settings.mcp_servers, registry, env, settings.api_key, cwd, restartable=mcp_restart)
        mcp.start()
    model = get_model(settings.model)
    config = ClientConfig(
        api_key=settings.api_key,
        base_url=settings.base_url,
        model=settings.model,
        provider=settings.provider,
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        thinking=settings.thinking,
        timeout=settings.timeout,
        tls=tls,
    )
    # Building the client (importing httpx, loading the TLS certificates) and reading the
    # repository (importing git, running it) each take tens of milliseconds and wait on
    # different things, so they overlap.
    client_build = _Background(lambda: GLMClient(config, known_tools=frozenset(registry.names)))
    extra_dirs = tuple(_resolve_dir(d, cwd) for d in settings.add_dirs)
    sandboxing = DeferredSandbox(lambda: _choose_sandbox(settings, cwd, extra_dirs, env))
    if approver is not None:
        sandboxing.begin()  # someone is there: the start shows the sandbox, so it is decided now
    system_prompt = build_system_prompt(
        cwd, user_config_dir=config_dir(env), model=settings.model, today=time.strftime("%Y-%m-%d")
    )
    policy = Policy(settings.permission_mode, settings.allow, settings.deny, workspace=cwd,
                    read_roots=extra_dirs, secrets=secret_paths(env))
    web = web_access(settings, policy, None if mcp is None else mcp.manager) if settings.web else None
    if web is not None and web.search_server is not None:
        from glmcode.web.search_mcp import PRIME_TOOL

        # Two search tools would leave the model to choose between them; web_search is the one
        # that runs unasked in every mode and is counted in /cost.
        mcp.withhold(web.search_server, PRIME_TOOL, "web_search searches through it")
    viewer = ImageViewer(config, settings.vision_model) if settings.vision_model else None
    ctx = ToolContext(
        workspace=cwd,
        extra_dirs=extra_dirs,
        limits=limits_from(settings.command_timeout, settings.command_max_output, settings.command_max_processes),
        web=web,
        see_image=viewer,
        see_images=None if viewer is None else viewer.images,
    )
    runner = ToolRunner(registry, policy, ctx, approver, headless_hint=headless_hint, secret=settings.api_key)
    runner.relay_limit = settings.max_subagents
    runner.sandboxing = sandboxing
    client = client_build.result()
    messages = None if resume is None else _resumed_messages(resume, system_prompt)
    session = _session_writer(settings, cwd, env, system_prompt, resume)
    agent = Agent(
        client,
        runner,
        system_prompt=system_prompt,
        context_window=model.context_window,
        cost=model.cost,
        max_turns=max_turns,
        sink=session,
        messages=messages,
        compact_threshold=settings.compact_threshold,
        max_output=max_tokens_for(settings.model, settings.max_tokens),
        tool_source=mcp,
    )
    if spawner is not None:
        spawner.bind(runner, system_prompt, _client_for(agent, frozenset(registry.names)))
    started = SessionStarted(session.session_id, settings.model, str(cwd), settings.permission_mode)
    ws = Workspace(agent, session, settings, cwd, started, env, sandboxing=sandboxing, mcp=mcp)
    _start(ws, resume)
    if approver is not None:
        ws.notices += _settled_sandbox(ws)
    attach_hooks(ws, load_hooks(settings.project_root, env) if hooks is None else hooks, resumed=resume is not None)
    if spawner is not None:
        ws.subagents = spawner.catalog
        ws.notices += [Notice(w) for w in spawner.catalog.warnings]
    if approver is not None if checkpoints is None else checkpoints:
        attach_checkpoints(ws)
    return ws


def _choose_sandbox(settings: Settings, cwd: Path, extra_dirs: tuple[Path, ...], env: Mapping[str, str]) -> Any:
    from glmcode.sandbox.choose import choose_sandbox

    return choose_sandbox(settings.sandbox, settings.sandbox_network, cwd, extra_dirs, env)


def _settled_sandbox(ws: Workspace) -> list[Notice]:
    """The sandbox decided and put in force now, as the runner does before a first command."""
    notices = [e for e in ws.agent.runner.settle_sandbox() if isinstance(e, Notice)]
    for notice in notices:
        ws.session.write(notice)
    return notices


def _client_for(agent: Agent, known_tools: frozenset[str]) -> Callable[[str | None], tuple[str, Any]]:
    """A sub-agent's model and client: the parent's as they are now (`/model` may switch them)
    for None or the same model, else one client per model, made once."""
    clients: dict[str, Any] = {}
    lock = threading.Lock()

    def make(model: str | None) -> tuple[str, Any]:
        from dataclasses import replace

        from glmcode.llm.client import GLMClient

        current = agent.client
        config = current.config  # type: ignore[attr-defined]
        if model is None or model == config.model:
            return config.model, current
        with lock:
            if model not in clients:
                clients[model] = GLMClient(replace(config, model=model), known_tools=known_tools)
            return model, clients[model]

    return make


def resume_workspace(ws: Workspace, resume: Replay) -> None:
    """Switches a running workspace to another session: its file, id and conversation."""
    system_prompt = ws.agent.messages[0]["content"]
    settle_checkpoints(ws)
    ws.session.close()
    ws.session = _session_writer(ws.settings, ws.cwd, ws.env, system_prompt, resume)
    ws.agent.messages[:] = _resumed_messages(resume, system_prompt)
    ws.agent.sink = ws.session
    ws.started = SessionStarted(ws.session.session_id, ws.settings.model, str(ws.cwd), ws.agent.runner.policy.mode)
    _start(ws, resume)
    if ws.agent.hooks is not None:
        ws.agent.hooks.restart(ws.session.session_id, resumed=True)
    if ws.agent.before_changes is not None:
        attach_checkpoints(ws)


def attach_hooks(ws: Workspace, config: HookConfig, *, resumed: bool = False) -> None:
    """The hooks around the agent's runs and calls; the project's that wait for trust are
    named to the user."""
    ws.hooks = config
    for text in config.ignored:
        notice = Notice(text)
        ws.session.write(notice)
        ws.notices.append(notice)
    if not config.hooks:
        return
    from glmcode.hooks.engine import Hooks

    hooks = Hooks(config, ws.cwd, ws.settings.project_root, ws.session.session_id, resumed, ws.env, ws.settings.api_key or "")
    ws.agent.hooks = ws.agent.runner.hooks = hooks


def settle_checkpoints(ws: Workspace) -> None:
    """Records the snapshot of the last run's end, taken on a thread, once it is done: before
    the session file is read for /undo, a command of the user's runs, or the session ends."""
    if ws.agent.before_changes is not None:
        from glmcode.agent.rewind import settle_checkpoints as settle

        settle(ws.agent)


def attach_checkpoints(ws: Workspace) -> None:
    from glmcode.agent.checkpoints import ShadowRepo
    from glmcode.agent.rewind import CheckpointRecorder

    repo = ShadowRepo.for_workspace(ws.cwd, ws.env, ws.session.session_id)
    recorder = CheckpointRecorder(repo, ws.agent, ws.session)
    ws.agent.before_changes = recorder
    ws.agent.after_changes = recorder.after_run
    ws.agent.on_run_start = recorder.run_started


def _resumed_messages(resume: Replay, system_prompt: str) -> list[dict[str, Any]]:
    """The conversation read back, under today's system prompt when the file did not record its own."""
    if resume.system_known:
        return resume.messages
    return [{"role": "system", "content": system_prompt}, *resume.messages[1:]]


def _session_writer(
    settings: Settings, cwd: Path, env: Mapping[str, str], system_prompt: str, resume: Replay | None
) -> SessionWriter:
    from glmcode.images.store import images_dir
    from glmcode.paths import sessions_dir

    if resume is not None:
        session_id, path = resume.session_id, resume.path
    else:
        session_id = new_session_id()
        path = sessions_dir(env, settings.project_root) / f"{session_id}.jsonl"
    return SessionWriter(
        path,
        session_id=session_id,
        header={
            "cwd": str(cwd), "model": settings.model, "created": time.time(), "system_prompt": system_prompt,
            "images": str(images_dir(env)),
        },
        redact=(settings.api_key or "",),
        images=images_dir(env),
    )


def _start(ws: Workspace, resume: Replay | None) -> None:
    """Records the start (or the restart) of the session; a resumed one gets its repairs
    written and the user a notice of what was interrupted."""
    ws.notices = []
    ws.session.write(ws.started)
    if resume is None:
        return
    ws.agent.usage, ws.agent.cost_usd = resume.usage, resume.cost_usd
    for message in resume.repairs:
        ws.session.write(MessageAdded(message))
    from glmcode.agent.compaction import is_prompt
    from glmcode.agent.recovery import remove_unfinished_writes

    removed = remove_unfinished_writes(resume.messages, resume.repairs, ws.cwd)
    prompts = sum(1 for m in resume.messages if is_prompt(m))
    text = f"Resumed session {resume.session_id}: {count(len(resume.messages) - 1, 'message')}, {count(prompts, 'prompt')}."
    if resume.interrupted:
        text += " It was interrupted: " + "; ".join(resume.interrupted) + "."
    if removed:
        text += " Removed what an unfinished write left behind: " + ", ".join(removed) + "."
    notice = Notice(text, "warning" if resume.interrupted else "info")
    ws.session.write(notice)
    ws.notices.append(notice)


class _Background:
    """One call run on a thread; `result()` waits for it and re-raises what it raised."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self._call = call
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._call()
        except BaseException as exc:  # handed to the caller of result()
            self._error = exc

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _resolve_dir(d: str, cwd: Path) -> Path:
    p = Path(d).expanduser()
    return (p if p.is_absolute() else cwd / p).resolve()


def tools_left_out(settings: Settings) -> tuple[str, ...]:
    """The built-in tools these settings keep from the model."""
    from glmcode.llm.catalog import RESELLERS
    from glmcode.tools.registry import WEB_MODULES

    if not settings.web:
        return WEB_MODULES
    # A reseller carries GLM's chat API but not its search API: the tool could only fail there.
    return ("web_search",) if settings.provider in RESELLERS else ()
