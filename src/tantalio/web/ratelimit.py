"""A small in-process sliding-window rate limiter.

Why in memory: `tantalio serve` runs one process (the embedded default and the usual server
set-up); the limits protect against password guessing and against using query-by-example as a
match oracle. Running several workers multiplies the limits by the worker count
(docs/decisions/web.md).
"""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimiter:
    """At most `limit` hits per `window` seconds for each key."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def retry_after(self, key: str) -> float:
        """Seconds until one more hit is allowed (0 when it is allowed now)."""
        now = time.monotonic()
        with self._lock:
            hits = self._prune(key, now)
            if len(hits) < self.limit:
                return 0.0
            return max(0.0, hits[0] + self.window - now)

    def hit(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._prune(key, now).append(now)
            if len(self._hits) > 10_000:  # forget idle keys so memory stays bounded
                for stale in [k for k, v in self._hits.items() if not v][:5_000]:
                    del self._hits[stale]

    def check_and_hit(self, key: str) -> float:
        """Count a hit when allowed; otherwise return the seconds to wait (nothing counted)."""
        wait = self.retry_after(key)
        if wait == 0.0:
            self.hit(key)
        return wait

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)
