"""What the bot will do next, and when, in words: the line `bot status` and the status page show.

Pure: the trader hands over what it saw in its last pass. The moments are the trader's own decision
points (bot/market/venue.py), and the exit's order type is the one bot/engine/policy.py would choose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from bot.engine import policy
from bot.engine.plan import exit_due_at, exit_session
from bot.engine.portfolio import OpenTrade
from bot.ledger_records import OrderRecord
from bot.market import venue
from bot.season_calendar import TradingCalendar
from strategies.breakout import season_of
from strategies.params import BreakoutParams, Trigger


@dataclass(frozen=True, slots=True)
class NextAction:
    text: str
    at: datetime | None = None  # the decision point, when there is one to wait for


@dataclass(frozen=True, slots=True)
class PassView:
    """What one pass saw, for describing the next step."""

    now: datetime
    calendar: TradingCalendar
    params: BreakoutParams
    trade: OpenTrade | None
    held: Decimal
    live_orders: Sequence[OrderRecord]
    fills_pending: bool
    blocked_by: str | None
    season_entered: bool
    decided: frozenset[date]
    equity: Decimal
    broker_qty: Decimal


def _order_words(order: OrderRecord) -> str:
    return f"{order.side} {order.qty} {order.symbol} ({order.time_in_force})"


def describe(view: PassView) -> NextAction:
    params, calendar, now = view.params, view.calendar, view.now
    if view.blocked_by is not None:
        return NextAction(f"no orders until the account is unblocked ({view.blocked_by})")
    if view.live_orders:
        order = view.live_orders[-1]
        return NextAction(f"waiting for the {order.intent} order {order.client_order_id}: {_order_words(order)}")
    if view.fills_pending:
        return NextAction(f"recording the last fill once {params.benchmark}'s official minute bars are out")
    if view.trade is not None and view.held > 0:
        return _exit(view, view.trade)
    session = calendar.current_or_next(now)
    if session is None:
        return NextAction("no trading session ahead in the broker's calendar")
    if view.season_entered and not params.allow_reentry:
        return _next_season(view, season_of(session.day, calendar.days))
    if params.trigger is Trigger.INTRADAY:
        return NextAction(
            f"from the open on {session.day}: buy {params.symbol} on the first minute above {params.threshold:.2f}",
            session.opens_at,
        )
    closed = calendar.last_closed(now)
    if closed is None or closed.day in view.decided:
        closed = session
    streak = f" for {params.confirm_days} sessions in a row" if params.confirm_days > 1 else ""
    return NextAction(
        f"after the close on {closed.day}: buy {params.symbol} at the next open (opg) if it closes above "
        f"{params.threshold:.2f}{streak}",
        max(venue.evening_of(closed), now),
    )


def _exit(view: PassView, trade: OpenTrade) -> NextAction:
    # The session and moment the trader sells at (bot/engine/plan.py), so that status says what the loop does.
    exit_day = exit_session(trade.planned_exit, view.calendar)
    qty, symbol = min(trade.qty, view.held), view.params.symbol
    if exit_day is None:
        return NextAction(
            f"holding {qty} {symbol}; the planned exit {trade.planned_exit} is past the broker's calendar"
        )
    day_before = view.calendar.previous_before(exit_day.day)
    at = exit_due_at(exit_day, view.calendar)
    plan = policy.exit_plan(max(at, view.now), exit_day, False, 1)
    tif = plan.time_in_force.value
    if view.now < at:
        when = f"after the close on {day_before.day}" if day_before else f"at the open on {exit_day.day}"
        return NextAction(f"{when}: send a {tif} sell of {qty} {symbol} for {exit_day.day}", at)
    return NextAction(f"selling {qty} {symbol} ({tif}) for {exit_day.day}: due now", view.now)


def _next_season(view: PassView, season: int) -> NextAction:
    days = view.calendar.days
    later = [s for s in view.calendar.sessions if s.closes_at > view.now and season_of(s.day, days) > season]
    if not later:
        return NextAction(f"season {season} is traded; the next season is beyond the broker's calendar")
    first = later[0]
    return NextAction(
        f"season {season} is traded; the rule looks for a breakout again from {first.day}", venue.evening_of(first)
    )
