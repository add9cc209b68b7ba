"""Regular-session open and close times, from the NYSE calendar where it is known.

The NYSE's holidays and early closes are exchange_calendars' XNYS rules. Evaluating them needs pandas (0.25 s
of a backtest's start, with the library's import), so the table ``nyse_calendar.json`` holds their result for
``TABLE_FIRST`` to ``TABLE_LAST`` (written by ``python -m bot.market.calendar``; tests/test_calendar.py holds it
equal to the rules) and the rules themselves are evaluated only for days past it.
"""

from __future__ import annotations

import json
import sys
from bisect import bisect_left, bisect_right
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from bot.domain import NEW_YORK, REGULAR_CLOSE, REGULAR_OPEN, Session
from bot.engine.clock import wall_now

TABLE = "nyse_calendar.json"
TABLE_FIRST, TABLE_LAST = date(1990, 1, 1), date(2035, 12, 31)
YEARS_AHEAD = 2  # the calendar reaches the end of the year after next

NyseDays = tuple[list[date], dict[date, datetime]]  # the sessions, and the close of each early one


def evaluate_rules(first: date, last: date) -> NyseDays:
    """The NYSE's sessions from ``first`` to ``last`` and their early closes, from exchange_calendars' XNYS rules.

    The rules are evaluated over that span only: building the library's calendar object evaluates its holiday
    rules from 1970 to 2200 first.
    """
    from exchange_calendars.exchange_calendar_xnys import XNYSExchangeCalendar as Nyse

    rules: Any = Nyse  # its rule properties read only class attributes
    holidays = {day.date() for day in Nyse.regular_holidays.fget(rules).holidays(first, last)}
    holidays |= {day.date() for day in Nyse.adhoc_holidays.fget(rules)}
    sessions = [day for day in _weekdays(first, last) if day not in holidays]
    known = set(sessions)
    closes: dict[date, datetime] = {}
    # The library's precedence: ad hoc closes over scheduled ones, the first listed of each kind.
    scheduled = [(at, calendar.holidays(first, last)) for at, calendar in Nyse.special_closes.fget(rules)]
    for at, days in [*Nyse.special_closes_adhoc.fget(rules), *scheduled]:
        for stamp in days:
            day = stamp.date()
            if day in known and day not in closes:
                closes[day] = datetime.combine(day, at, NEW_YORK)
    return sessions, closes


def _weekdays(first: date, last: date) -> list[date]:
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in days if day.weekday() < 5]


def table_text(days: NyseDays) -> str:
    sessions, closes = days
    known = set(sessions)
    table = {
        "source": "exchange_calendars XNYS rules (python -m bot.market.calendar)",
        "first": TABLE_FIRST.isoformat(),
        "last": TABLE_LAST.isoformat(),
        "holidays": [day.isoformat() for day in _weekdays(TABLE_FIRST, TABLE_LAST) if day not in known],
        "early_closes": {day.isoformat(): close.strftime("%H:%M") for day, close in sorted(closes.items())},
    }
    return json.dumps(table, indent=1) + "\n"


def read_table() -> NyseDays:
    table = json.loads(resources.files("bot.market").joinpath(TABLE).read_text())
    if (table["first"], table["last"]) != (TABLE_FIRST.isoformat(), TABLE_LAST.isoformat()):
        raise RuntimeError(f"{TABLE} is not for {TABLE_FIRST} to {TABLE_LAST}: run python -m bot.market.calendar")
    holidays = {date.fromisoformat(day) for day in table["holidays"]}
    sessions = [day for day in _weekdays(TABLE_FIRST, TABLE_LAST) if day not in holidays]
    closes = {}
    for text, close in table["early_closes"].items():
        day = date.fromisoformat(text)
        closes[day] = datetime.combine(day, time.fromisoformat(close), NEW_YORK)
    return sessions, closes


@lru_cache(maxsize=1)
def _nyse() -> NyseDays:
    sessions, closes = read_table()
    horizon = date(wall_now().year + YEARS_AHEAD, 12, 31)
    if horizon > TABLE_LAST:
        later, later_closes = evaluate_rules(TABLE_LAST + timedelta(days=1), horizon)
        sessions, closes = sessions + later, closes | later_closes
    return sessions, closes


@lru_cache(maxsize=20_000)  # every session from 1990 on, twice over: a replay asks for each day of its data
def session_for(day: date) -> Session:
    """Open and close of ``day``; the NYSE calendar supplies early closes where it covers ``day``."""
    opens_at = datetime.combine(day, REGULAR_OPEN, NEW_YORK)
    close = _nyse()[1].get(day)
    return Session(day=day, opens_at=opens_at, closes_at=close or datetime.combine(day, REGULAR_CLOSE, NEW_YORK))


def nyse_sessions(start: date, end: date) -> list[date]:
    """NYSE trading days between ``start`` and ``end`` inclusive."""
    days = _nyse()[0]
    return days[bisect_left(days, start) : bisect_right(days, end)]


if __name__ == "__main__":  # regenerate the table after an exchange_calendars update
    path = resources.files("bot.market").joinpath(TABLE)
    with resources.as_file(path) as file:
        file.write_text(table_text(evaluate_rules(TABLE_FIRST, TABLE_LAST)))
    sys.stdout.write(f"wrote {path}\n")
