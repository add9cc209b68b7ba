"""The loop's timing and order decisions as pure functions of what a pass saw: table-tested without I/O.

The trader gathers (the clock, the calendar, the ledger's attempts, the broker's position), calls these, and
acts on what they return; the order policies after a refusal or an unfilled order are in bot/engine/policy.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from bot.domain import NEW_YORK, Session, TimeInForce
from bot.engine import policy
from bot.engine.policy import Attempt, Next
from bot.market import venue
from bot.season_calendar import TradingCalendar

RETRY_LOOKAHEAD = timedelta(hours=12)  # an entry retry is considered from this long before its session opens
MINUTE = timedelta(minutes=1)
BENCHMARK_WINDOW = 5 * MINUTE


def order_session(time_in_force: str, at: datetime, calendar: TradingCalendar) -> date | None:
    """The session an order sent at ``at`` executes in, by Alpaca's rules."""
    today = calendar.session(at.astimezone(NEW_YORK).date())
    if time_in_force == "cls" and today is not None:
        if at < venue.cls_cutoff(today):
            return today.day
        following = calendar.next_after(today.day)
        return following.day if following else None
    upcoming = calendar.current_or_next(at)
    return upcoming.day if upcoming else None


# A fill's benchmark price


def benchmark_window(moment: datetime, calendar: TradingCalendar) -> tuple[datetime, datetime]:
    """The minutes whose bars price a fill at ``moment``: the last minutes of the session for a fill at its close,
    else the minutes from the fill's own."""
    session = calendar.session(moment.astimezone(NEW_YORK).date())
    if session is not None and moment >= session.closes_at:
        return session.closes_at - BENCHMARK_WINDOW, session.closes_at - MINUTE
    start = moment.replace(second=0, microsecond=0)
    return start, start + BENCHMARK_WINDOW


def fill_priced_at(filled_at: datetime, calendar: TradingCalendar) -> datetime:
    """When a fill at ``filled_at`` can be recorded: once the benchmark's official minutes that price it are out."""
    return benchmark_window(filled_at, calendar)[1] + venue.DATA_SETTLED_AFTER_CLOSE


# Entry


def entry_due(now: datetime, calendar: TradingCalendar) -> tuple[Session, Session] | None:
    """The closed session whose close decides an entry, and the session the entry is for, once it is time.

    The decision is made after the close's auctions reopen (19:00 ET) or, for a bot started later, before the
    next open; never earlier, when the daily bar may not be final.
    """
    closed = calendar.last_closed(now)
    upcoming = calendar.next_after(closed.day) if closed else None
    if closed is None or upcoming is None or (now < venue.evening_of(closed) and now < upcoming.opens_at):
        return None
    return closed, upcoming


def entry_time_in_force(now: datetime, upcoming: Session) -> TimeInForce:
    """Market-on-open while the ``opg`` window is open; a ``day`` order once it has been missed."""
    return TimeInForce.OPG if now < venue.opg_cutoff(upcoming) else TimeInForce.DAY


def retry_session(now: datetime, calendar: TradingCalendar) -> Session | None:
    """The session an unfilled entry may be retried in: today's, from twelve hours before its open."""
    today = calendar.current_or_next(now)
    return today if today is not None and now >= today.opens_at - RETRY_LOOKAHEAD else None


def retry_time_in_force(reason: str, now: datetime, today: Session) -> TimeInForce:
    """A resized retry keeps the auction while its window is open; any other retry is a ``day`` order."""
    if reason == "resized_after_rejection" and now < venue.opg_cutoff(today):
        return TimeInForce.OPG
    return TimeInForce.DAY


# Exit


class Hold(StrEnum):
    """Why an exit is not sent in this pass."""

    NOT_YET = "not_yet"  # before the evening before the exit session
    NO_EXIT_SESSION = "exit_session_unknown"  # the planned exit is past the calendar the broker gave
    WAIT = "wait"  # an earlier attempt is still working
    DONE_FOR_SESSION = "done_for_session"
    EXHAUSTED = "exhausted"
    NOTHING_HELD = "position_mismatch"  # the broker holds none of what the ledger says the bot bought


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitOrder:
    qty: int
    time_in_force: TimeInForce
    reason: str
    attempt: int
    session: date | None  # the session it executes in
    short_of_ledger: bool  # the broker holds fewer shares than the ledger: the sell is for what it holds


def exit_session(planned_exit: date, calendar: TradingCalendar) -> Session | None:
    """The session to sell in: the planned day, or the next session when it is not one (a weekend or holiday
    exit date between the signal and the fill); None past the calendar."""
    return calendar.session(planned_exit) or calendar.next_after(planned_exit)


def exit_due_at(session: Session, calendar: TradingCalendar) -> datetime:
    """When the sell for ``session`` may go out: 19:00 ET the evening before it (a ``cls`` order is then for its
    close), or its open when the calendar has no session before it."""
    day_before = calendar.previous_before(session.day)
    return venue.evening_of(day_before) if day_before else session.opens_at


def plan_exit(
    now: datetime,
    calendar: TradingCalendar,
    planned_exit: date,
    attempts: Sequence[Attempt],
    ledger_open: Decimal,
    broker_long: Decimal,
) -> ExitOrder | Hold:
    """The sell to send now for an open trade (due from ``exit_due_at``), or why none goes out."""
    session = exit_session(planned_exit, calendar)
    if session is None:
        return Hold.NO_EXIT_SESSION
    if now < exit_due_at(session, calendar):
        return Hold.NOT_YET
    cls_refused = policy.after_cutoff_rejection(attempts, session.day)
    plan = policy.exit_plan(now, session, cls_refused, len(attempts) + 1)
    executes_in = order_session(plan.time_in_force.value, now, calendar)
    verdict = policy.next_attempt(attempts, executes_in)
    if verdict.next is not Next.SEND:
        return {Next.WAIT: Hold.WAIT, Next.DONE_FOR_SESSION: Hold.DONE_FOR_SESSION}.get(verdict.next, Hold.EXHAUSTED)
    qty = policy.sell_quantity(ledger_open, broker_long)
    if qty <= 0:
        return Hold.NOTHING_HELD
    return ExitOrder(
        qty=qty,
        time_in_force=plan.time_in_force,
        reason=plan.reason,
        attempt=verdict.attempt,
        session=executes_in,
        short_of_ledger=qty < ledger_open,
    )
