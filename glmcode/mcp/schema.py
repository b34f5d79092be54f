"""A server's input schema in the form GLM's function declarations accept: an object at the
top, local `$ref`s written out, and the keywords that only describe the schema itself left
out. A schema that refers to itself (a tree of nodes, say) is written out once and cut to the
bare type where it repeats, as is one nested beyond any reason. A schema that cannot be made so is refused, with the reason, and its
tool left out."""

from __future__ import annotations

from typing import Any

_META_KEYS = frozenset({"$schema", "$id", "$comment", "$defs", "definitions", "$anchor"})
# Keywords whose value maps names of the user's choosing (arguments) to schemas.
_NAMED = frozenset({"properties", "patternProperties", "dependentSchemas"})
_MAX_DEPTH = 12
_CUT_NOTE = "(nested further; the same shape as above)"


class SchemaRefused(ValueError):
    """The schema cannot be offered to the model; the message says why."""


def for_glm(schema: Any) -> dict[str, Any]:
    if not isinstance(schema, dict):
        raise SchemaRefused("its input schema is not a JSON object")
    defs = {**_dict(schema.get("definitions")), **_dict(schema.get("$defs"))}
    out = _clean(schema, defs, 0, ())
    if "type" not in out and ("properties" in out or not out):
        out["type"] = "object"
    if out.get("type") != "object":
        raise SchemaRefused(f"its input schema describes {out.get('type', 'no type')!s}, not an object of arguments")
    out.setdefault("properties", {})
    return out


def _clean(node: Any, defs: dict[str, Any], depth: int, expanding: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_clean(item, defs, depth + 1, expanding) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        merged = {**_resolve(ref, defs), **{k: v for k, v in node.items() if k != "$ref"}}
        if ref in expanding or depth > _MAX_DEPTH:
            return _cut(merged)
        return _clean(merged, defs, depth + 1, (*expanding, ref))
    if depth > _MAX_DEPTH:
        return _cut(node)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _META_KEYS:
            continue
        if key in _NAMED and isinstance(value, dict):
            out[key] = {name: _clean(sub, defs, depth + 1, expanding) for name, sub in value.items()}
        else:
            out[key] = _clean(value, defs, depth + 1, expanding)
    return out


def _cut(node: dict[str, Any]) -> dict[str, Any]:
    """The node's type and description alone, where writing it out would go on for ever."""
    kind = node.get("type", "object" if "properties" in node else None)
    cut: dict[str, Any] = {} if kind is None else {"type": kind}
    described = node.get("description")
    cut["description"] = f"{described} {_CUT_NOTE}" if isinstance(described, str) else _CUT_NOTE
    return cut


def _resolve(ref: str, defs: dict[str, Any]) -> dict[str, Any]:
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix) and ref[len(prefix):] in defs:
            target = defs[ref[len(prefix):]]
            if isinstance(target, dict):
                return target
    raise SchemaRefused(f"its input schema refers to {ref}, which glmcode cannot write out")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
