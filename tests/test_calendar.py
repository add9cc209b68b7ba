"""The NYSE calendar the replay and the local exchange use: exchange_calendars' XNYS rules, evaluated by us."""

from __future__ import annotations

import warnings
from datetime import date, datetime, time

import pytest

from bot.domain import NEW_YORK
from bot.market.calendar import nyse_sessions, session_for


def test_sessions_and_early_closes_are_the_librarys_own_calendar() -> None:
    import exchange_calendars as xcals

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        library = xcals.get_calendar("XNYS", start="1990-01-02")
    days = list(library.sessions.date)
    early = library.schedule.loc[library.early_closes, "close"]
    assert nyse_sessions(days[0], days[-1]) == days
    closes = {day: session_for(day).closes_at for day in days}
    ours = {day: close for day, close in closes.items() if close.astimezone(NEW_YORK).time() != time(16)}
    assert ours == {stamp.date(): close.to_pydatetime() for stamp, close in early.items()}


@pytest.mark.parametrize(
    ("day", "trading", "closes"),
    [
        (date(2024, 7, 3), True, time(13)),  # the day before Independence Day
        (date(2023, 11, 24), True, time(13)),  # the day after Thanksgiving
        (date(2024, 12, 24), True, time(13)),
        (date(1992, 11, 27), True, time(14)),  # before 1993 the early close was at 14:00
        (date(2024, 6, 28), True, time(16)),
        (date(2024, 6, 19), False, None),  # Juneteenth
        (date(2025, 1, 9), False, None),  # a national day of mourning (ad hoc)
        (date(2012, 10, 30), False, None),  # Hurricane Sandy (ad hoc)
        (date(2024, 3, 29), False, None),  # Good Friday
        (date(2024, 6, 29), False, None),  # a Saturday
    ],
)
def test_known_days(day: date, trading: bool, closes: time | None) -> None:
    assert (nyse_sessions(day, day) == [day]) is trading
    if closes is not None:
        assert session_for(day).closes_at == datetime.combine(day, closes, NEW_YORK)
