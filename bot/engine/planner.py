"""The pure planning core: what a pass saw in, what to do out; no I/O, table-tested.

A pass gathers its facts (the time, the calendar, the portfolio fold, the account and the broker's position),
asks ``due`` what else it must read (the daily bars a decision reads, the latest price a retry is sized at, the
minutes an intraday look scans), reads that, and asks ``plan`` what to do: at most one order, the decision to
record, the events to log and the problems that keep it from trading. The day's mark is bot/engine/mark.py's, when
to look again bot/engine/schedule.py's, the timing rules bot/engine/plan.py's and the order policies after a
refusal or an unfilled order bot/engine/policy.py's. The live loop and the backtest run this core through the same
cycle (bot/trader.py).
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

from bot.domain import OrderRequest, Session, Side, TimeInForce
from bot.engine import plan as timing
from bot.engine import policy
from bot.engine.plan import ExitOrder, Hold, order_session
from bot.engine.plan_types import Due, Event, Facts, Market, OrderIntent, Plan, Quiet, Step
from bot.engine.policy import Attempt, Next
from bot.engine.portfolio import OpenTrade, attempt_number
from bot.errors import RejectionKind
from bot.money import price
from bot.orders import Intent, client_order_id
from strategies.breakout import (
    Action,
    Reason,
    entry_decision,
    first_intraday_breakout,
    intraday_entry_block,
    level_at,
    season_for,
    sessions_read,
    threshold_at,
)
from strategies.params import BreakoutParams, LevelMode, Trigger, buffered
from strategies.sizing import entry_quantity

HISTORY_MARGIN_DAYS = 10  # weekends and holidays: twice the sessions the rule reads, plus this, in calendar days
MINUTE = timedelta(minutes=1)


def history_from(day: date, params: BreakoutParams) -> date:
    """The first day of the daily bars a decision on ``day`` reads."""
    return day - timedelta(days=2 * sessions_read(params) + HISTORY_MARGIN_DAYS)


def attempts(facts: Facts, season: int, intent: Intent, trip: int) -> list[Attempt]:
    return [
        Attempt(
            number=attempt_number(r),
            status=r.status,
            filled_qty=r.filled_qty,
            time_in_force=r.time_in_force,
            session=order_session(r.time_in_force, r.submitted_at, facts.calendar),
            reason=r.reason,
            rejection=RejectionKind(r.rejection) if r.rejection else None,
        )
        for r in facts.portfolio.attempts(season, intent, trip)
    ]


# What is due


def due(facts: Facts) -> Due:
    account, portfolio, params, now, calendar = facts.account, facts.portfolio, facts.params, facts.now, facts.calendar
    if account is not None and account.blocked_by is not None:
        return Due(step=Step.BLOCKED)
    trade, held = portfolio.open_trade(calendar.days), portfolio.held
    if trade is not None and held > 0:
        return Due(step=Step.EXIT, trade=trade)
    if trade is not None or held > 0:
        return Due(step=Step.PRICING)
    if params.trigger is Trigger.INTRADAY:
        return _look_due(facts)
    decide = timing.entry_due(now, calendar)
    closed, upcoming = decide if decide is not None and decide[0].day not in facts.decided else (None, None)
    retry = _retry_due(facts)
    if closed is None and retry is None:
        return Due(step=Step.NOTHING)
    return Due(step=Step.ENTRY, closed=closed, upcoming=upcoming, retry=retry)


def _retry_due(facts: Facts) -> tuple[Session, str] | None:
    """An entry for today's session that ended unfilled or was refused: retried as the policy says."""
    today = timing.retry_session(facts.now, facts.calendar)
    if today is None:
        return None
    season = season_for(today.day, facts.calendar.days, facts.params)
    trip = facts.portfolio.entry_trip(season)
    tried = attempts(facts, season, Intent.ENTRY, trip)
    if facts.portfolio.trip_entered(season, trip) or not tried:
        return None
    reason = policy.entry_retry(tried, today.day, facts.now, today)
    return (today, reason) if reason is not None else None


def _look_due(facts: Facts) -> Due:
    now, calendar, params = facts.now, facts.calendar, facts.params
    session = calendar.current_or_next(now)
    if session is None or now < session.opens_at + MINUTE or session.day in facts.decided:
        return Due(step=Step.NOTHING)
    entered = facts.portfolio.season_entered(season_for(session.day, calendar.days, params))
    previous = calendar.previous_before(session.day)
    if intraday_entry_block(session.day, params, traded_this_season=entered) is not None or previous is None:
        return Due(step=Step.NOTHING)
    return Due(step=Step.LOOK, closed=previous, upcoming=session)


