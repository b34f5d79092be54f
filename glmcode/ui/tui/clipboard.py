"""Ctrl-V with an image on the clipboard: the image is saved under the state folder and its
path goes into the prompt as an `@` mention, which the user can see, edit or delete like any
other text before sending."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from glmcode.images.store import images_dir

# (program, arguments that print the clipboard's PNG on stdout), in the order tried.
_READERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("wl-paste", ("--no-newline", "--type", "image/png")),
    ("xclip", ("-selection", "clipboard", "-target", "image/png", "-out")),
)
_MAC_SCRIPT = (
    'set f to open for access POSIX file "{path}" with write permission\n'
    "write (the clipboard as «class PNGf») to f\nclose access f"
)


class ClipboardError(Exception):
    """No image could be taken from the clipboard; the message says why and what to do."""


def paste_image(env: Mapping[str, str] | None = None) -> Path:
    """The clipboard's image saved as a PNG file; its path."""
    folder = images_dir(env) / "pasted"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / time.strftime("pasted-%Y%m%d-%H%M%S.png")
    if sys.platform == "darwin" and shutil.which("osascript"):
        done = subprocess.run(["osascript", "-e", _MAC_SCRIPT.format(path=target)], capture_output=True, timeout=10)
        if done.returncode == 0 and target.exists() and target.stat().st_size:
            return target
        raise ClipboardError("the clipboard holds no image")
    for program, args in _READERS:
        found = shutil.which(program)
        if found is None:
            continue
        try:
            done = subprocess.run([found, *args], capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ClipboardError(f"{program} failed: {exc}") from None
        if done.returncode == 0 and done.stdout:
            target.write_bytes(done.stdout)
            return target
        raise ClipboardError("the clipboard holds no image")
    raise ClipboardError(
        "no clipboard tool found: install wl-clipboard (Wayland) or xclip (X11), or type @ and "
        "the image's path"
    )
