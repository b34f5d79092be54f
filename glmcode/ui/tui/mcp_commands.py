"""MCP in the interactive session: `/mcp` (servers, state, tools, last error), `/mcp restart
NAME`, a server's prompts as `/mcp__SERVER__PROMPT args`, and `@SERVER:URI` to attach one of
its resources to a message."""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING, Any

from glmcode.ui.tui.input import CommandHint

if TYPE_CHECKING:
    from glmcode.ui.tui.host import SessionHost

_RESOURCE = re.compile(r"(?<![\w@/])@([A-Za-z0-9][A-Za-z0-9_-]*):(\S+)")
MAX_RESOURCE_CHARS = 60_000


def _say(session: SessionHost, text: str, style: str = "") -> None:
    session.console.print(text, style=style, markup=False, highlight=False, emoji=False)


def show(session: SessionHost, argument: str) -> None:
    hub = session.ws.mcp
    words = argument.split()
    untrusted = session.ws.settings.mcp_untrusted
    if hub is None:
        if not untrusted:
            _say(session, "No MCP servers are configured. `glmcode mcp add NAME -- CMD ARGS...` adds one; see docs/mcp.md.", "dim")
        for why in untrusted:
            _say(session, f"○ {why}", "yellow")
        return
    if words[:1] == ["restart"]:
        _restart(session, hub, words[1:])
        return
    if words and words[0] not in hub.manager.states:
        _say(session, f"No MCP server {words[0]}. /mcp lists them; /mcp restart NAME starts one again.", "yellow")
        return
    hub.sync()  # servers that became ready since the last prompt: their left-out tools are known
    for state in hub.states:
        if words and state.name != words[0]:
            continue
        _server(session, hub, state, detailed=bool(words))
    for spec in hub.manager.disabled:
        _say(session, f"○ {spec.name}  disabled ({spec.source})", "dim")
    for why in () if words else untrusted:
        _say(session, f"○ {why}", "yellow")


def _server(session: SessionHost, hub: Any, state: Any, *, detailed: bool) -> None:
    from glmcode.mcp.tools import hints, tool_name
    from glmcode.text import count

    mark = {"ready": "●", "starting": "…", "failed": "✗"}.get(state.status, "○")
    style = {"ready": "green", "failed": "red"}.get(state.status, "dim")
    left_out = dict(hub.left_out.get(state.name, ()))
    offered = [t for t in state.tools if state.spec.offers(t.name) and t.name not in left_out]
    what = f"{count(len(offered), 'tool')}, {count(len(state.prompts), 'prompt')}, {count(len(state.resources), 'resource')}"
    _say(session, f"{mark} {state.name}  {state.status}  {state.spec.transport} {state.spec.target}", style)
    _say(session, f"  {what} · from {state.spec.source}" + (f" · {state.server_info}" if state.server_info else ""), "dim")
    if state.status == "failed":
        _say(session, "  " + state.failure().replace("\n", "\n  "), "red")
        _say(session, f"  /mcp restart {state.name} tries again", "dim")
    for tool_left, why in left_out.items():
        _say(session, f"  left out: {tool_left}: {why}", "yellow")
    if not detailed:
        return
    for tool in offered:
        note = hints(tool)
        _say(session, f"  {tool_name(state.name, tool.name)}" + (f"  [{note}]" if note else ""))
    for prompt in state.prompts:
        _say(session, f"  /{tool_name(state.name, prompt.name)}  {prompt.description}".rstrip())
    for resource in state.resources:
        _say(session, f"  @{state.name}:{resource.uri}  {resource.name}".rstrip())


def _restart(session: SessionHost, hub: Any, names: list[str]) -> None:
    targets = names or [s.name for s in hub.states if s.status != "ready"]
    if not targets:
        _say(session, "Every MCP server is running. /mcp restart NAME restarts one.", "dim")
        return
    for name in targets:
        if name not in hub.manager.states:
            _say(session, f"No MCP server {name}.", "yellow")
            continue
        _say(session, f"Restarting {name}…", "dim")
        state = hub.restart(name)
        if state.status == "ready":
            _say(session, f"{name} is running: {len(state.tools)} tools. The model sees them from your next message.", "green")
        else:
            _say(session, f"{name} did not start: {state.failure()}", "red")