# What to do


def plan(facts: Facts, due: Due, market: Market) -> Plan:
    if due.step is Step.EXIT:
        assert due.trade is not None
        return _exit(facts, due.trade)
    if due.step is Step.ENTRY:
        return _entry(facts, due, market)
    if due.step is Step.LOOK:
        return _look(facts, due, market)
    return Plan()


def _exit(facts: Facts, trade: OpenTrade) -> Plan:
    symbol, broker_long = facts.params.symbol, facts.broker_long
    ledger_open = min(trade.qty, facts.portfolio.held)
    order = timing.plan_exit(
        facts.now, facts.calendar, trade.planned_exit, attempts(facts, trade.season, Intent.EXIT, trade.trip),
        ledger_open, broker_long,
    )  # fmt: skip
    mismatch = {"symbol": symbol, "broker_qty": str(broker_long), "ledger_qty": str(ledger_open)}
    if order is Hold.NO_EXIT_SESSION:
        unknown = {"planned_exit": trade.planned_exit.isoformat()}
        return Plan(events=(Event("exit_session_unknown", unknown, "warning", f"exit:{trade.planned_exit}"),))
    if order is Hold.EXHAUSTED:
        return _exhausted(trade.season, trade.trip, Intent.EXIT)
    if order is Hold.NOTHING_HELD:
        return Plan(
            events=(
                Event(
                    "position_mismatch",
                    {**mismatch, "action": "no_sell"},
                    "warning",
                    f"mismatch:{trade.season}:{broker_long}",
                ),
            ),
            problems={"position_mismatch": f"broker holds {broker_long} {symbol}, the bot {ledger_open}"},
        )
    if order is Hold.NOT_YET:
        session = timing.exit_session(trade.planned_exit, facts.calendar)
        assert session is not None  # not yet: the exit session is known
        return Plan(quiet=Quiet(until=timing.exit_due_at(session, facts.calendar)))
    if not isinstance(order, ExitOrder):
        return Plan()
    events = (Event("position_mismatch", {**mismatch, "action": f"sell_{order.qty}"}, "warning"),)
    request = OrderRequest(
        symbol=symbol,
        side=Side.SELL,
        qty=order.qty,
        time_in_force=order.time_in_force,
        client_order_id=client_order_id(symbol, trade.season, Intent.EXIT, order.attempt, trade.trip),
    )
    return Plan(
        order=OrderIntent(request=request, intent=Intent.EXIT, season=trade.season, reason=order.reason),
        events=events if order.short_of_ledger else (),
        problems={"position_mismatch": None},
    )


def _exhausted(season: int, trip: int, intent: Intent) -> Plan:
    key = f"exhausted:{season}:{intent.value}" + (f":{trip}" if trip > 1 else "")
    fields = {
        "season": season,
        "trip": trip,
        "intent": intent.value,
        "attempts": policy.MAX_ORDER_ATTEMPTS,
        "action": "stopped_trying",
    }
    return Plan(
        events=(Event("order_attempts_exhausted", fields, "warning", key),),
        problems={key: f"{intent.value} orders of season {season}: {policy.MAX_ORDER_ATTEMPTS} attempts used"},
    )


def _entry(facts: Facts, due: Due, market: Market) -> Plan:
    decided = _decide_after_close(facts, due, market) if due.closed is not None else Plan()
    if decided.order is not None or due.retry is None or market.latest is None:
        return decided
    today, reason = due.retry
    tif = timing.retry_time_in_force(reason, facts.now, today)
    retried = _buy(facts, today.day, price(market.latest), tif, reason)
    return _joined(decided, retried)


