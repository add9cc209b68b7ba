"""The broker's clock is trusted only while it is plausible: no jump far ahead of the last reading plus the
wall time since, and no step back. A jump is refused once and believed when the next reading confirms it, so
one bad answer can never trigger an entry or an exit, while a real jump (a replay, a long pause) goes through.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.engine.clock import monotonic
from bot.errors import BrokerDataInvalid

JUMP_BOUND = timedelta(days=7)  # beyond last reading + elapsed wall time
STEP_BACK = timedelta(minutes=1)
CONFIRMATION = timedelta(hours=1)  # a second reading this close to the first confirms a jump


class ClockGuard:
    def __init__(self, monotonic: Callable[[], float] = monotonic) -> None:
        self._monotonic = monotonic
        self._accepted: tuple[datetime, float] | None = None
        self._pending: datetime | None = None

    def check(self, now: datetime) -> datetime:
        wall = self._monotonic()
        if self._accepted is not None:
            last, at = self._accepted
            ahead = last + timedelta(seconds=wall - at) + JUMP_BOUND
            if not last - STEP_BACK <= now <= ahead:
                confirmed = self._pending is not None and abs(now - self._pending) <= CONFIRMATION
                if not confirmed:
                    self._pending = now
                    raise BrokerDataInvalid(
                        f"clock: the broker's time jumped from {last.isoformat()} to {now.isoformat()}; "
                        "refused until a second reading confirms it"
                    )
        self._accepted, self._pending = (now, wall), None
        return now
