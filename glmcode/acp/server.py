"""The ACP agent: what the editor may ask (initialize, session/new, session/load, session/list,
session/prompt, session/cancel, session/set_mode), each session a glmcode workspace of its own."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION, RequestError, schema

from glmcode import __version__
from glmcode.acp.approvals import EditorApprover
from glmcode.acp.bridge import Bridge
from glmcode.acp.files import ClientFiles
from glmcode.acp.history import history_updates
from glmcode.acp.prompt import prompt_images, prompt_text
from glmcode.acp.session import EditorSession
from glmcode.acp.stream import CancellableClient
from glmcode.acp.updates import message_chunk
from glmcode.permissions.modes import MODES

log = logging.getLogger("glmcode.acp")

MODE_TEXT = {
    "read-only": ("Read-only", "Reads and plans; changes no file and runs only commands that just read"),
    "ask": ("Ask", "Asks before every edit and every command that changes something"),
    "auto-edit": ("Auto-edit", "Edits files in the project without asking; asks before commands"),
    "full-auto": ("Full-auto", "Edits and runs commands without asking"),
}


def modes(current: str) -> schema.SessionModeState:
    return schema.SessionModeState(
        current_mode_id=current,
        available_modes=[schema.SessionMode(id=m, name=MODE_TEXT[m][0], description=MODE_TEXT[m][1]) for m in MODES],
    )


class GlmcodeAgent:
    """`flags`: the settings `glmcode acp` was given on its command line, for every session;
    `max_turns`: the model requests one prompt may take."""

    def __init__(
        self, flags: Mapping[str, Any], env: Mapping[str, str] | None = None, *, max_turns: int | None = None,
        editor_terminal: bool = False,
    ) -> None:
        self.flags = dict(flags)
        self.max_turns = max_turns
        self.editor_terminal = editor_terminal  # run_shell in the editor's terminal, when it has one
        self.terminals = False
        self.env = os.environ if env is None else env
        self.conn: Any = None
        self.sessions: dict[str, EditorSession] = {}
        self.reads = self.writes = False

    def on_connect(self, conn: Any) -> None:
        self.conn = conn

    async def initialize(
        self, protocol_version: int, client_capabilities: schema.ClientCapabilities | None = None,
        client_info: schema.Implementation | None = None, **kwargs: Any,
    ) -> schema.InitializeResponse:
        fs = client_capabilities.fs if client_capabilities is not None else None
        self.reads = bool(fs is not None and fs.read_text_file)
        self.writes = bool(fs is not None and fs.write_text_file)
        self.terminals = bool(client_capabilities is not None and client_capabilities.terminal)
        if self.editor_terminal and not self.terminals:
            log.warning("--editor-terminal: the editor offers no terminal, so commands run in glmcode")
        if client_info is not None:
            log.info("editor: %s %s", client_info.name, client_info.version)
        return schema.InitializeResponse(
            protocol_version=PROTOCOL_VERSION,
            agent_capabilities=schema.AgentCapabilities(
                load_session=True,
                # Images go to the vision model (vision_model, glm-4.6v by default); the editor's
                # MCP servers start with the session, over stdio, HTTP or SSE.
                prompt_capabilities=schema.PromptCapabilities(image=True, audio=False, embedded_context=True),
                mcp_capabilities=schema.McpCapabilities(http=True, sse=True),
                session_capabilities=schema.SessionCapabilities(list=schema.SessionListCapabilities()),
            ),
            agent_info=schema.Implementation(name="glmcode", title="glmcode", version=__version__),
            auth_methods=[],
        )

    async def new_session(self, cwd: str, mcp_servers: list[Any] | None = None, **kwargs: Any) -> schema.NewSessionResponse:
        session = await self._open(cwd, None, mcp_servers)
        return schema.NewSessionResponse(session_id=session.id, modes=modes(session.ws.agent.runner.policy.mode))

    async def load_session(
        self, cwd: str, session_id: str, mcp_servers: list[Any] | None = None, **kwargs: Any
    ) -> schema.LoadSessionResponse:
        earlier = self.sessions.pop(session_id, None)
        if earlier is not None:
            await earlier.close()
        session = await self._open(cwd, session_id, mcp_servers)
        kinds = session.ws.agent.runner.registry.kinds()
        for update in history_updates(session.ws.agent.messages[1:], session.ctx, kinds):
            await session.send(update)
        for notice in session.ws.notices:
            await session.send(message_chunk(f"> glmcode: {notice.message}\n\n"))
        return schema.LoadSessionResponse(modes=modes(session.ws.agent.runner.policy.mode))

    async def list_sessions(self, cwd: str | None = None, cursor: str | None = None, **kwargs: Any) -> schema.ListSessionsResponse:
        from glmcode.agent.sessions_store import list_sessions
        from glmcode.paths import find_project_root, sessions_dir

        folder = _folder(cwd) if cwd else Path.cwd()
        found = list_sessions(sessions_dir(self.env, find_project_root(folder)))
        return schema.ListSessionsResponse(sessions=[
            schema.SessionInfo(
                session_id=info.id, cwd=str(folder), title=info.first_prompt or None,
                updated_at=datetime.fromtimestamp(info.updated, timezone.utc).isoformat(),
            )
            for info in found
        ])

    async def set_session_mode(self, session_id: str, mode_id: str, **kwargs: Any) -> schema.SetSessionModeResponse:
        session = self._session(session_id)
        if mode_id not in MODES:
            raise RequestError.invalid_params({"details": f"unknown mode {mode_id!r}; the modes are {', '.join(MODES)}"})
        session.ws.agent.runner.policy.mode = mode_id
        return schema.SetSessionModeResponse()

    async def prompt(self, session_id: str, prompt: list[Any], **kwargs: Any) -> schema.PromptResponse:
        session = self._session(session_id)
        stop = await session.prompt(prompt_text(prompt), prompt_images(prompt))
        return schema.PromptResponse(stop_reason=stop)  # type: ignore[arg-type]

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        session = self.sessions.get(session_id)
        if session is not None:
            session.cancel()

    async def authenticate(self, method_id: str, **kwargs: Any) -> schema.AuthenticateResponse:
        raise RequestError.invalid_params({"details": "glmcode reads its API key from the environment or its config"})

    async def close(self) -> None:
        """The editor is gone: every run is stopped (and the commands it started killed), every
        session file closed."""
        sessions, self.sessions = list(self.sessions.values()), {}
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)

    def _session(self, session_id: str) -> EditorSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise RequestError.invalid_params({"details": f"no session {session_id!r} is open"})
        return session

    async def _open(self, cwd: str, resume: str | None, mcp_servers: list[Any] | None) -> EditorSession:
        from glmcode.ui.startup import StartupError, start

        folder = _folder(cwd)
        try:
            run = await asyncio.to_thread(start, self.flags, str(folder), resume=resume)
        except StartupError as exc:
            raise RequestError(-32603, str(exc), {"details": str(exc)}) from None
        if resume is not None and (run.resume is None or run.resume.session_id != resume):
            raise RequestError.resource_not_found(resume)
        for warning in run.settings.warnings:
            log.warning("%s", warning)
        if mcp_servers:
            from dataclasses import replace

            from glmcode.acp.editor_mcp import with_editor_servers

            servers = with_editor_servers(run.settings.mcp_servers, mcp_servers)
            run = replace(run, settings=replace(run.settings, mcp_servers=servers))
        approver = EditorApprover(_rule_saver(run.settings.project_root, self.env))
        registry = _registry(lambda: approver.session) if self.editor_terminal and self.terminals else None
        try:
            ws = await asyncio.to_thread(_open_workspace, run, approver, self.max_turns, registry)
        except OSError as exc:
            raise RequestError(-32603, f"cannot open the session file: {exc.strerror or exc} ({exc.filename})") from None
        session = EditorSession(ws, self.conn, Bridge(asyncio.get_running_loop()))
        ws.agent.client = CancellableClient(ws.agent.client, session.bridge)
        approver.session = session
        if self.reads or self.writes:
            ws.agent.runner.ctx.editor = ClientFiles(session.bridge, self.conn, session.id, read=self.reads, write=self.writes)
        self.sessions[session.id] = session
        return session


def _open_workspace(run: Any, approver: EditorApprover, max_turns: int | None, registry: Any) -> Any:
    from glmcode.agent.setup import open_workspace

    # No checkpoints: nothing in the editor can undo to them yet.
    return open_workspace(
        run.settings, run.cwd, approver=approver, resume=run.resume, checkpoints=False, max_turns=max_turns,
        registry=registry,
    )


def _registry(session: Any) -> Any:
    """The built-in tools with run_shell running in the editor's terminal."""
    from glmcode.acp.terminal import terminal_tool
    from glmcode.tools.registry import BUILTIN_MODULES, Registry

    tools = Registry.builtin()
    return Registry(terminal_tool(session) if name == "run_shell" else tools.get(name) for name in BUILTIN_MODULES)


def _rule_saver(project_root: Path, env: Mapping[str, str]) -> Any:
    from glmcode.ui.tui.approvals import rule_saver

    return rule_saver(project_root, env)


def _folder(cwd: str) -> Path:
    folder = Path(cwd).expanduser()
    if not folder.is_absolute() or not folder.is_dir():
        raise RequestError.invalid_params({"details": f"cwd {cwd!r} is not an absolute path to a folder"})
    return folder.resolve()
