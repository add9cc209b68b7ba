"""Regular-session open and close times, from the NYSE calendar where it is known."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from bot.domain import NEW_YORK, REGULAR_CLOSE, REGULAR_OPEN, Session
from bot.engine.clock import wall_now

FIRST_DAY = date(1990, 1, 1)
YEARS_AHEAD = 2  # the calendar reaches the end of the year after next


@lru_cache(maxsize=1)
def _nyse() -> tuple[list[date], dict[date, datetime]]:
    """The NYSE's sessions, and the close of each early one, from exchange_calendars' XNYS rules.

    The rules are evaluated over our span only: building the library's calendar object evaluates its holiday
    rules from 1970 to 2200 first (0.09 s of the backtest's start). tests/test_calendar.py holds the result
    equal to the library's own calendar.
    """
    # Imported here: exchange_calendars costs about 8 MB and 0.05 s, and the live loop only needs NEW_YORK.
    from exchange_calendars.exchange_calendar_xnys import XNYSExchangeCalendar as Nyse

    rules: Any = Nyse  # its rule properties read only class attributes
    last_day = date(wall_now().year + YEARS_AHEAD, 12, 31)
    holidays = {day.date() for day in Nyse.regular_holidays.fget(rules).holidays(FIRST_DAY, last_day)}
    holidays |= {day.date() for day in Nyse.adhoc_holidays.fget(rules)}
    count = (last_day - FIRST_DAY).days + 1
    every_day = (FIRST_DAY + timedelta(days=n) for n in range(count))
    sessions = [day for day in every_day if day.weekday() < 5 and day not in holidays]
    known = set(sessions)
    closes: dict[date, datetime] = {}
    # The library's precedence: ad hoc closes over scheduled ones, the first listed of each kind.
    scheduled = [(at, calendar.holidays(FIRST_DAY, last_day)) for at, calendar in Nyse.special_closes.fget(rules)]
    for at, days in [*Nyse.special_closes_adhoc.fget(rules), *scheduled]:
        for stamp in days:
            day = stamp.date()
            if day in known and day not in closes:
                closes[day] = datetime.combine(day, at, NEW_YORK)
    return sessions, closes


def session_for(day: date) -> Session:
    """Open and close of ``day``; the NYSE calendar supplies early closes where it covers ``day``."""
    opens_at = datetime.combine(day, REGULAR_OPEN, NEW_YORK)
    close = _nyse()[1].get(day)
    return Session(day=day, opens_at=opens_at, closes_at=close or datetime.combine(day, REGULAR_CLOSE, NEW_YORK))


def nyse_sessions(start: date, end: date) -> list[date]:
    """NYSE trading days between ``start`` and ``end`` inclusive."""
    days = _nyse()[0]
    return days[bisect_left(days, start) : bisect_right(days, end)]
