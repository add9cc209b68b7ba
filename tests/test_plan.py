"""The loop's timing and order decisions, as tables: the time and what was tried in, what to send out."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from bot.domain import NEW_YORK, TimeInForce
from bot.engine.plan import (
    ExitOrder,
    Hold,
    entry_due,
    entry_time_in_force,
    order_session,
    plan_exit,
    retry_session,
    retry_time_in_force,
)
from bot.engine.policy import Attempt
from bot.errors import RejectionKind
from bot.market.calendar import nyse_sessions, session_for
from bot.season_calendar import TradingCalendar

CALENDAR = TradingCalendar([session_for(day) for day in nyse_sessions(date(2024, 6, 1), date(2024, 7, 31))])
JUNE_28, JULY_1, JULY_3, JULY_5 = date(2024, 6, 28), date(2024, 7, 1), date(2024, 7, 3), date(2024, 7, 5)


def et(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=NEW_YORK)


def tried(status: str, on: date, *, filled: int = 0, rejection: RejectionKind | None = None, n: int = 1) -> Attempt:
    return Attempt(number=n, status=status, filled_qty=Decimal(filled), time_in_force="cls", session=on,
                   reason="exit_date_reached", rejection=rejection)  # fmt: skip


def sell(qty: int, tif: TimeInForce, reason: str, session: date, attempt: int = 1, short: bool = False) -> ExitOrder:
    return ExitOrder(qty=qty, time_in_force=tif, reason=reason, attempt=attempt, session=session, short_of_ledger=short)


CLS, DAY = TimeInForce.CLS, TimeInForce.DAY


@pytest.mark.parametrize(
    ("now", "planned", "attempts", "ledger", "broker", "expected"),
    [
        (et(6, 27, 18), JUNE_28, [], 470, 470, Hold.NOT_YET),
        (et(6, 27, 19), JUNE_28, [], 470, 470, sell(470, CLS, "exit_date_reached", JUNE_28)),
        (et(6, 28, 15, 49), JUNE_28, [], 470, 470, sell(470, CLS, "exit_date_reached", JUNE_28)),
        (et(6, 28, 15, 51), JUNE_28, [], 470, 470, sell(470, DAY, "cls_cutoff_missed", JUNE_28)),
        (et(6, 28, 16, 30), JUNE_28, [], 470, 470, sell(470, DAY, "exit_overdue", JULY_1)),
        (et(7, 3, 12, 49), JULY_3, [], 470, 470, sell(470, CLS, "exit_date_reached", JULY_3)),  # early close 13:00
        (et(7, 3, 12, 51), JULY_3, [], 470, 470, sell(470, DAY, "cls_cutoff_missed", JULY_3)),
        (et(7, 3, 19), date(2024, 7, 4), [], 470, 470, sell(470, CLS, "exit_date_reached", JULY_5)),  # holiday
        (et(6, 28, 19), date(2024, 6, 29), [], 470, 470, sell(470, CLS, "exit_date_reached", JULY_1)),  # weekend
        (et(6, 27, 19), date(2025, 6, 27), [], 470, 470, Hold.NO_EXIT_SESSION),  # past the calendar
        (et(6, 28, 10), JUNE_28, [tried("accepted", JUNE_28)], 470, 470, Hold.WAIT),
        (
            et(6, 28, 16, 1),  # the remainder of a partly filled cls
            JUNE_28,
            [tried("expired", JUNE_28, filled=5)],
            465,
            465,
            sell(465, DAY, "exit_overdue_after_unfilled_attempt", JULY_1, attempt=2),
        ),
        (
            et(6, 28, 15, 45),
            JUNE_28,
            [tried("rejected", JUNE_28, rejection=RejectionKind.CUTOFF)],
            470,
            470,
            sell(470, DAY, "cls_cutoff_missed_after_unfilled_attempt", JUNE_28, attempt=2),
        ),
        (
            et(6, 28, 12),
            JUNE_28,
            [tried("rejected", JUNE_28, rejection=RejectionKind.OTHER)],
            470,
            470,
            Hold.DONE_FOR_SESSION,
        ),
        (et(6, 28, 12), JUNE_28, [tried("canceled", JUNE_28, n=i) for i in range(1, 6)], 470, 470, Hold.EXHAUSTED),
        (et(6, 27, 19), JUNE_28, [], 470, 400, sell(400, CLS, "exit_date_reached", JUNE_28, short=True)),
        (et(6, 27, 19), JUNE_28, [], 470, 0, Hold.NOTHING_HELD),  # never sell what the broker does not hold
        (et(6, 27, 19), JUNE_28, [], 470, 500, sell(470, CLS, "exit_date_reached", JUNE_28)),  # extra shares stay
    ],
    ids=[
        "evening-before-not-yet",
        "evening-before",
        "cls-before-cutoff",
        "cls-after-cutoff",
        "after-close",
        "early-close-cls",
        "early-close-cutoff",
        "holiday-exit-date",
        "weekend-exit-date",
        "past-calendar",
        "working",
        "remainder",
        "cutoff-refused",
        "refused-for-good",
        "exhausted",
        "broker-short",
        "broker-none",
        "broker-more",
    ],
)
def test_plan_exit(
    now: datetime, planned: date, attempts: list[Attempt], ledger: int, broker: int, expected: ExitOrder | Hold
) -> None:
    assert plan_exit(now, CALENDAR, planned, attempts, Decimal(ledger), Decimal(broker)) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (et(6, 27, 16, 30), None),  # after the close, before 19:00: the bar may not be final, opg is refused
        (et(6, 27, 19), (date(2024, 6, 27), JUNE_28)),
        (et(6, 28, 8), (date(2024, 6, 27), JUNE_28)),  # a bot started before the open
        (et(6, 28, 11), (date(2024, 6, 27), JUNE_28)),  # started during the session: still that close's decision
        (et(6, 28, 19), (JUNE_28, JULY_1)),  # a Friday decides for Monday
        (datetime(2024, 6, 29, 12, tzinfo=NEW_YORK), (JUNE_28, JULY_1)),
        (et(7, 3, 19), (JULY_3, JULY_5)),  # over a holiday
    ],
    ids=["after-close", "evening", "before-open", "in-session", "friday", "saturday", "holiday"],
)
def test_entry_due(now: datetime, expected: tuple[date, date] | None) -> None:
    due = entry_due(now, CALENDAR)
    assert (None if due is None else (due[0].day, due[1].day)) == expected


@pytest.mark.parametrize(
    ("now", "tif"),
    [(et(6, 27, 19), TimeInForce.OPG), (et(6, 28, 9, 27), TimeInForce.OPG), (et(6, 28, 9, 28), DAY),
     (et(6, 28, 11), DAY)],
    ids=["evening", "before-cutoff", "opg-window-missed", "in-session"],
)  # fmt: skip
def test_entry_time_in_force(now: datetime, tif: TimeInForce) -> None:
    session = CALENDAR.session(JUNE_28)
    assert session is not None and entry_time_in_force(now, session) is tif


@pytest.mark.parametrize(
    ("now", "session"),
    [(et(6, 27, 21), None), (et(6, 27, 21, 30), JUNE_28), (et(6, 28, 10), JUNE_28), (et(6, 28, 16, 30), None)],
    ids=["too-early", "twelve-hours-before", "in-session", "after-close"],
)
def test_retry_session(now: datetime, session: date | None) -> None:
    found = retry_session(now, CALENDAR)
    assert (found.day if found else None) == session


@pytest.mark.parametrize(
    ("reason", "now", "tif"),
    [("resized_after_rejection", et(6, 28, 9), TimeInForce.OPG), ("resized_after_rejection", et(6, 28, 9, 29), DAY),
     ("opg_unfilled_fallback", et(6, 28, 9), DAY)],
    ids=["resized-in-window", "resized-late", "fallback"],
)  # fmt: skip
def test_retry_time_in_force(reason: str, now: datetime, tif: TimeInForce) -> None:
    session = CALENDAR.session(JUNE_28)
    assert session is not None and retry_time_in_force(reason, now, session) is tif


@pytest.mark.parametrize(
    ("tif", "at", "session"),
    [("cls", et(6, 28, 15, 49), JUNE_28), ("cls", et(6, 28, 15, 50), JULY_1), ("opg", et(6, 28, 19), JULY_1),
     ("day", et(6, 28, 12), JUNE_28), ("day", et(6, 28, 16, 30), JULY_1), ("cls", et(6, 29, 12), JULY_1)],
    ids=["cls-same-day", "cls-after-cutoff", "opg-evening", "day-in-session", "day-after-close", "cls-weekend"],
)  # fmt: skip
def test_order_session(tif: str, at: datetime, session: date) -> None:
    assert order_session(tif, at, CALENDAR) == session
