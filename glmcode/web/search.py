"""The GLM platform's Web Search API: POST `{platform}/paas/v4/web_search` with the user's key,
on the region of the user's provider.

Z.ai serves the `search-prime` engine at $0.01 a search; BigModel (open.bigmodel.cn) serves
its own engines, of which glmcode uses `search_pro`, priced in yuan on BigModel's site and so
counted here without a price. The Coding Plan endpoints share the platform's search URL, but
the API bills a Coding Plan key only from the account's balance: with the plan's web search
MCP server configured, such a key searches through it instead (`search_mcp.py`, the other
`Searcher`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from glmcode.llm.catalog import RESELLERS
from glmcode.web.errors import SearchNotBilled, WebError

if TYPE_CHECKING:
    import httpx

RECENCY = {"day": "oneDay", "week": "oneWeek", "month": "oneMonth", "year": "oneYear"}
_CODING_SUFFIX = "/coding/paas/v4"


@dataclass(frozen=True)
class SearchEndpoint:
    url: str
    engine: str
    price_usd: float  # per search; 0 when glmcode does not know it in dollars


@dataclass(frozen=True)
class SearchHit:
    title: str
    url: str
    date: str
    site: str
    summary: str


@dataclass(frozen=True)
class Searched:
    """One search's hits and what it is counted as: the engine, its price in dollars (0 when
    glmcode does not know it in dollars, or the plan includes it) and the MCP server that
    answered, if one did."""

    hits: list[SearchHit]
    engine: str
    price_usd: float
    server: str = ""


class Searcher(Protocol):
    """A route to a search service: the platform's REST API, or the Coding Plan's MCP server."""

    def search(self, query: str, count: int, recency: str | None, domain: str | None) -> Searched: ...


def is_coding_plan(provider: str, base_url: str) -> bool:
    """Whether the key is a GLM Coding Plan one: a coding provider, or its endpoint by URL."""
    return provider.endswith("-coding") or base_url.rstrip("/").endswith(_CODING_SUFFIX)


def rest_searcher(provider: str, base_url: str, api_key: str, timeout: float = 30.0) -> WebSearch | str:
    """The REST route for this provider, or why it has none."""
    endpoint = search_endpoint(provider, base_url)
    return endpoint if isinstance(endpoint, str) else WebSearch(endpoint, api_key, timeout)


def search_endpoint(provider: str, base_url: str) -> SearchEndpoint | str:
    """Where this provider's searches go, or why there is nowhere."""
    vendor = RESELLERS.get(provider)
    if vendor is not None:
        return (
            f"web_search is not available with provider {provider}: it uses the GLM platform's "
            f"Web Search API, which {vendor} does not offer. With a Z.ai or BigModel key "
            "(provider zai or bigmodel) it works; web_fetch works with any provider."
        )
    root = base_url.rstrip("/")
    if root.endswith(_CODING_SUFFIX):
        root = root[: -len(_CODING_SUFFIX)] + "/paas/v4"
    if provider.startswith("bigmodel"):
        return SearchEndpoint(f"{root}/web_search", "search_pro", 0.0)
    return SearchEndpoint(f"{root}/web_search", "search-prime", 0.01)


def request_body(
    endpoint: SearchEndpoint, query: str, count: int, recency: str | None, domain: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "search_engine": endpoint.engine,
        "search_query": query,
        "count": count,
        "request_id": os.urandom(16).hex(),
    }
    if recency:
        body["search_recency_filter"] = RECENCY[recency]
    if domain:
        body["search_domain_filter"] = domain
    return body


def parse_hits(payload: Any) -> list[SearchHit]:
    if not isinstance(payload, dict) or not isinstance(payload.get("search_result", []), list):
        raise WebError("the search service sent an answer glmcode cannot read (no search_result list)")
    return [hit_from(item) for item in payload.get("search_result") or [] if isinstance(item, dict)]


def hit_from(item: dict[str, Any]) -> SearchHit:
    """One result as both routes send it: title, link, publish_date, media (the site), content."""

    def text(key: str) -> str:
        value = item.get(key)
        return " ".join(value.split()) if isinstance(value, str) else ""

    return SearchHit(text("title"), text("link"), text("publish_date"), text("media"), text("content"))


class WebSearch:
    """Searches through one endpoint with the user's key; the HTTP client is built on the
    first search."""

    def __init__(self, endpoint: SearchEndpoint, api_key: str, timeout: float = 30.0) -> None:
        self.endpoint = endpoint
        self._api_key = api_key
        self._timeout = timeout
        self._http: httpx.Client | None = None

    def search(
        self, query: str, count: int = 10, recency: str | None = None, domain: str | None = None
    ) -> Searched:
        import httpx

        from glmcode import __version__
        from glmcode.llm.errors import error_from_response, redact

        if self._http is None:
            self._http = httpx.Client(
                timeout=httpx.Timeout(self._timeout, connect=10.0),
                trust_env=True,
                headers={"Authorization": f"Bearer {self._api_key}",
                         "User-Agent": f"glmcode/{__version__}"},
            )
        body = request_body(self.endpoint, query, count, recency, domain)
        try:
            response = self._http.post(self.endpoint.url, json=body)
        except httpx.TimeoutException:
            raise WebError(f"the search service did not answer within {self._timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise WebError(f"cannot reach the search service: {redact(str(exc), self._api_key)}") from None
        if response.status_code >= 400:
            err = error_from_response(response.status_code, response.content, response.headers,
                                      secret=self._api_key)
            raise _refusal(err)
        try:
            payload = response.json()
        except ValueError:
            raise WebError("the search service answered with something that is not JSON") from None
        return Searched(parse_hits(payload), self.endpoint.engine, self.endpoint.price_usd)


def _refusal(err: Any) -> WebError:
    text = f"the search service refused the search: {err}"
    if getattr(err, "code", None) == "1113" or getattr(err, "status", None) in (402, 403):
        return SearchNotBilled(
            f"{text}. A GLM Coding Plan key is not billed for the pay-as-you-go search API; the "
            "plan's own web search is its MCP server, which `glmcode mcp add --preset "
            "zai-web-search` adds: web_search goes through it from glmcode's next start. With a "
            "pay-as-you-go key, check the account's balance."
        )
    hint = getattr(err, "hint", None)
    return WebError(f"{text}. {hint}" if hint else text)
