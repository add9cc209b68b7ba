"""The live loop's one owner of "now": the broker's clock, read at each pass and counted at wall speed between.

Alpaca's clock runs at wall speed, so after two readings that agree with the wall time between them the loop
can sleep until its next decision point without asking again (re-reading once an hour of wall time,
in case the host slept). A clock that does not run at wall speed (the local exchange's accelerated replay, a
manual clock in tests) is read at every wake instead; either way a pass runs only when one is due.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

WALL_SPEED_MIN_SPAN = 30.0  # wall seconds two readings must be apart to tell the clock's rate (a held clock too)
WALL_SPEED_TOLERANCE = timedelta(seconds=2)  # plus 1 % of the span: Alpaca's timestamps, request latency
RESYNC_SECONDS = 3600.0  # wall time after which a wall-speed clock is read again anyway


class BrokerClock:
    def __init__(self, read: Callable[[], datetime], monotonic: Callable[[], float] = time.monotonic) -> None:
        self._read, self._monotonic = read, monotonic
        self._last: tuple[datetime, float] | None = None
        self._taken: datetime | None = None
        self.at_wall_speed = False

    def for_pass(self) -> datetime:
        """The time a pass runs at: the reading the loop just took to see the pass was due, or a new one."""
        taken, self._taken = self._taken, None
        return taken if taken is not None else self.read()

    def for_look(self) -> tuple[datetime, bool]:
        """The time a light look between passes runs at, counted on when the clock keeps wall speed (no request),
        else as for a pass; and whether it was read from the broker (good for a pass too)."""
        counted = self.now() if self._taken is None else None
        return (counted, False) if counted is not None else (self.for_pass(), True)

    def read(self, *, for_pass: bool = False) -> datetime:
        """Ask the broker; learn whether its clock keeps wall speed (``for_pass``: the next pass uses it)."""
        now, wall = self._read(), self._monotonic()
        self._taken = now if for_pass else None
        if self._last is not None:
            last, then = self._last
            span = wall - then
            drift = abs((now - last) - timedelta(seconds=span))
            if span >= WALL_SPEED_MIN_SPAN:
                self.at_wall_speed = drift <= WALL_SPEED_TOLERANCE + timedelta(seconds=span / 100)
                self._last = (now, wall)
            elif drift > WALL_SPEED_TOLERANCE:
                self.at_wall_speed, self._last = False, (now, wall)  # a jump, however soon after the last reading
        else:
            self._last = (now, wall)
        return now

    def now(self) -> datetime | None:
        """The broker's time counted on from the last reading, when its clock keeps wall speed; else None."""
        if not self.at_wall_speed or self._last is None:
            return None
        last, then = self._last
        return last + timedelta(seconds=self._monotonic() - then)

    def latest(self) -> datetime | None:
        """The broker's time as best known without asking: counted on, or the last reading."""
        return self.now() or (self._last[0] if self._last else None)

    def resync_due(self) -> bool:
        return self.at_wall_speed and self._last is not None and self._monotonic() - self._last[1] >= RESYNC_SECONDS

    def wall_seconds_until(self, moment: datetime) -> float | None:
        """How long to sleep, in wall seconds, until ``moment`` on the broker's clock (at most until the next
        re-reading); None when the clock must be read instead."""
        now = self.now()
        if now is None or self._last is None:
            return None
        resync_in = RESYNC_SECONDS - (self._monotonic() - self._last[1])
        return max(min((moment - now).total_seconds(), resync_in), 0.0)


def wall_now() -> datetime:
    """The machine's time, in UTC: for stamps (the heartbeat, records, file names), never for what is due."""
    return datetime.now(UTC)


def monotonic() -> float:
    """Seconds on the machine's monotonic clock: for measuring durations and spacing."""
    return time.monotonic()


def unix_seconds() -> float:
    """The machine's time as Unix seconds (the local exchange's rate-limit windows and their reset header)."""
    return time.time()
