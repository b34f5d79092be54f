"""Where credentials live: never shown to a sandboxed command, never read by the read tools
unless a rule names them."""

from __future__ import annotations

import os
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


# Sockets a command could use to leave the sandbox: a container engine runs whatever it is
# asked to as root, and the session's runtime folder holds the keyring's, the ssh and gpg
# agents' and the desktop bus's sockets. A read-only mount does not stop a connect().
ENGINE_SOCKETS: tuple[str, ...] = (
    "/run/docker.sock", "/var/run/docker.sock", "/run/podman/podman.sock",
    "/run/containerd/containerd.sock", "/run/crio/crio.sock",
)


def socket_paths(env: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """The sockets hidden from sandboxed commands, as written and as they resolve."""
    runtime = (env if env is not None else os.environ).get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    found: list[Path] = []
    for path in (*(Path(p) for p in ENGINE_SOCKETS), Path(runtime)):
        for form in (path, path.resolve()):
            if form not in found:
                found.append(form)
    return tuple(found)

