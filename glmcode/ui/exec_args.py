"""`glmcode exec` arguments read without typer, for the common case.

Importing typer and building the command tree cost 15-20 ms, as much as the rest of a trivial
turn's own work. `parse` understands the plain spellings of exec's options and returns what
typer would have given the command; for anything else (help, an unknown or misspelt option,
a bad value, a repeated option, `--`, a missing or second prompt) it returns None and typer
reads the arguments, so every message and exit code for bad usage stays typer's.
tests/test_exec_args.py checks the two readings agree.
"""

from __future__ import annotations

from typing import Any

# Long name and short alias -> the command's parameter.
_VALUE = {
    "--output-format": "output_format", "-o": "output_format",
    "--max-turns": "max_turns",
    "--resume": "resume",
    "--model": "model", "-m": "model",
    "--provider": "provider",
    "--base-url": "base_url",
    "--permission-mode": "permission_mode",
    "--add-dir": "add_dir",
    "--cd": "cd", "-C": "cd",
    "--max-tokens": "max_tokens",
    "--output-schema": "output_schema",
    "--schema-retries": "schema_retries",
    "--output-last-message": "output_last_message",
    "--sandbox": "sandbox",
    "--mcp-config": "mcp_config",
    "--image": "image",
}
_FLAGS = {
    "--verbose": ("verbose", True), "-v": ("verbose", True),
    "--full-auto": ("full_auto", True),
    "--thinking": ("thinking", True), "--no-thinking": ("thinking", False),
    "--json": ("json_answer", True),
    "--no-web": ("no_web", True),
}
_INTS = {"max_turns": 1, "max_tokens": None, "schema_retries": 0}  # parameter -> its minimum
_OUTPUT_FORMATS = ("text", "json", "stream-json")


def defaults() -> dict[str, Any]:
    return {
        "prompt": None, "output_format": "text", "verbose": False, "max_turns": None, "resume": None,
        "model": None, "provider": None, "base_url": None, "permission_mode": None,
        "full_auto": False, "add_dir": [], "cd": None, "max_tokens": None, "thinking": None,
        "output_schema": None, "json_answer": False, "schema_retries": None, "output_last_message": None,
        "no_web": False,
        "sandbox": None,
        "mcp_config": [],
        "image": [],
    }


def parse(args: list[str]) -> dict[str, Any] | None:
    """The parameters of `exec` from the words after it, or None to leave them to typer."""
    params = defaults()
    seen: set[str] = set()
    words = iter(args)
    for word in words:
        if word.startswith("-") and word != "-":
            name, eq, value = word.partition("=")
            if name in _FLAGS and not eq:
                key, flag = _FLAGS[name]
                if key in seen:
                    return None
                seen.add(key)
                params[key] = flag
                continue
            if name not in _VALUE or (eq and not name.startswith("--")):
                return None
            key = _VALUE[name]
            if not eq:
                value = next(words, None)
                if value is None or (value.startswith("-") and value != "-"):
                    return None
            if key in ("add_dir", "mcp_config", "image"):
                params[key].append(value)
                continue
            if key in seen or not _accept(params, key, value):
                return None
            seen.add(key)
        elif params["prompt"] is None:
            params["prompt"] = word
        else:
            return None
    return params if params["prompt"] is not None else None


def _accept(params: dict[str, Any], key: str, value: str) -> bool:
    if key in _INTS:
        if not value.isascii() or not value.isdigit():
            return False
        number = int(value)
        minimum = _INTS[key]
        if minimum is not None and number < minimum:
            return False
        params[key] = number
        return True
    if key == "output_format" and value not in _OUTPUT_FORMATS:
        return False
    params[key] = value
    return True
