"""web_search through the GLM Coding Plan's web search MCP server: its `webSearchPrime` tool,
called on the session's MCP manager like any server's tool, its results read into the same
hits as the REST API's.

The server is the one the `zai-web-search` preset adds, known by its URL's path whatever the
user named it. A Coding Plan key searches only through it; a pay-as-you-go key tries the REST
API first and turns to the server for the rest of the session once the API will not bill it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from glmcode.web.errors import SearchNotBilled, WebError
from glmcode.web.search import RECENCY, Searched, Searcher, SearchHit, hit_from, is_coding_plan, rest_searcher

if TYPE_CHECKING:
    from glmcode.mcp.manager import McpManager
    from glmcode.mcp.state import RemoteResult, ServerState

PRIME_PATH = "/api/mcp/web_search_prime/mcp"
PRIME_TOOL = "webSearchPrime"
_PREVIEW_CHARS = 200


def prime_server(manager: McpManager) -> str | None:
    """The first enabled server reached at the web search MCP path, on any host."""
    for name, state in manager.states.items():
        spec = state.spec
        if spec.transport != "stdio" and urlsplit(spec.url).path.rstrip("/") == PRIME_PATH:
            return name
    return None


def plan_route(
    provider: str, base_url: str, api_key: str, timeout: float, manager: McpManager, server: str
) -> Searcher | None:
    """How searches go with `server`, the web search server, configured: through it for a
    Coding Plan key, the REST API then it for a pay-as-you-go one; None for a provider with no
    GLM search at all (OpenRouter, CometAPI), which keeps the REST route's answer."""
    # The server's `location` picks the results' region, as the provider's region does.
    plan = PlanSearch(manager, server, "cn" if provider.startswith("bigmodel") else "us")
    if is_coding_plan(provider, base_url):
        return plan
    rest = rest_searcher(provider, base_url, api_key, timeout)
    return None if isinstance(rest, str) else RestThenPlan(rest, plan)


class PlanSearch:
    """Searches through one MCP server's webSearchPrime; the Coding Plan includes them, so each
    is counted at no price."""

    def __init__(self, manager: McpManager, server: str, location: str) -> None:
        self._manager = manager
        self.server = server
        self.location = location

    def search(self, query: str, count: int, recency: str | None, domain: str | None) -> Searched:
        from glmcode.mcp.state import CallFailed

        state = self._ready()
        args: dict[str, Any] = {"search_query": query, "content_size": "medium", "location": self.location}
        if recency:
            args["search_recency_filter"] = RECENCY[recency]
        if domain:
            args["search_domain_filter"] = domain
        try:
            result = self._manager.call_tool(state.name, PRIME_TOOL, args)
        except CallFailed as exc:
            raise WebError(str(exc)) from None
        # The tool takes no count: the server decides how many it sends, glmcode shows `count`.
        return Searched(prime_hits(result, state.name)[:count], PRIME_TOOL, 0.0, state.name)

    def _ready(self) -> ServerState:
        name = self.server
        state = self._manager.states[name]
        if not state.settled.is_set():  # a run waits for servers; a restart may be under way
            self._manager.wait_settled([name])
            state = self._manager.states[name]
        again = state.how_back()
        if state.status == "starting":
            raise WebError(
                f"web_search goes through the MCP server {name}, which is still starting after "
                f"{state.spec.startup_timeout_s:g}s (startup_timeout_s). {again}"
            )
        if state.status != "ready":
            raise WebError(f"web_search goes through the MCP server {name}, which is not running: "
                           f"{state.failure()}\n{again}")
        if not any(tool.name == PRIME_TOOL for tool in state.tools):
            offered = ", ".join(tool.name for tool in state.tools) or "none"
            raise WebError(f"the MCP server {name} has no {PRIME_TOOL} tool to search with (its tools: {offered})")
        return state


class RestThenPlan:
    """The REST API while it bills the key; the plan's server from its first refusal on."""

    def __init__(self, rest: Searcher, plan: PlanSearch) -> None:
        self.rest = rest
        self.plan = plan
        self._refused = False

    def search(self, query: str, count: int, recency: str | None, domain: str | None) -> Searched:
        if not self._refused:
            try:
                return self.rest.search(query, count, recency, domain)
            except SearchNotBilled:
                self._refused = True
        return self.plan.search(query, count, recency, domain)


def prime_hits(result: RemoteResult, server: str) -> list[SearchHit]:
    """The results of one webSearchPrime call. The server sends a JSON list of results as
    text, often encoded once more as a JSON string; a wrapping object is read through too."""
    text = "\n".join(t for t in result.texts if t).strip()
    if result.is_error:
        raise WebError(f"the MCP server {server} refused the search: {text or '(it gave no reason)'}")
    for payload in (text, result.structured):
        items = _result_list(payload)
        if items is not None:
            return [hit_from(item) for item in items if isinstance(item, dict)]
    shown = text or (json.dumps(result.structured, ensure_ascii=False) if result.structured is not None else "")
    if not shown:
        raise WebError(f"the MCP server {server} answered {PRIME_TOOL} with nothing")
    shown = " ".join(shown.split())
    if len(shown) > _PREVIEW_CHARS:
        shown = shown[:_PREVIEW_CHARS] + " …"
    raise WebError(f"the MCP server {server} answered {PRIME_TOOL} with something glmcode cannot read "
                   f"as search results: {shown}")


def _result_list(payload: Any) -> list[Any] | None:
    for _ in range(4):  # text, a JSON string of it, a wrapping object, its list
        if isinstance(payload, list):
            return payload if not payload or any(isinstance(item, dict) for item in payload) else None
        if isinstance(payload, str):
            try:
                payload = json.loads(payload)
            except ValueError:
                return None
        elif isinstance(payload, dict):
            inner = [payload[k] for k in ("search_result", "results", "result") if k in payload]
            if not inner:
                return None
            payload = inner[0]
        else:
            return None
    return None
