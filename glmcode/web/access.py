"""What one session's web tools share: the permission checks a fetch makes on its own (the
hosts of redirects, the hosts named for non-public addresses), the page cache, the model that
answers questions about pages, the search route, and what searches and answers cost.

Nothing here imports httpx: the fetcher, the page model and the search client are built by
the first call that needs them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glmcode.config.settings import Settings
    from glmcode.llm.types import ClientConfig
    from glmcode.mcp.manager import McpManager
    from glmcode.permissions.policy import Policy
    from glmcode.web.ask import Answer, PageAsker
    from glmcode.web.convert import Page
    from glmcode.web.fetch import Fetcher
    from glmcode.web.search import Searched, Searcher

# Pages change; a session that runs for hours reads them again.
CACHE_SECONDS = 15 * 60
TIMEOUT = 30.0  # for a fetch or a search


class WebAccess:
    """`host_verdict(url)`: the policy's decision for reaching the URL's host.
    `names_host(host)`: whether an allow rule names the host (which lets a fetch reach
    loopback and private addresses). `page_model`: the client settings for questions about
    pages, whose provider and base URL also say where searches go; `search`, when given,
    overrides that: a searcher, or why searches cannot be made. `search_server`: the MCP
    server searches may go through, whose own search tool the model is not offered."""

    def __init__(
        self,
        *,
        host_verdict: Callable[[str], str],
        names_host: Callable[[str], bool],
        page_model: ClientConfig,
        search: Searcher | str | None = None,
        search_server: str | None = None,
        timeout: float = TIMEOUT,
        max_bytes: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host_verdict = host_verdict
        self.names_host = names_host
        self.page_model = page_model
        self._searcher = search
        self.search_server = search_server
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Page]] = {}
        self._fetcher: Fetcher | None = None
        self._asker: PageAsker | None = None

    @property
    def searcher(self) -> Searcher | str:
        with self._lock:
            if self._searcher is None:
                from glmcode.web.search import rest_searcher

                model = self.page_model
                self._searcher = rest_searcher(model.provider, model.base_url, model.api_key, self.timeout)
            return self._searcher

    def fetch(self, url: str) -> tuple[Page, bool]:
        """The page at `url` and whether it came from this session's cache."""
        from glmcode.web.convert import Page, to_text
        from glmcode.web.errors import WebError
        from glmcode.web.fetch import check_url

        url = check_url(url)
        with self._lock:
            cached = self._cache.get(url)
        if cached is not None and self._clock() - cached[0] < CACHE_SECONDS:
            return cached[1], True
        got = self._fetch_tool().get(url)
        if got.moved_to is not None:
            return Page(url, got.final_url, "", None, got.moved_to), False
        if got.status >= 400:
            raise WebError(f"{got.final_url} answered HTTP {got.status}{_reason(got.status)}")
        page = Page(url, got.final_url, got.content_type, to_text(got.body, got.content_type, got.final_url))
        with self._lock:
            self._cache[url] = (self._clock(), page)
        return page, False

    def ask(self, text: str, prompt: str, url: str) -> Answer:
        from glmcode.web.ask import PageAsker

        with self._lock:
            if self._asker is None:
                self._asker = PageAsker(self.page_model)
            asker = self._asker
        return asker.ask(text, prompt, url)

    def search(self, query: str, count: int, recency: str | None, domain: str | None) -> Searched:
        from glmcode.web.errors import WebError

        searcher = self.searcher
        if isinstance(searcher, str):
            raise WebError(searcher)
        return searcher.search(query, count, recency, domain)

    def _fetch_tool(self) -> Fetcher:
        from glmcode.web.addresses import AddressGuard
        from glmcode.web.fetch import MAX_BYTES, Fetcher

        with self._lock:
            if self._fetcher is None:
                self._fetcher = Fetcher(
                    AddressGuard(self.names_host), self.host_verdict,
                    timeout=self.timeout, max_bytes=self.max_bytes or MAX_BYTES,
                )
            return self._fetcher


def web_access(settings: Settings, policy: Policy, mcp: McpManager | None = None) -> WebAccess:
    """The web tools' state for a session run with `settings` under `policy`; `mcp`: the
    session's MCP servers, when any is configured, among which may be the Coding Plan's web
    search server."""
    from glmcode.llm.types import ClientConfig

    assert settings.api_key
    search: Searcher | None = None
    server = None
    if mcp is not None:
        from glmcode.web.search_mcp import plan_route, prime_server

        server = prime_server(mcp)
        if server is not None:
            search = plan_route(settings.provider, settings.base_url, settings.api_key, TIMEOUT, mcp, server)
    return WebAccess(
        host_verdict=lambda url: policy.decide("web_fetch", "web", {"url": url}).decision,
        names_host=policy.names_host,
        page_model=ClientConfig(
            api_key=settings.api_key,
            base_url=settings.base_url,
            model=settings.web_fetch_model,
            provider=settings.provider,
            timeout=min(settings.timeout, 120.0),
        ),
        search=search,
        search_server=None if search is None else server,
    )


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return f" ({HTTPStatus(status).phrase})"
    except ValueError:
        return ""
