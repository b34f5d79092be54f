"""Which project folders the user has trusted to widen their own permissions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from glmcode.config.errors import ConfigError
from glmcode.config.files import read_text
from glmcode.paths import trust_file


def _trusted_roots(path: Path) -> list[str]:
    text = read_text(path)
    if text is None:
        return []
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"is not valid JSON ({exc}); fix or delete it", path=path) from None
    roots = data.get("trusted") if isinstance(data, dict) else None
    if not isinstance(roots, list) or not all(isinstance(r, str) for r in roots):
        raise ConfigError('expected {"trusted": ["/path", ...]}; fix or delete it', path=path)
    return roots


def _root_key(root: Path) -> str:
    return str(Path(root).expanduser().resolve())


# How every message about a project entry held back for trust ends, so `glmcode trust` can
# list those entries once they apply.
UNTIL_TRUSTED = "until you run `glmcode trust`"


def is_trusted(root: Path, env: Mapping[str, str] | None = None) -> bool:
    return _root_key(root) in _trusted_roots(trust_file(env))


def trust_project(root: Path, env: Mapping[str, str] | None = None) -> None:
    """Remember that `root`'s own config may widen permissions. The file is replaced in one
    step, so a crash never leaves it half written."""
    path = trust_file(env)
    roots = _trusted_roots(path)
    key = _root_key(root)
    if key in roots:
        return
    roots.append(key)
    from glmcode.atomic import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"trusted": roots}, indent=2) + "\n"
    # Only the user may change which projects are allowed to widen their own permissions.
    write_atomic(path, text.encode("utf-8"), mode=0o600)
