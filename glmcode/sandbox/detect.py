"""Whether this machine can sandbox commands: bubblewrap that can make namespaces on Linux,
`sandbox-exec` on macOS. The answer says why not, in words a user can act on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from glmcode.sandbox.seatbelt import SANDBOX_EXEC

INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: "
                "sudo dnf install bubblewrap; Arch: sudo pacman -S bubblewrap)")
# The probe is the smallest sandbox glmcode makes: it fails where the real one would.
_PROBE = ("--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid",
          "--unshare-net", "--die-with-parent", "true")


@dataclass(frozen=True)
class Availability:
    tool: str | None  # "bwrap" or "sandbox-exec"; None when there is no sandbox
    path: str = ""
    reason: str = ""  # why there is none


def detect(env: Mapping[str, str] | None = None, platform: str = sys.platform) -> Availability:
    env = os.environ if env is None else env
    if platform == "darwin":
        if Path(SANDBOX_EXEC).exists():
            return Availability("sandbox-exec", SANDBOX_EXEC)
        return Availability(None, reason=f"{SANDBOX_EXEC} is missing")
    if not platform.startswith("linux"):
        return Availability(None, reason=f"glmcode has no sandbox for {platform}")
    bwrap = shutil.which("bwrap", path=env.get("PATH", os.defpath))
    if bwrap is None:
        return Availability(None, reason=f"bwrap was not found on PATH; {INSTALL_HINT}")
    return _probe(bwrap)


def _probe(bwrap: str) -> Availability:
    try:
        done = subprocess.run([bwrap, *_PROBE], stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Availability(None, reason=f"{bwrap} could not run: {exc}")
    if done.returncode == 0:
        return Availability("bwrap", bwrap)
    said = done.stderr.decode("utf-8", "replace").strip().splitlines()
    why = said[-1] if said else f"exit code {done.returncode}"
    return Availability(None, reason=(
        f"bwrap cannot create namespaces here ({why}); user namespaces may be disabled "
        "(sysctl kernel.unprivileged_userns_clone, or an AppArmor restriction)"))
