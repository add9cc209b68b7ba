"""The order policies for a venue that says no, as tables: what was tried in, what to do next out."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from bot.domain import NEW_YORK, TimeInForce
from bot.engine.policy import (
    MAX_ORDER_ATTEMPTS,
    Attempt,
    Next,
    entry_retry,
    exit_plan,
    next_attempt,
    sell_quantity,
)
from bot.errors import RejectionKind
from bot.market.calendar import session_for
from strategies.params import Allocation, FixedQuantity
from strategies.sizing import affordable_quantity, entry_quantity

DAY = date(2024, 6, 28)
SESSION = session_for(DAY)
EARLY = session_for(date(2024, 7, 3))  # closes at 13:00


def tried(
    status: str,
    *,
    filled: int = 0,
    on: date = DAY,
    rejection: RejectionKind | None = None,
    reason: str = "x",
    tif: str = "cls",
    number: int = 1,
) -> Attempt:
    return Attempt(
        number=number,
        status=status,
        filled_qty=Decimal(filled),
        time_in_force=tif,
        session=on,
        reason=reason,
        rejection=rejection,
    )


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        ([], (Next.SEND, 1)),
        ([tried("accepted")], (Next.WAIT, 0)),
        ([tried("partially_filled", filled=5)], (Next.WAIT, 0)),
        ([tried("expired", filled=5)], (Next.SEND, 2)),  # a remainder to sell
        ([tried("canceled")], (Next.SEND, 2)),
        ([tried("rejected", rejection=RejectionKind.CUTOFF)], (Next.SEND, 2)),  # switch to a day order
        ([tried("rejected", rejection=RejectionKind.FUNDS)], (Next.SEND, 2)),  # resize once
        (
            [tried("rejected", rejection=RejectionKind.FUNDS), tried("rejected", rejection=RejectionKind.FUNDS)],
            (Next.DONE_FOR_SESSION, 0),
        ),
        ([tried("rejected", rejection=RejectionKind.OTHER)], (Next.DONE_FOR_SESSION, 0)),
        ([tried("rejected", rejection=RejectionKind.BLOCKED)], (Next.DONE_FOR_SESSION, 0)),
        ([tried("rejected")], (Next.DONE_FOR_SESSION, 0)),  # rejected after acceptance
        ([tried("rejected", on=date(2024, 6, 27))], (Next.SEND, 2)),  # another session: try again
        ([tried("expired")] * MAX_ORDER_ATTEMPTS, (Next.EXHAUSTED, 0)),
    ],
    ids=[
        "first",
        "live",
        "partly-live",
        "remainder",
        "canceled",
        "cutoff",
        "funds",
        "funds-twice",
        "other",
        "blocked",
        "rejected-after-accept",
        "new-session",
        "exhausted",
    ],
)
def test_next_attempt(attempts: list[Attempt], expected: tuple[Next, int]) -> None:
    verdict = next_attempt(attempts, DAY)
    assert (verdict.next, verdict.attempt) == expected


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("now", "session", "cls_refused", "attempt", "expected"),
    [
        (at(date(2024, 6, 27), 19, 5), SESSION, False, 1, (TimeInForce.CLS, "exit_date_reached")),
        (at(DAY, 15, 49), SESSION, False, 1, (TimeInForce.CLS, "exit_date_reached")),
        (at(DAY, 15, 50), SESSION, False, 1, (TimeInForce.DAY, "cls_cutoff_missed")),
        (at(DAY, 15, 51), SESSION, False, 1, (TimeInForce.DAY, "cls_cutoff_missed")),
        (at(DAY, 12, 0), SESSION, True, 2, (TimeInForce.DAY, "cls_cutoff_missed_after_unfilled_attempt")),
        (at(DAY, 16, 5), SESSION, False, 2, (TimeInForce.DAY, "exit_overdue_after_unfilled_attempt")),
        (at(date(2024, 7, 3), 12, 49), EARLY, False, 1, (TimeInForce.CLS, "exit_date_reached")),
        (at(date(2024, 7, 3), 12, 51), EARLY, False, 1, (TimeInForce.DAY, "cls_cutoff_missed")),
    ],
    ids=["evening-before", "1549", "1550", "1551", "cls-refused", "overdue", "early-close-1249", "early-close-1251"],
)
def test_exit_plan(
    now: datetime, session: object, cls_refused: bool, attempt: int, expected: tuple[TimeInForce, str]
) -> None:
    plan = exit_plan(now, session, cls_refused, attempt)  # type: ignore[arg-type]
    assert (plan.time_in_force, plan.reason) == expected


ENTRY_DAY = date(2023, 12, 14)
ENTRY_SESSION = session_for(ENTRY_DAY)


@pytest.mark.parametrize(
    ("attempts", "now", "expected"),
    [
        ([tried("expired", on=ENTRY_DAY, tif="opg")], at(ENTRY_DAY, 9, 31), "opg_unfilled_fallback"),
        ([tried("canceled", on=ENTRY_DAY, tif="opg")], at(ENTRY_DAY, 12), "opg_unfilled_fallback"),
        ([tried("rejected", on=ENTRY_DAY, tif="opg")], at(ENTRY_DAY, 9, 31), "opg_unfilled_fallback"),
        ([tried("expired", on=ENTRY_DAY, tif="opg")], at(ENTRY_DAY, 15, 50), None),  # too late in the session
        ([tried("expired", on=date(2023, 12, 13), tif="opg")], at(ENTRY_DAY, 10), None),  # another session's
        ([tried("filled", filled=10, on=ENTRY_DAY, tif="opg")], at(ENTRY_DAY, 10), None),
        (
            [
                tried("expired", on=ENTRY_DAY, tif="opg"),
                tried("expired", on=ENTRY_DAY, tif="day", reason="opg_unfilled_fallback"),
            ],
            at(ENTRY_DAY, 11),
            None,
        ),
        ([tried("rejected", on=ENTRY_DAY, rejection=RejectionKind.FUNDS)], at(ENTRY_DAY, 9), "resized_after_rejection"),
        ([tried("rejected", on=ENTRY_DAY, rejection=RejectionKind.OTHER)], at(ENTRY_DAY, 9), None),
    ],
    ids=["expired", "canceled", "rejected-after-accept", "late", "stale", "filled", "once-only", "funds", "other"],
)
def test_entry_retry(attempts: list[Attempt], now: datetime, expected: str | None) -> None:
    assert entry_retry(attempts, ENTRY_DAY, now, ENTRY_SESSION) == expected


@pytest.mark.parametrize(
    ("ledger", "broker", "expected"),
    [(470, 470, 470), (470, 235, 235), (470, 0, 0), (470, 500, 470), (0, 30, 0), (470, -10, 0)],
    ids=["agree", "broker-less", "closed-outside", "extra-by-hand", "not-ours", "short-at-broker"],
)
def test_a_sell_is_never_for_more_than_either_side_holds(ledger: int, broker: int, expected: int) -> None:
    assert sell_quantity(Decimal(ledger), Decimal(broker)) == expected


@pytest.mark.parametrize(
    ("sizing", "equity", "spendable", "price", "expected"),
    [
        (Allocation(Decimal("0.95")), 100000, 100000, 200, 475),  # the rule's size fits
        (Allocation(Decimal("1")), 100000, 100000, 200, 480),  # 100,000 / (200 × 1.04)
        (FixedQuantity(1000), 100000, 100000, 200, 480),
        (FixedQuantity(10), 100000, 0, 200, 0),
    ],
    ids=["fits", "allocation-1", "quantity-too-large", "no-cash"],
)
def test_entry_size_is_capped_at_what_the_account_can_pay(
    sizing: object, equity: int, spendable: int, price: int, expected: int
) -> None:
    got = entry_quantity(sizing, equity=Decimal(equity), spendable=Decimal(spendable), price=Decimal(price))  # type: ignore[arg-type]
    assert got == expected
    assert affordable_quantity(Decimal(spendable), Decimal(price)) >= got
