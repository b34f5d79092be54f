"""A fetched body as text the model can read: HTML as Markdown, plain text, Markdown, JSON and
XML as they are; anything else is refused with its type named.

HTML goes through html-to-markdown (a Rust converter): it loads in about 45 ms, converts a
page in a millisecond or two, keeps headings, lists, tables and the language of code blocks,
and drops scripts, styles, navigation and forms. It is imported only when a page is converted.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass

from glmcode.web.errors import WebError

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset({"application/json", "application/xml", "application/javascript",
                         "application/x-yaml", "application/yaml", "application/toml"})
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
# Parts of a page around its content that repeat on every page of a site.
_CHROME = ["nav", "aside", "footer", "[role=navigation]", "[role=contentinfo]", "[role=search]"]


@dataclass(frozen=True)
class PageText:
    kind: str  # "markdown" (from HTML), "text" or "json"
    title: str
    text: str


@dataclass(frozen=True)
class Page:
    """A page as the web tools hand it on: where it was asked for and where it was found,
    its text, or the URL on another host it moved to (which was not followed)."""

    url: str
    final_url: str
    content_type: str
    text: PageText | None
    moved_to: str | None = None


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def to_text(body: bytes, content_type: str, url: str) -> PageText:
    kind = media_type(content_type) or _sniff(body)
    if kind in _HTML_TYPES:
        page = _decode(body, content_type, sniff_meta=True)
        return PageText("markdown", _title(page), html_to_markdown(page, url))
    if kind.endswith("+json") or kind == "application/json":
        return PageText("json", "", _json_text(_decode(body, content_type)))
    if kind.startswith("text/") or kind in _TEXT_TYPES or kind.endswith("+xml"):
        return PageText("text", "", _decode(body, content_type))
    raise WebError(
        f"{url} is {kind}, which web_fetch does not read (it reads HTML, text, Markdown, JSON "
        "and XML)"
    )


def html_to_markdown(page: str, base_url: str = "") -> str:
    from html_to_markdown import ConversionOptions, convert

    options = ConversionOptions(
        extract_metadata=False, exclude_selectors=list(_CHROME), base_url=base_url or None
    )
    return str(convert(page, options).content).strip() + "\n"


def _sniff(body: bytes) -> str:
    """A type for a body sent without one: HTML or text when it looks like them."""
    head = body[:1024].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    if b"\x00" in body[:8192]:
        return "application/octet-stream"
    try:
        body[:8192].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < 8188:  # not just a character cut at the end of the sample
            return "application/octet-stream"
    return "text/plain"


def _decode(body: bytes, content_type: str, *, sniff_meta: bool = False) -> str:
    charset = ""
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'")
    if not charset and sniff_meta:
        found = _CHARSET.search(body[:4096])
        charset = found.group(1).decode("ascii", "replace") if found else ""
    try:
        return body.decode(charset or "utf-8", errors="replace").removeprefix("\ufeff")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", errors="replace")


def _title(page: str) -> str:
    found = _TITLE.search(page[:65536])
    return " ".join(html.unescape(found.group(1)).split()) if found else ""


def _json_text(text: str) -> str:
    """JSON as sent; one long line is laid out so it can be read and cut between lines."""
    if "\n" in text.strip():
        return text
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
    except ValueError:
        return text
