"""What a tool call acts on, as permission rules see it."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

SHELL_TOOL = "run_shell"
WEB_TOOL = "web_fetch"

_PATCH_PATH = re.compile(r"^\*\*\* (?:Add File|Update File|Delete File|Move to): (.+?)\s*$",
                         re.MULTILINE)


def call_paths(tool_name: str, args: Mapping[str, Any]) -> list[str]:
    if tool_name == "apply_patch":
        patch = args.get("patch")
        return _PATCH_PATH.findall(patch) if isinstance(patch, str) else []
    path = args.get("path")
    return [path] if isinstance(path, str) and path else []


def names_inward_host(args: Mapping[str, Any]) -> bool:
    """Whether a web_fetch call names this machine or a private network outright (`localhost`,
    a loopback, private or link-local address): such a host opens only to an allow rule naming
    it, in every mode, so no mode is worth suggesting. Names that resolve inwards are found only
    when the fetch connects."""
    host = call_host(args)
    if host is None:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return not ip.is_global


def call_host(args: Mapping[str, Any]) -> str | None:
    """The host a web_fetch call reaches, lower-case and without the port."""
    url = args.get("url")
    if not isinstance(url, str):
        return None
    try:
        return urlsplit(url.strip()).hostname or None
    except ValueError:
        return None
