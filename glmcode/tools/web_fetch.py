"""The web_fetch tool: a page by URL, as Markdown or text, or a cheap model's answer about it."""

from __future__ import annotations

from typing import Any

from glmcode.tools.base import Param, Tool, ToolContext, ToolError, ToolResult, description_beside

# What the session file and the screen keep of a page: enough for anyone to read, not a
# multi-megabyte line in the transcript.
KEPT_CHARS = 200_000
NOT_SET_UP = "the web tools are off in this run (they are turned off by --no-web or web = false)"


def run(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    from glmcode.web.errors import WebError
    from glmcode.web.untrusted import cut, cut_note, fenced

    web = ctx.web
    if web is None:
        raise ToolError(f"web_fetch: {NOT_SET_UP}")
    prompt = (args["prompt"] or "").strip()
    try:
        page, cached = web.fetch(args["url"])
        if page.moved_to is not None:
            text = (
                f"{page.final_url} redirects to {page.moved_to}, on another host, which was not "
                "followed. To read it, call web_fetch with that URL."
            )
            return ToolResult(text, data={"url": page.url, "moved_to": page.moved_to})
        assert page.text is not None
        body = page.text.text
        head = _head(page.final_url, page.url, page.text.title, page.text.kind, len(body), cached)
        data: dict[str, Any] = {"url": page.url, "final_url": page.final_url, "chars": len(body),
                                "content_type": page.content_type, "cached": cached}
        if prompt:
            answer = web.ask(body, prompt, page.final_url)
            data.update(model=answer.model, cost_usd=round(answer.cost_usd, 6),
                        usage={"prompt_tokens": answer.usage.prompt_tokens,
                               "completion_tokens": answer.usage.completion_tokens})
            said = f"{head}\n{answer.model} answered the prompt {prompt!r} from the page"
            if answer.page_cut:
                said += " (the page was too long for it; it read the first 200,000 characters)"
            text = f"{said}:\n{fenced('web_page_answer', page.final_url, answer.text)}"
            return ToolResult(text, data=data)
    except WebError as exc:
        raise ToolError(f"web_fetch: {exc}") from None
    shown, left_out = cut(body)
    for_model = f"{head}\n{fenced('web_page', page.final_url, shown)}"
    if left_out:
        for_model += "\n" + cut_note(left_out, len(body))
    kept, dropped = cut(body, KEPT_CHARS)
    whole = f"{head}\n{kept}" + (f"\n{cut_note(dropped, len(body))}" if dropped else "")
    return ToolResult(whole, model_output=None if for_model == whole else for_model, data=data)


def _head(final_url: str, url: str, title: str, kind: str, chars: int, cached: bool) -> str:
    where = final_url if final_url == url else f"{final_url} (redirected from {url})"
    what = {"markdown": "HTML as Markdown", "json": "JSON", "text": "text"}[kind]
    named = f" \u201c{title}\u201d" if title else ""
    again = ", from this session's cache" if cached else ""
    return f"Fetched {where}{named}: {what}, {chars:,} characters{again}."


TOOL = Tool(
    name="web_fetch",
    description=description_beside(__file__, "web_fetch"),
    params=(
        Param("url", "string", "The http:// or https:// URL of the page."),
        Param(
            "prompt", "string",
            "What to find in the page; a smaller model reads it and answers. Leave out to get "
            "the page itself.",
            required=False,
        ),
    ),
    kind="web",
    run=run,
    preview=lambda args, ctx: f"prompt: {args['prompt']}" if args.get("prompt") else "",
)
