"""A pids cgroup for one command: the kernel refuses a fork past its `pids.max`. Root is
exempt from the per-user process limit, so for root this is the bound that holds; it needs a
cgroup folder glmcode may write (cgroup v1's pids hierarchy, or v2 with pids delegated)."""

from __future__ import annotations

import os
import secrets
import signal
import time
from collections.abc import Sequence
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _own_paths(self_cgroup: Path = Path("/proc/self/cgroup")) -> list[Path]:
    """Folders under which a child cgroup with a pids limit may be made: the pids (v1) and
    the unified (v2) hierarchy's folders of this process."""
    try:
        lines = self_cgroup.read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        rel = path.lstrip("/")
        if "pids" in controllers.split(","):
            found.append(CGROUP_ROOT / "pids" / rel)
        elif controllers == "" and (CGROUP_ROOT / "cgroup.controllers").exists():
            found.append(CGROUP_ROOT / rel)
    return found


class PidsCgroup:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, limit: int) -> PidsCgroup | None:
        """A new cgroup holding at most `limit` processes, or None where none can be made."""
        for parent in _own_paths():
            if not os.access(parent, os.W_OK):
                continue
            path = parent / f"glmcode-{os.getpid()}-{secrets.token_hex(4)}"
            try:
                path.mkdir()
            except OSError:
                continue
            try:
                (path / "pids.max").write_text(str(limit))
                return cls(path)
            except OSError:
                path.rmdir()
        return None

    def enter(self, argv: Sequence[str]) -> list[str]:
        """`argv`, started from inside the cgroup: the shell moves itself in, then becomes
        the command, so nothing it starts is ever outside."""
        procs = str(self.path / "cgroup.procs")
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', procs, *argv]

    def remove(self, grace: float = 1.0) -> None:
        """Kills whatever is left inside, then removes the cgroup. Right after the command
        ends its last processes may still be on their way out (a sandbox's own processes go
        when its first one does, a moment later), so the folder may need a few tries."""
        give_up = time.monotonic() + grace
        while not self._try_remove() and time.monotonic() < give_up:
            time.sleep(0.001)

    def _try_remove(self) -> bool:
        for pid in self._pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.path.rmdir()
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return True

    def _pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []
