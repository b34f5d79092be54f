"""A server's input schema in the form GLM's function declarations accept: an object at the
top, local `$ref`s written out, and the keywords that only describe the schema itself left
out. A schema that cannot be made so is refused, with the reason, and its tool left out."""

from __future__ import annotations

from typing import Any

_META_KEYS = frozenset({"$schema", "$id", "$comment", "$defs", "definitions", "$anchor"})
_MAX_DEPTH = 12


class SchemaRefused(ValueError):
    """The schema cannot be offered to the model; the message says why."""


def for_glm(schema: Any) -> dict[str, Any]:
    if not isinstance(schema, dict):
        raise SchemaRefused("its input schema is not a JSON object")
    defs = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    out = _clean(schema, defs, 0)
    if "type" not in out and ("properties" in out or not out):
        out["type"] = "object"
    if out.get("type") != "object":
        raise SchemaRefused(f"its input schema describes {out.get('type', 'no type')!s}, not an object of arguments")
    out.setdefault("properties", {})
    return out


def _clean(node: Any, defs: dict[str, Any], depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise SchemaRefused("its input schema nests too deeply (or refers to itself)")
    if isinstance(node, list):
        return [_clean(item, defs, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = _resolve(ref, defs)
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _clean(merged, defs, depth + 1)
    return {k: _clean(v, defs, depth + 1) for k, v in node.items() if k not in _META_KEYS}


def _resolve(ref: str, defs: dict[str, Any]) -> dict[str, Any]:
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix) and ref[len(prefix):] in defs:
            target = defs[ref[len(prefix):]]
            if isinstance(target, dict):
                return target
    raise SchemaRefused(f"its input schema refers to {ref}, which glmcode cannot write out")
