"""Simulated time for the replay.

The accelerated clock walks session cycles (00:00 ET of a session day to 00:00 ET of the next one;
weekends and holidays in between are skipped). Wall time maps to simulated time piecewise-linearly, so
that each phase of a cycle gets a fixed share of ``speed`` wall seconds: the windows in which a bot
acts (after the close, before the open) stay wide enough to act in even at high acceleration.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Protocol

from bot.market.calendar import NEW_YORK, Session

# (simulated point of the cycle, share of the cycle's wall time reached there)
_PRE_OPEN, _SESSION, _AFTER_CLOSE = 0.15, 0.40, 0.10
EVENING_HOUR = 19


class ReplayClock(Protocol):
    def now(self) -> datetime: ...

    @property
    def finished(self) -> bool: ...


def _midnight(session: Session) -> datetime:
    return datetime.combine(session.day, datetime.min.time(), NEW_YORK)


class AcceleratedClock:
    def __init__(
        self, sessions: Sequence[Session], speed: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if not sessions:
            raise ValueError("no sessions to replay")
        self._sessions = list(sessions)
        self._speed = speed
        self._monotonic = monotonic
        self._started = monotonic()

    def _cycle_end(self, index: int) -> datetime:
        if index + 1 < len(self._sessions):
            return _midnight(self._sessions[index + 1])
        return _midnight(self._sessions[index]) + timedelta(days=1)

    def _position(self) -> tuple[int, float]:
        elapsed = (self._monotonic() - self._started) / self._speed
        return int(elapsed), elapsed - int(elapsed)

    @property
    def finished(self) -> bool:
        return self._position()[0] >= len(self._sessions)

    def now(self) -> datetime:
        index, share = self._position()
        if index >= len(self._sessions):
            return self._cycle_end(len(self._sessions) - 1) - timedelta(microseconds=1)
        session = self._sessions[index]
        evening = datetime.combine(session.day, datetime.min.time(), NEW_YORK).replace(hour=EVENING_HOUR)
        knots = [
            (0.0, _midnight(session)),
            (_PRE_OPEN, session.opens_at),
            (_PRE_OPEN + _SESSION, session.closes_at),
            (_PRE_OPEN + _SESSION + _AFTER_CLOSE, evening),
            (1.0, self._cycle_end(index)),
        ]
        for (share0, at0), (share1, at1) in pairwise(knots):
            if share <= share1:
                return at0 + (at1 - at0) * ((share - share0) / (share1 - share0))
        return knots[-1][1]


class RealTimeClock:
    """Simulated time running at wall speed from the first session's midnight."""

    def __init__(self, sessions: Sequence[Session], monotonic: Callable[[], float] = time.monotonic) -> None:
        self._start = _midnight(sessions[0])
        self._end = _midnight(sessions[-1]) + timedelta(days=1)
        self._monotonic = monotonic
        self._started = monotonic()

    def now(self) -> datetime:
        return min(self._start + timedelta(seconds=self._monotonic() - self._started), self._end)

    @property
    def finished(self) -> bool:
        return self.now() >= self._end


class ManualClock:
    """A clock tests move explicitly."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.done = False

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment

    @property
    def finished(self) -> bool:
        return self.done
