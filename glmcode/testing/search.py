"""The fake server's Web Search route: POST `{base_url}/web_search`, answered from a list of
scripted searches, one per request, checked the way the real API checks its body.

    FakeGLM(turns, searches=[search([result("Title", "https://example.com/", "Summary")])])

A search is `{"results": [...]}` (each result with title, link, content and optionally media,
publish_date, icon, refer), or `{"error": {"status", "code", "message"}}`, like a turn's error.
In a script file they go beside the turns: `{"turns": [...], "searches": [...]}`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from glmcode.testing.answer import JSON_TYPE, Answer, error_answer
from glmcode.testing.replies import encode_json
from glmcode.testing.script import ScriptError

ENDPOINT = "/web_search"
ENGINES = frozenset({"search-prime", "search_std", "search_pro", "search_pro_sogou",
                     "search_pro_quark", "search_pro_jina"})
RECENCY = frozenset({"oneDay", "oneWeek", "oneMonth", "oneYear", "noLimit"})
_RESULT_KEYS = frozenset({"title", "link", "content", "media", "publish_date", "icon", "refer"})
_ERROR_KEYS = frozenset({"status", "code", "message"})


def result(
    title: str, link: str, content: str = "", *, media: str = "", publish_date: str = ""
) -> dict[str, str]:
    """One search result as the API sends it."""
    out = {"title": title, "link": link, "content": content}
    if media:
        out["media"] = media
    if publish_date:
        out["publish_date"] = publish_date
    return out


def search(results: list[dict[str, str]]) -> dict[str, Any]:
    """A scripted search answering with these results."""
    return check_search({"results": results})


def search_error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message}}


def load_searches(script: Any) -> list[dict[str, Any]]:
    """The searches of a script given as a dict or a JSON file path; none for a plain list."""
    if isinstance(script, (str, os.PathLike)):
        try:
            script = json.loads(Path(script).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ScriptError(f"cannot read script {script}: {exc}") from exc
    if not isinstance(script, dict):
        return []
    searches = script.get("searches", [])
    if not isinstance(searches, list):
        raise ScriptError('"searches" must be a list of searches')
    return [check_search(s, where=f"search {n}") for n, s in enumerate(searches, 1)]


def check_search(entry: Any, where: str = "search") -> dict[str, Any]:
    if not isinstance(entry, dict) or set(entry) - {"results", "error"} or len(entry) != 1:
        raise ScriptError(f'{where}: a search is {{"results": [...]}} or {{"error": {{...}}}}')
    if "error" in entry:
        error = entry["error"]
        if not isinstance(error, dict) or set(error) - _ERROR_KEYS:
            raise ScriptError(f"{where}: error takes only {sorted(_ERROR_KEYS)}")
        return dict(entry)
    results = entry["results"]
    if not isinstance(results, list):
        raise ScriptError(f"{where}: results must be a list")
    for n, item in enumerate(results):
        if not isinstance(item, dict) or set(item) - _RESULT_KEYS or not all(
            isinstance(v, str) for v in item.values()
        ):
            raise ScriptError(f"{where}: results[{n}] takes string values of {sorted(_RESULT_KEYS)}")
    return dict(entry)


def body_error(body: Any) -> Answer | None:
    """The API's answer to a body it would refuse, None for a good one."""
    if not isinstance(body, dict):
        return error_answer(400, "1210", "fake GLM: the request body is not a JSON object")
    query = body.get("search_query")
    if not isinstance(query, str) or not query.strip():
        return error_answer(400, "1214", "fake GLM: search_query is required")
    if body.get("search_engine") not in ENGINES:
        return error_answer(400, "1214", f"fake GLM: unknown search_engine {body.get('search_engine')!r}")
    count = body.get("count", 10)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 50:
        return error_answer(400, "1214", "fake GLM: count must be a whole number from 1 to 50")
    recency = body.get("search_recency_filter", "noLimit")
    if recency not in RECENCY:
        return error_answer(400, "1214", f"fake GLM: unknown search_recency_filter {recency!r}")
    return None


def search_answer(entry: dict[str, Any], body: dict[str, Any], number: int) -> Answer:
    if "error" in entry:
        error = entry["error"]
        return error_answer(int(error.get("status", 500)), str(error.get("code", "500")),
                            str(error.get("message", "fake GLM: scripted search error")))
    results = entry["results"][: body.get("count", 10)]
    payload = {
        "id": f"search-{number}",
        "created": 1_700_000_000 + number,
        "request_id": str(body.get("request_id") or f"search-{number}"),
        "search_intent": [{"query": body["search_query"], "intent": "SEARCH_ALL",
                           "keywords": body["search_query"]}],
        "search_result": results,
    }
    return Answer(200, JSON_TYPE, (encode_json(payload).encode(),))
