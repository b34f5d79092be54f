"""Where glmcode's API key lives in the environment, and an environment without it.

No program glmcode starts needs the key: the model's shell commands, a fix check, git, hooks.
One that prints its environment (`env`, a failing test's dump) would hand the key to the model
and the logs, so every child process gets `child_env`."""

from __future__ import annotations

import os
from collections.abc import Mapping

# The variables glmcode reads its API key from (config.layers reads them in this order).
KEY_VARIABLES = ("GLMCODE_API_KEY", "ZAI_API_KEY")


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """glmcode's own environment with `extra` on top and the API key variables taken out."""
    env = {**os.environ, **(extra or {})}
    for name in KEY_VARIABLES:
        env.pop(name, None)
    return env
