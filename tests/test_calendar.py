"""The NYSE calendar the replay and the local exchange use: exchange_calendars' XNYS rules, through our table."""

from __future__ import annotations

import warnings
from datetime import date, datetime, time

import pytest

from bot.domain import NEW_YORK
from bot.market.calendar import (
    TABLE_FIRST,
    TABLE_LAST,
    evaluate_rules,
    nyse_sessions,
    read_table,
    session_for,
    table_text,
)


def test_the_table_is_the_rules_evaluated() -> None:
    """After an exchange_calendars update changes a rule, `python -m bot.market.calendar` writes the table again."""
    assert read_table() == evaluate_rules(TABLE_FIRST, TABLE_LAST)
    assert table_text(read_table()) == table_text(evaluate_rules(TABLE_FIRST, TABLE_LAST))


@pytest.mark.parametrize(("first", "last"), [("1990-01-02", "2030-12-31"), ("2035-06-01", "2037-12-31")])
def test_sessions_and_early_closes_are_the_librarys_own_calendar(first: str, last: str) -> None:
    """Through the table and past its end alike."""
    import exchange_calendars as xcals

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        library = xcals.get_calendar("XNYS", start=first, end=last)
    days = list(library.sessions.date)
    early = library.schedule.loc[library.early_closes, "close"]
    sessions, closes = evaluate_rules(date.fromisoformat(first), date.fromisoformat(last))
    assert sessions == days
    assert closes == {stamp.date(): close.to_pydatetime() for stamp, close in early.items()}
    if days[-1] <= TABLE_LAST:
        assert nyse_sessions(days[0], days[-1]) == days
        assert {day: session_for(day).closes_at for day in closes} == closes


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
