"""Regular-session open and close times, from the NYSE calendar where it is known."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime
from functools import lru_cache

from bot.domain import NEW_YORK, REGULAR_CLOSE, REGULAR_OPEN, Session


@lru_cache(maxsize=1)
def _nyse() -> tuple[list[date], dict[date, datetime]]:
    """The NYSE's sessions, and the close of each early one."""
    # Imported here: exchange_calendars costs about 8 MB and 0.2 s, and the live loop only needs NEW_YORK.
    import exchange_calendars as xcals

    calendar = xcals.get_calendar("XNYS", start="1990-01-02")
    early = calendar.schedule.loc[calendar.early_closes, "close"]
    closes = {day.date(): close.to_pydatetime() for day, close in early.items()}
    return list(calendar.sessions.date), closes


def session_for(day: date) -> Session:
    """Open and close of ``day``; the NYSE calendar supplies early closes where it covers ``day``."""
    opens_at = datetime.combine(day, REGULAR_OPEN, NEW_YORK)
    close = _nyse()[1].get(day)
    closes_at = close.astimezone(NEW_YORK) if close else datetime.combine(day, REGULAR_CLOSE, NEW_YORK)
    return Session(day=day, opens_at=opens_at, closes_at=closes_at)


def nyse_sessions(start: date, end: date) -> list[date]:
    """NYSE trading days between ``start`` and ``end`` inclusive."""
    days = _nyse()[0]
    return days[bisect_left(days, start) : bisect_right(days, end)]
