"""Alpaca's trading rate limit: N requests per key per minute, told in every response's headers.

A 429 carries ``X-Ratelimit-Limit``, ``X-Ratelimit-Remaining`` and ``X-Ratelimit-Reset`` (epoch seconds)
and no ``Retry-After``, as Alpaca's does.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from bot.engine.clock import unix_seconds

DEFAULT_PER_MINUTE = 200


@dataclass(frozen=True)
class Allowance:
    allowed: bool
    headers: dict[str, str]


class RateLimiter:
    def __init__(self, limit: int, *, window_seconds: float = 60.0, wall: Callable[[], float] = unix_seconds) -> None:
        self.limit, self.window, self.wall = limit, window_seconds, wall
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> Allowance:
        now = self.wall()
        with self._lock:
            started, used = self._windows.get(key, (now, 0))
            if now >= started + self.window:
                started, used = now, 0
            used += 1
            self._windows[key] = (started, used)
        limit = self.limit if self.limit > 0 else DEFAULT_PER_MINUTE
        allowed = self.limit <= 0 or used <= self.limit
        headers = {
            "X-Ratelimit-Limit": str(limit),
            "X-Ratelimit-Remaining": str(max(limit - used, 0)),
            "X-Ratelimit-Reset": str(math.ceil(started + self.window)),
        }
        return Allowance(allowed, headers)