def prompt_hints(session: SessionHost) -> list[CommandHint]:
    from glmcode.mcp.tools import tool_name

    hub = session.ws.mcp
    if hub is None:
        return []
    out = []
    for state in hub.states:
        for prompt in state.prompts:
            name = tool_name(state.name, prompt.name)
            usage = " ".join([f"/{name}", *(a if req else f"[{a}]" for a, req in prompt.arguments)])
            out.append(CommandHint(name, usage, prompt.description or f"a prompt of {state.name}"))
    return out


def resource_mentions(session: SessionHost) -> list[tuple[str, str]]:
    """Each running server's resources as the `SERVER:URI` a message can attach, with its name."""
    hub = session.ws.mcp
    if hub is None:
        return []
    return [(f"{state.name}:{r.uri}", r.name or r.description) for state in hub.states for r in state.resources]


def _await_server(session: SessionHost, hub: Any, name: str) -> None:
    """A prompt or resource typed before its server is ready waits for it, as a message does."""
    if not hub.manager.states[name].settled.is_set():
        _say(session, f"  Waiting for MCP server {name} to start…", "dim")
        hub.manager.wait_settled([name])


def run_prompt(session: SessionHost, name: str, argument: str) -> None:
    """`/mcp__SERVER__PROMPT args`: the server's prompt, filled in, sent as the message.
    Arguments are `key=value` words, or plain words taken in the prompt's order."""
    from glmcode.mcp.state import CallFailed
    from glmcode.mcp.tools import tool_name

    from glmcode.mcp.tools import server_of

    hub = session.ws.mcp
    found = None
    server = server_of(name)
    if hub is not None and server in hub.manager.states:
        _await_server(session, hub, server)
    for state in hub.states if hub is not None else ():
        for prompt in state.prompts:
            if tool_name(state.name, prompt.name) == name:
                found = (state, prompt)
    if found is None:
        _say(session, f"Unknown command /{name}. /mcp lists the servers' prompts.", "yellow")
        return
    state, prompt = found
    try:
        words = shlex.split(argument)
    except ValueError as exc:
        _say(session, f"/{name}: {exc}", "yellow")
        return
    names = [a for a, _ in prompt.arguments]
    values: dict[str, str] = {}
    for n, word in enumerate(words):
        key, eq, value = word.partition("=")
        if eq and key in names:
            values[key] = value
        elif n < len(names):
            values[names[n]] = word
    missing = [a for a, required in prompt.arguments if required and a not in values]
    if missing:
        _say(session, f"/{name} needs {', '.join(missing)}: /{name} " + " ".join(f"{a}=…" for a in names), "yellow")
        return
    try:
        text = hub.manager.get_prompt(state.name, prompt.name, values)
    except CallFailed as exc:
        _say(session, str(exc), "red")
        return
    session.send(text)


def attach_resources(session: SessionHost, text: str) -> str:
    """The message with every `@SERVER:URI` of a configured server read and attached (and
    its `@` dropped, so it is not taken for a path); one that cannot be read is said so."""
    from glmcode.mcp.state import CallFailed

    hub = session.ws.mcp
    if hub is None:
        return text
    blocks = []

    def one(match: re.Match[str]) -> str:
        server, uri = match.group(1), match.group(2).rstrip(".,;:!?)]}")
        if server not in hub.manager.states:
            return match.group(0)
        _await_server(session, hub, server)
        try:
            content = hub.manager.read_resource(server, uri)
        except CallFailed as exc:
            _say(session, f"  @{server}:{uri} not attached: {exc}", "yellow")
            blocks.append(f"(The resource {server}:{uri} could not be read: {exc})")  # the model knows it is missing
            return match.group(0)[1:]
        cut = len(content) > MAX_RESOURCE_CHARS
        blocks.append(f'<attached resource="{server}:{uri}">\n{content[:MAX_RESOURCE_CHARS]}\n</attached>')
        _say(session, f"  attached @{server}:{uri} ({len(content):,} characters{', cut to fit' if cut else ''})", "dim")
        return match.group(0)[1:]

    message = _RESOURCE.sub(one, text)
    return message if not blocks else message.rstrip() + "\n\n" + "\n\n".join(blocks)
