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

from bot.domain import NEW_YORK, Session

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
    """``speed`` wall seconds per session cycle; in lockstep (``hold_at``), never past a moment the bot named.

    A held clock shows the moment it is held at until it is moved on, then catches up with its pace (but not
    past the next hold): a bot that keeps up sees the replay at ``speed``, a slower one sees every decision
    point anyway. The demo holds it at each decision point the bot names, so no speed can skip one.
    """

    def __init__(
        self,
        sessions: Sequence[Session],
        speed: float,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        lockstep: bool = False,
    ) -> None:
        if not sessions:
            raise ValueError("no sessions to replay")
        self._sessions = list(sessions)
        self._speed = speed
        self._monotonic = monotonic
        self._started = monotonic()
        self._lock = threading.Lock()
        self._shown = _midnight(self._sessions[0])  # never shown earlier than a moment it has shown
        self._hold: datetime | None = self._shown if lockstep else None

    def hold_at(self, moment: datetime | None) -> None:
        """Stop at ``moment`` (None: run freely) until moved on."""
        with self._lock:
            self._hold = moment

    def _cycle_end(self, index: int) -> datetime:
        if index + 1 < len(self._sessions):
            return _midnight(self._sessions[index + 1])
        return _midnight(self._sessions[index]) + timedelta(days=1)

    def _position(self) -> tuple[int, float]:
        elapsed = (self._monotonic() - self._started) / self._speed
        return int(elapsed), elapsed - int(elapsed)

    @property
    def finished(self) -> bool:
        with self._lock:
            last = self._cycle_end(len(self._sessions) - 1)
            held = self._hold is not None and self._hold < last
            return not held and self._position()[0] >= len(self._sessions)

    def now(self) -> datetime:
        with self._lock:
            moment = max(self._at(), self._shown)
            if self._hold is not None and moment > self._hold:
                moment = max(self._hold, self._shown)
            self._shown = moment
            return moment

    def _knots(self, index: int) -> list[tuple[float, datetime]]:
        """(share of the cycle's wall time, simulated time) at the phase boundaries of session ``index``'s cycle."""
        session = self._sessions[index]
        evening = datetime.combine(session.day, datetime.min.time(), NEW_YORK).replace(hour=EVENING_HOUR)
        return [
            (0.0, _midnight(session)),
            (_PRE_OPEN, session.opens_at),
            (_PRE_OPEN + _SESSION, session.closes_at),
            (_PRE_OPEN + _SESSION + _AFTER_CLOSE, evening),
            (1.0, self._cycle_end(index)),
        ]

    def _at(self) -> datetime:
        index, share = self._position()
        if index >= len(self._sessions):
            return self._cycle_end(len(self._sessions) - 1) - timedelta(microseconds=1)
        knots = self._knots(index)
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
