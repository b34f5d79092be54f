"""What each setting accepts, whichever layer gives it: one check per setting, which returns
the value in the form glmcode uses or raises `Invalid` saying what was expected."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from glmcode.llm.catalog import PROVIDERS
from glmcode.permissions.modes import MODES
from glmcode.permissions.rules import Rule
from glmcode.sandbox.policy import SANDBOX_MODES


class Invalid(ValueError):
    """A value of the right key but the wrong shape; the loader adds where it was."""


def show(value: Any) -> str:
    """`value` as it would be written in TOML, or what kind of thing it is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return str(value)


def _choice(name: str, allowed: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if isinstance(value, str) and value.strip() in allowed:
            return value.strip()
        import difflib

        close = difflib.get_close_matches(str(value), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise Invalid(f"expected a {name}: one of {', '.join(allowed)}; got {show(value)}{hint}")

    return check


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"expected a non-empty string, got {show(value)}")
    return value.strip()


def _url(value: Any) -> str:
    text = _text(value)
    if not re.match(r"https?://[^/\s]+", text):
        raise Invalid(f"expected an http:// or https:// URL, got {show(value)}")
    return text.rstrip("/")


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise Invalid(f"expected a whole number above 0, got {show(value)}")
    return value


def _positive_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise Invalid(f"expected a number of seconds above 0, got {show(value)}")
    return float(value)


def _temperature(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise Invalid(f"expected a number between 0 and 1, got {show(value)}")
    return float(value)


def _share(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise Invalid(f"expected a share of the context window above 0 and at most 1 (0.8 is 80 %), got {show(value)}")
    return float(value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"expected true or false, got {show(value)}")
    return value


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        raise Invalid(f"expected a list of strings, got {show(value)}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise Invalid(f"expected a list of non-empty strings, found {show(item)}")
    return tuple(item.strip() for item in value)


def _rules(value: Any) -> tuple[str, ...]:
    out = []
    for text in _strings(value):
        try:
            out.append(str(Rule.parse(text)))
        except ValueError as exc:
            raise Invalid(str(exc)) from None
    return tuple(out)


VALIDATORS: Mapping[str, Callable[[Any], Any]] = MappingProxyType({
    "api_key": _text,
    "provider": _choice("provider", tuple(PROVIDERS)),
    "base_url": _url,
    "model": _text,
    "max_tokens": _positive_int,
    "temperature": _temperature,
    "thinking": _boolean,
    "timeout": _positive_number,
    "compact_threshold": _share,
    "permission_mode": _choice("permission mode", MODES),
    "notify": _choice("notify setting", ("bell", "osc9", "off")),
    "vision_model": _text,
    "image_mode": _choice("image mode", ("describe", "native")),
    "allow": _rules,
    "deny": _rules,
    "add_dirs": _strings,
    "web": _boolean,
    "web_fetch_model": _text,
    "max_subagents": _positive_int,
    "subagent_max_turns": _positive_int,
    "sandbox": _choice("sandbox mode", SANDBOX_MODES),
    "sandbox_network": _boolean,
    "command_timeout": _positive_number,
    "command_max_output": _positive_int,
    "command_max_processes": _positive_int,
})
