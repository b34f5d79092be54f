"""How long to wait before trying a failed request again."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Callable


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by `cap`.

    Full jitter (a uniform wait between 0 and the exponential ceiling) keeps many clients that
    failed together from coming back together. A server's Retry-After wins over the jitter,
    but is capped too: a server asking for an hour should not freeze the terminal for an hour.
    """

    max_attempts: int = 6
    base: float = 0.5
    cap: float = 60.0
    rng: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after attempt number `attempt` (1-based) failed."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.cap)
        ceiling = min(self.cap, self.base * 2 ** max(attempt - 1, 0))
        return self.rng() * ceiling


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds from a Retry-After header, given as seconds or as an HTTP date; None if absent
    or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - now()
    if seconds != seconds:  # NaN
        return None
    return max(seconds, 0.0)