def _decide_after_close(facts: Facts, due: Due, market: Market) -> Plan:
    closed, upcoming, params = due.closed, due.upcoming, facts.params
    assert closed is not None and upcoming is not None
    bars = [b for b in market.bars if b.session <= closed.day]
    if not bars or bars[-1].session != closed.day:
        missing = {"symbol": params.symbol, "session": closed.day.isoformat(),
                   "latest": bars[-1].session.isoformat() if bars else None}  # fmt: skip
        return Plan(events=(Event("bars_missing", missing, "warning", f"bars:{closed.day}"),))
    entered = facts.portfolio.season_entered(season_for(upcoming.day, facts.calendar.days, params))
    decision = entry_decision(bars, params, traded_this_season=entered)
    level, reason = level_at(bars, len(bars) - 1, params), decision.reason.value
    signal = _signal(params, closed.day, decision.action.value, reason, level, close=bars[-1].close)
    if decision.action is not Action.BUY:
        quiet = _decides_alike(params, decision.reason, level) if due.retry is None else None
        return Plan(decision=(closed.day, reason), events=(signal,), quiet=quiet)
    tif = timing.entry_time_in_force(facts.now, upcoming)
    bought = _buy(facts, upcoming.day, price(bars[-1].close), tif, reason)
    switched = (Event("entry_type_switched", {"reason": "opg_window_missed", "time_in_force": "day"}),)
    after = switched if tif is TimeInForce.DAY else ()
    return _joined(Plan(decision=(closed.day, reason), events=(signal,)), bought, Plan(events=after))


def _decides_alike(params: BreakoutParams, reason: Reason, level: float | None) -> Quiet | None:
    """The closes after a decision that are decided for the same reason: under a fixed level, every close at or
    below the threshold is below the level, and once the rule waits for a cross, every close above it waits on."""
    if params.level_mode is not LevelMode.ABSOLUTE or level is None:
        return None
    threshold = buffered(level, params.buffer_pct)
    if reason is Reason.BELOW_LEVEL:
        return Quiet(threshold=threshold, above=False, reason=reason.value)
    if reason is Reason.ALREADY_ABOVE_WAITING_FOR_CROSS:
        return Quiet(threshold=threshold, above=True, reason=reason.value)
    return None


def _look(facts: Facts, due: Due, market: Market) -> Plan:
    session, params = due.upcoming, facts.params
    assert session is not None
    reason, index = first_intraday_breakout(market.minutes, market.bars, params)
    if index is None:
        threshold = threshold_at(market.bars, len(market.bars), params)
        return Plan(awaiting=threshold if reason is Reason.BELOW_LEVEL and threshold is not None else math.inf)
    if facts.account is None:
        return Plan(needs_account=True)
    level = level_at(market.bars, len(market.bars), params)
    signal = _signal(params, session.day, "buy", reason.value, level, price=market.minutes[index].close)
    bought = _buy(facts, session.day, price(market.minutes[index].close), TimeInForce.DAY, reason.value)
    return _joined(Plan(decision=(session.day, reason.value), events=(signal,)), bought)


def _buy(facts: Facts, fill_day: date, last_price: Decimal, tif: TimeInForce, reason: str) -> Plan:
    params, account = facts.params, facts.account
    assert account is not None
    season = season_for(fill_day, facts.calendar.days, params)
    trip = facts.portfolio.entry_trip(season)
    verdict = policy.next_attempt(attempts(facts, season, Intent.ENTRY, trip), fill_day)
    if verdict.next is Next.EXHAUSTED:
        return _exhausted(season, trip, Intent.ENTRY)
    if verdict.next is not Next.SEND:
        return Plan()
    qty = entry_quantity(params.sizing, equity=account.equity, spendable=account.spendable, price=last_price)
    if qty <= 0:
        skipped = {"reason": "quantity_zero", "price": str(last_price), "spendable": str(account.spendable)}
        return Plan(events=(Event("order_skipped", skipped, "warning"),))
    coid = client_order_id(params.symbol, season, Intent.ENTRY, verdict.attempt, trip)
    request = OrderRequest(symbol=params.symbol, side=Side.BUY, qty=qty, time_in_force=tif, client_order_id=coid)
    return Plan(order=OrderIntent(request=request, intent=Intent.ENTRY, season=season, reason=reason))


def _signal(
    params: BreakoutParams, session: date, action: str, reason: str, level: float | None, **seen: float
) -> Event:
    fields = {
        "symbol": params.symbol,
        "session": session.isoformat(),
        **seen,
        "breakout_level": level,
        "threshold": None if level is None else buffered(level, params.buffer_pct),
        "action": action,
        "reason": reason,
        "trigger": params.trigger.value,
    }
    return Event("signal", fields)


def _joined(*plans: Plan) -> Plan:
    orders = [p.order for p in plans if p.order is not None]
    decisions = [p.decision for p in plans if p.decision is not None]
    return Plan(
        order=orders[0] if orders else None,
        decision=decisions[0] if decisions else None,
        events=tuple(e for p in plans for e in p.events),
        problems={k: v for p in plans for k, v in p.problems.items()},
        needs_account=any(p.needs_account for p in plans),
    )
