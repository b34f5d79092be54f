"""A web search MCP server like the GLM Coding Plan's, on the SDK's own server API: its tool
`webSearchPrime` takes the same arguments and answers in the same shape (a JSON list of
results, sent as a JSON string of that JSON). `python prime.py` serves streamable HTTP on
127.0.0.1 under `/api/mcp/web_search_prime/mcp` and prints the URL.

The query picks the answer: "fail ..." an error result, "crash ..." the process ends,
"garbled ..." text that is no JSON; anything else two results naming the query. Each call
is appended to the file PRIME_LOG names, as JSON: its arguments and Authorization header.
"""

from __future__ import annotations

import json
import os
import socket
import sys

import anyio
import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

PATH = "/api/mcp/web_search_prime/mcp"
app = MCPServer("web-search-prime")


@app.tool(name="webSearchPrime")
def web_search_prime(
    search_query: str,
    ctx: Context,
    search_recency_filter: str = "noLimit",
    search_domain_filter: str = "",
    content_size: str = "medium",
    location: str = "cn",
) -> str:
    """Search web information, returning titles, URLs, summaries, site names and icons."""
    with open(os.environ["PRIME_LOG"], "a", encoding="utf-8") as log:
        args = {"search_query": search_query, "search_recency_filter": search_recency_filter,
                "search_domain_filter": search_domain_filter, "content_size": content_size,
                "location": location}
        log.write(json.dumps({"args": args, "authorization": (ctx.headers or {}).get("authorization", "")}) + "\n")
    if search_query.startswith("fail"):
        raise ToolError("search failed: quota exceeded")
    if search_query.startswith("crash"):
        sys.stderr.write("prime: crashing on purpose\n")
        sys.stderr.flush()
        os._exit(3)
    if search_query.startswith("garbled"):
        return "Service busy, try later"
    results = [
        {"refer": "ref_1", "title": f"{search_query} — the docs", "link": "https://docs.example.org/guide",
         "media": "Example Docs", "content": f"All about {search_query}.", "icon": "https://docs.example.org/i.png",
         "publish_date": "2025-09-30"},
        {"refer": "ref_2", "title": "Release notes", "link": "https://example.org/notes", "media": "",
         "content": "What changed.", "icon": "", "publish_date": ""},
    ]
    return json.dumps(json.dumps(results, ensure_ascii=False))


def main() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    # Listening already: a client that connects now waits in the backlog until uvicorn runs.
    print(f"http://127.0.0.1:{sock.getsockname()[1]}{PATH}", flush=True)
    config = uvicorn.Config(app.streamable_http_app(streamable_http_path=PATH), log_level="warning")
    anyio.run(uvicorn.Server(config).serve, [sock])


if __name__ == "__main__":
    main()
