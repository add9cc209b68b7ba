"""Market data values the rule reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class DailyBar:
    """One completed regular-session bar."""

    session: date
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0


@dataclass(frozen=True, slots=True)
class MinuteBar:
    """One regular-hours minute bar; ``start`` is timezone-aware."""

    start: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0
