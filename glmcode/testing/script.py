"""The script a fake GLM server plays: an ordered list of turns, one per request.

A turn is a plain dict (so a script can live in a JSON file) or a callable that receives the
request body and returns such a dict. This module loads and checks scripts and offers small
helpers to write turns in Python.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Union

TurnDict = dict[str, Any]
Turn = Union[TurnDict, Callable[[dict], TurnDict]]

_TEXT_KEYS = ("reasoning", "content")
_STR_KEYS = ("finish_reason", "model", "id", "sse_file", "response_file")
_COUNT_KEYS = ("cut_after", "malformed_at")
_SECONDS_KEYS = ("delay", "first_byte_delay")
_USAGE_KEYS = frozenset({"prompt_tokens", "completion_tokens", "cached_tokens"})
_CALL_KEYS = frozenset({"name", "arguments", "id"})
_ERROR_KEYS = frozenset({"status", "code", "message", "retry_after"})
_STREAM_ERROR_KEYS = frozenset({"code", "message"})
TURN_KEYS = frozenset(
    {
        *_TEXT_KEYS,
        *_STR_KEYS,
        *_COUNT_KEYS,
        *_SECONDS_KEYS,
        "tool_calls",
        "usage",
        "created",
        "error",
        "stream_error",
        "by_model",
    }
)


class ScriptError(ValueError):
    """A script or a turn is not in the documented format."""


def load_script(script: Any) -> list[Turn]:
    """Turns from a dict `{"turns": [...]}`, a plain list of turns, or a path to a JSON file
    holding either. Relative `sse_file` / `response_file` paths in a file are resolved against
    the file's folder, so a script and its recordings can travel together."""
    base: Path | None = None
    if isinstance(script, (str, os.PathLike)):
        path = Path(script)
        try:
            script = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ScriptError(f"cannot read script {path}: {exc}") from exc
        base = path.resolve().parent
    if isinstance(script, dict):
        extra = set(script) - {"turns", "searches"}
        if extra or "turns" not in script:
            raise ScriptError('a script dict must be {"turns": [...]}, with "searches" beside it at most')
        script = script["turns"]
    if not isinstance(script, (list, tuple)):
        raise ScriptError("a script is a list of turns, {\"turns\": [...]}, or a JSON file path")
    turns: list[Turn] = []
    for number, turn in enumerate(script, 1):
        if callable(turn):
            turns.append(turn)
        else:
            turns.append(check_turn(turn, where=f"turn {number}", base=base))
    return turns


def check_turn(turn: Any, where: str = "turn", base: Path | None = None) -> TurnDict:
    """Validate one turn dict and return a copy with file paths made absolute."""
    if not isinstance(turn, dict):
        raise ScriptError(f"{where}: a turn is a dict, not {type(turn).__name__}")
    unknown = set(turn) - TURN_KEYS
    if unknown:
        raise ScriptError(
            f"{where}: unknown key(s) {sorted(unknown)}; known keys: {sorted(TURN_KEYS)}"
        )
    if "by_model" in turn:
        return _check_by_model(turn, where, base)
    for key in _TEXT_KEYS:
        value = turn.get(key)
        if value is None or isinstance(value, str):
            continue
        if not (isinstance(value, list) and all(isinstance(p, str) for p in value)):
            raise ScriptError(f"{where}: {key} must be a string or a list of strings")
    for key in _STR_KEYS:
        if key in turn and not isinstance(turn[key], str):
            raise ScriptError(f"{where}: {key} must be a string")
    for key in _COUNT_KEYS:
        if key in turn and not _is_count(turn[key]):
            raise ScriptError(f"{where}: {key} must be a non-negative integer")
    for key in _SECONDS_KEYS:
        if key in turn and not _is_seconds(turn[key]):
            raise ScriptError(f"{where}: {key} must be a non-negative number of seconds")
    if "created" in turn and not _is_count(turn["created"]):
        raise ScriptError(f"{where}: created must be a Unix timestamp (integer)")
    _check_tool_calls(turn.get("tool_calls"), where)
    _check_keys(turn.get("usage"), _USAGE_KEYS, f"{where}: usage", _is_count)
    _check_keys(turn.get("error"), _ERROR_KEYS, f"{where}: error")
    _check_keys(turn.get("stream_error"), _STREAM_ERROR_KEYS, f"{where}: stream_error")
    checked = dict(turn)
    for key in ("sse_file", "response_file"):
        if key in checked and base is not None:
            checked[key] = str(base / checked[key])
    return checked


