"""The order policies for a venue that says no: pure functions of what was tried, table-tested without I/O.

- Attempts per season and intent are bounded by MAX_ORDER_ATTEMPTS (reconciliation probes the same ids), so
  the orders of one season are at most 2 × MAX_ORDER_ATTEMPTS, whatever the broker answers.
- A cut-off rejection switches the next attempt to a ``day`` order; a buying-power or quantity rejection is
  resized once a session from fresh data; any other rejection ends that intent for the session.
- An entry that ends unfilled (expired, canceled, rejected) is retried once in its session as a ``day`` order.
- A sell is never for more than the ledger's open quantity and never for more than the broker's long position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from bot.domain import OrderStatus, TimeInForce
from bot.errors import RejectionKind
from bot.market import venue

MAX_ORDER_ATTEMPTS = 5
UNFILLED_FINAL = frozenset(
    {
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.DONE_FOR_DAY,
        OrderStatus.REPLACED,
        OrderStatus.STOPPED,
    }
)
FINAL = UNFILLED_FINAL | {OrderStatus.FILLED}
RESIZABLE = frozenset({RejectionKind.FUNDS, RejectionKind.QUANTITY})


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """One order tried for an intent in a season (synchronously rejected ones included)."""

    number: int
    status: str
    filled_qty: Decimal
    time_in_force: str
    session: date | None  # the session it was for
    reason: str
    rejection: RejectionKind | None = None  # set when the broker refused it at submission

    @property
    def live(self) -> bool:
        return self.status not in FINAL

    @property
    def unfilled(self) -> bool:
        return self.status in UNFILLED_FINAL and self.filled_qty == 0


class Next(StrEnum):
    SEND = "send"  # a new attempt may go out
    WAIT = "wait"  # an earlier attempt is still working
    DONE_FOR_SESSION = "done_for_session"  # refused for good this session
    EXHAUSTED = "exhausted"  # no attempts left this season


@dataclass(frozen=True, slots=True)
class Verdict:
    next: Next
    attempt: int = 0  # the attempt number to send, with Next.SEND
    after: Attempt | None = None  # the attempt this one follows


def next_attempt(attempts: Sequence[Attempt], session: date | None) -> Verdict:
    """Whether another order may go out now for an intent whose next order would be for ``session``."""
    if any(a.live for a in attempts):
        return Verdict(Next.WAIT)
    if len(attempts) >= MAX_ORDER_ATTEMPTS:
        return Verdict(Next.EXHAUSTED)
    last = attempts[-1] if attempts else None
    this_session = [a for a in attempts if a.session == session]
    refused = [a for a in this_session if a.status == "rejected"]
    if refused:
        latest = refused[-1]
        resized = sum(1 for a in refused if a.rejection in RESIZABLE)
        if latest.rejection not in RESIZABLE | {RejectionKind.CUTOFF} or resized > 1:
            return Verdict(Next.DONE_FOR_SESSION)
    return Verdict(Next.SEND, len(attempts) + 1, last)


def after_cutoff_rejection(attempts: Sequence[Attempt], session: date | None) -> bool:
    """Whether an auction order for this session was refused at its cut-off (so only day orders are left)."""
    return any(a.session == session and a.rejection is RejectionKind.CUTOFF for a in attempts)


@dataclass(frozen=True, slots=True)
class ExitPlan:
    time_in_force: TimeInForce
    reason: str


def exit_plan(now: datetime, exit_session: venue.SessionLike, cls_refused: bool, attempt: int) -> ExitPlan:
    """The order type for an exit sent at ``now`` for the exit session (or later, when it is overdue)."""
    if now < venue.cls_cutoff(exit_session) and not cls_refused:
        plan = ExitPlan(TimeInForce.CLS, "exit_date_reached")
    elif now < exit_session.closes_at:
        plan = ExitPlan(TimeInForce.DAY, "cls_cutoff_missed")
    else:
        plan = ExitPlan(TimeInForce.DAY, "exit_overdue")
    if attempt > 1:
        return ExitPlan(plan.time_in_force, f"{plan.reason}_after_unfilled_attempt")
    return plan


def entry_retry(attempts: Sequence[Attempt], session: date, now: datetime, today: venue.SessionLike) -> str | None:
    """The reason for retrying an entry in ``session`` (today's), or None.

    An unfilled entry (expired, canceled, rejected after acceptance, or refused at the cut-off) is retried once
    as a ``day`` order while the session still has time before its close; a buying-power refusal once, resized.
    """
    if not attempts or now >= venue.cls_cutoff(today):
        return None
    last = attempts[-1]
    if last.session != session or not last.unfilled:
        return None
    retries = [a for a in attempts if a.session == session and a.reason == "opg_unfilled_fallback"]
    if last.rejection in RESIZABLE:
        return "resized_after_rejection"
    if last.rejection in (None, RejectionKind.CUTOFF) and not retries:
        return "opg_unfilled_fallback"
    return None


def sell_quantity(ledger_open: Decimal, broker_long: Decimal) -> int:
    """Whole shares a sell may be for: never more than either side says the bot holds."""
    return max(int(min(ledger_open, broker_long)), 0)
