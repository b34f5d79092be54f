"""How every frontend shows that the vision model described the prompt's images: who looked,
at what, and the description itself (the main model reads it whole; the screen shows its start)."""

from __future__ import annotations

from glmcode.events import ImagesDescribed

SHOWN_LINES = 12


def described_text(event: ImagesDescribed, max_lines: int = SHOWN_LINES) -> str:
    lines = event.description.splitlines() or ["(an empty description)"]
    shown = lines[:max_lines]
    if len(lines) > max_lines:
        shown.append(f"… {len(lines) - max_lines} more lines went to the model")
    body = "\n".join(f"  {line}" for line in shown)
    return f"{event.model} described {' '.join(event.images)} for the model:\n{body}"
