"""The web_search tool: the GLM platform's Web Search API, or the Coding Plan's web search MCP
server, results as title, URL, date and summary."""

from __future__ import annotations

from typing import Any

from glmcode.tools.base import Param, Tool, ToolContext, ToolError, ToolResult, description_beside

SUMMARY_CHARS = 700
RECENCIES = ("day", "week", "month", "year")


def run(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    from glmcode.web.errors import WebError
    from glmcode.web.untrusted import fenced

    query = " ".join(args["query"].split())
    if not query:
        raise ToolError("web_search: query is empty")
    domain = (args["domain"] or "").strip().lower() or None
    if domain and any(c in domain for c in "/: "):
        raise ToolError(f"web_search: domain is a host name such as docs.python.org, got {args['domain']!r}")
    web = ctx.web
    if web is None:
        raise ToolError("web_search: the web tools are off in this run (--no-web or web = false)")
    try:
        searched = web.search(query, args["count"], args["recency"], domain)
    except WebError as exc:
        raise ToolError(f"web_search: {exc}") from None
    hits = searched.hits
    data: dict[str, Any] = {"query": query, "results": len(hits), "searches": 1,
                            "cost_usd": searched.price_usd, "engine": searched.engine}
    if searched.server:
        data["mcp_server"] = searched.server
    filters = ", ".join(f for f in (f"last {args['recency']}" if args["recency"] else "",
                                     f"on {domain}" if domain else "") if f)
    head = f"Web search for {query!r}" + (f" ({filters})" if filters else "")
    if not hits:
        return ToolResult(f"{head}: no results. Try fewer or other words, or drop the filters.", data=data)
    lines = []
    for n, hit in enumerate(hits, 1):
        lines.append(f"{n}. {hit.title or '(no title)'}\n   {hit.url}")
        about = " · ".join(p for p in (hit.date, hit.site) if p)
        if about:
            lines.append(f"   {about}")
        if hit.summary:
            summary = hit.summary if len(hit.summary) <= SUMMARY_CHARS else hit.summary[:SUMMARY_CHARS] + " …"
            lines.append(f"   {summary}")
        lines.append("")
    count = "1 result" if len(hits) == 1 else f"{len(hits)} results"
    text = f"{head}: {count}.\n{fenced('web_search_results', 'web search', chr(10).join(lines))}"
    return ToolResult(text, data=data)


TOOL = Tool(
    name="web_search",
    description=description_beside(__file__, "web_search"),
    params=(
        Param("query", "string", "What to search for."),
        Param(
            "recency", "string", "Only results from the last day, week, month or year.",
            required=False, enum=RECENCIES,
        ),
        Param(
            "domain", "string", "Only results from this site, e.g. docs.python.org.",
            required=False,
        ),
        Param(
            "count", "integer", "How many results; 10 by default.",
            required=False, default=10, minimum=1, maximum=50,
        ),
    ),
    kind="read",
    run=run,
)