def _check_by_model(turn: dict[str, Any], where: str, base: Path | None) -> TurnDict:
    """`{"by_model": {"glm-4.6v": {...}, "*": {...}}}`: the turn played depends on the model
    the request names ("*" for any other)."""
    choices = turn["by_model"]
    if set(turn) != {"by_model"} or not isinstance(choices, dict) or not choices:
        raise ScriptError(f"{where}: by_model must be the turn's only key, a dict of model name -> turn")
    return {"by_model": {
        str(model): check_turn(choice, where=f"{where}, by_model[{model!r}]", base=base)
        for model, choice in choices.items()
    }}


def pick_for_model(turn: TurnDict, body: dict[str, Any]) -> TurnDict | None:
    """The turn to play for this request: itself, or its `by_model` choice for the request's
    model; None when no choice fits."""
    choices = turn.get("by_model")
    if choices is None:
        return turn
    model = str(body.get("model", ""))
    return choices.get(model, choices.get("*"))


def _check_tool_calls(calls: Any, where: str) -> None:
    if calls is None:
        return
    if not isinstance(calls, list):
        raise ScriptError(f"{where}: tool_calls must be a list")
    for n, call in enumerate(calls):
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise ScriptError(f"{where}: tool_calls[{n}] needs a string name")
        if set(call) - _CALL_KEYS:
            raise ScriptError(f"{where}: tool_calls[{n}] takes only {sorted(_CALL_KEYS)}")
        if not isinstance(call.get("arguments", {}), (dict, str)):
            raise ScriptError(f"{where}: tool_calls[{n}].arguments must be a dict or a string")
        if "id" in call and not isinstance(call["id"], str):
            raise ScriptError(f"{where}: tool_calls[{n}].id must be a string")


def _check_keys(
    value: Any, allowed: frozenset[str], where: str, valid: Callable[[Any], bool] | None = None
) -> None:
    if value is None:
        return
    if not isinstance(value, dict) or set(value) - allowed:
        raise ScriptError(f"{where} must be a dict with keys among {sorted(allowed)}")
    if valid is not None and not all(valid(v) for v in value.values()):
        raise ScriptError(f"{where} values must be non-negative integers")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_seconds(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def reply(
    content: str | list[str] | None = None,
    *,
    reasoning: str | list[str] | None = None,
    tool_calls: list[dict] | None = None,
    **options: Any,
) -> TurnDict:
    """A turn that answers with optional reasoning, content and tool calls; any other turn key
    (finish_reason, usage, delay, cut_after, ...) may be passed as a keyword."""
    turn: TurnDict = dict(options)
    if reasoning is not None:
        turn["reasoning"] = reasoning
    if content is not None:
        turn["content"] = content
    if tool_calls is not None:
        turn["tool_calls"] = tool_calls
    return check_turn(turn)


def tool_call(name: str, arguments: dict | str | None = None, id: str | None = None) -> dict:
    """One entry of a turn's `tool_calls`; a string `arguments` is sent verbatim."""
    call: dict[str, Any] = {"name": name, "arguments": {} if arguments is None else arguments}
    if id is not None:
        call["id"] = id
    return call


def http_error(
    status: int, code: str, message: str, retry_after: float | None = None
) -> TurnDict:
    """A turn that answers an HTTP error with GLM's error body."""
    error: dict[str, Any] = {"status": status, "code": code, "message": message}
    if retry_after is not None:
        error["retry_after"] = retry_after
    return {"error": error}
