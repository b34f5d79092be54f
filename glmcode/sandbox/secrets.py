"""Where credentials live: never shown to a sandboxed command, never read by the read tools
unless a rule names them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from glmcode.paths import config_dir, home_dir, state_dir

# Relative to the home folder: keys, tokens and the tools' own logins.
HOME_SECRETS: tuple[str, ...] = (
    ".ssh", ".aws", ".gnupg", ".config/gh", ".config/gcloud", ".azure", ".kube", ".docker",
    ".password-store", ".netrc", ".git-credentials", ".npmrc", ".pypirc", ".pgpass",
    ".config/hub", ".vault-token", ".terraform.d", ".local/share/keyrings",
)


def secret_paths(env: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """Every secret location, as written and (when it is a symlink) where it points; glmcode's
    own config (it may hold the API key) and state (sessions, trusted projects) included."""
    home = home_dir(env)
    found: list[Path] = []
    for path in (*(home / name for name in HOME_SECRETS), config_dir(env), state_dir(env)):
        for form in (path, path.resolve()):
            if form not in found:
                found.append(form)
    return tuple(found)


def secret_holding(path: Path, secrets: tuple[Path, ...]) -> Path | None:
    """The secret location `path` is, or lies inside; None for any other path."""
    for secret in secrets:
        if path == secret or path.is_relative_to(secret):
            return secret
    return None
