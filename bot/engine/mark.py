"""The daily mark, pure: at a settled session's close, the bot's equity from its fills, and while it holds, the
position against the same dollars in the benchmark (the ``pnl`` event). The cycle stores it as the ledger's
snapshot of that session, from which the score's equity curve and hold chart are drawn."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from bot.domain import Session
from bot.engine.plan_types import Event, Facts, Market
from bot.engine.portfolio import OpenTrade
from bot.ledger_records import Snapshot
from bot.market import venue
from bot.money import cents, pct, price
from bot.season_calendar import TradingCalendar
from strategies.bars import DailyBar
from strategies.params import BreakoutParams

ZERO = Decimal(0)


def settled_session(now: datetime, calendar: TradingCalendar) -> Session | None:
    """The latest session whose daily bar is final (a partial bar for today is never a closed session)."""
    closed = calendar.last_closed(now)
    while closed is not None and not venue.data_settled(now, closed):
        closed = calendar.previous_before(closed.day)
    return closed


def daily_mark(
    session: Session,
    *,
    close: float,
    benchmark_close: float,
    held: Decimal,
    cash_flow: Decimal,
    start_equity: Decimal,
    trade: OpenTrade | None,
    params: BreakoutParams,
    logged: bool = True,
) -> tuple[Snapshot, Event | None]:
    """The snapshot of ``session`` (``held`` and ``cash_flow``: the fills' shares and net cash by its close; the
    closes are read only when ``held``), and the ``pnl`` event while a trade is open (when ``logged``)."""
    if not held:
        return Snapshot(session.day, start_equity + cash_flow, held, ZERO, ZERO), None
    close_price, benchmark_price = price(close), price(benchmark_close)
    equity = start_equity + cash_flow + held * close_price
    if trade is None or held < 0:
        return Snapshot(session.day, equity, held, held * close_price, ZERO), None
    benchmark_value = held * trade.entry_price * benchmark_price / trade.benchmark_entry_price
    snapshot = Snapshot(session.day, equity, held, held * close_price, benchmark_value)
    if not logged:
        return snapshot, None
    mine = close_price / trade.entry_price - 1
    theirs = benchmark_price / trade.benchmark_entry_price - 1
    event = Event(
        "pnl",
        {
            "session": session.day.isoformat(),
            "symbol": params.symbol,
            "position_qty": str(held),
            "close": str(close_price),
            "position_value": str(cents(held * close_price)),
            "unrealized_pnl": str(cents(held * (close_price - trade.entry_price))),
            "symbol_return_pct": str(pct(mine)),
            "benchmark": params.benchmark,
            "benchmark_close": str(benchmark_price),
            "benchmark_return_pct": str(pct(theirs)),
            "excess_return_pct": str(pct(mine - theirs)),
            "ratio": str(round(mine / theirs, 4)) if theirs != 0 else None,
            "equity": str(cents(equity)),
        },
    )
    return snapshot, event


def plan_mark(
    facts: Facts, session: Session, market: Market, logged: bool = True
) -> tuple[Snapshot | None, tuple[Event, ...]]:
    """The snapshot of a settled session from its closes (``market``; none needed when flat at its close, where
    the equity is the cash), and the events to log with it (the ``pnl`` event only when ``logged``)."""
    params, day = facts.params, session.day
    held, cash_flow = facts.portfolio.holdings_at(session.closes_at)
    close, benchmark_close = (_close_on(market.bars, day), _close_on(market.benchmark_bars, day)) if held else (0, 0)
    if held and (close is None or benchmark_close is None):
        missing = {"session": day.isoformat(), "symbol": params.symbol if close is None else params.benchmark}
        return None, (Event("bars_missing", missing, "warning", f"snap:{day}"),)
    snapshot, pnl = daily_mark(
        session, close=close or 0.0, benchmark_close=benchmark_close or 0.0, held=held, cash_flow=cash_flow,
        start_equity=facts.start_equity, params=params,
        trade=facts.portfolio.open_trade(facts.calendar.days) if held else None,
        logged=logged,
    )  # fmt: skip
    return snapshot, (pnl,) if pnl is not None else ()


def _close_on(bars: Sequence[DailyBar], day: date) -> float | None:
    for bar in reversed(bars):
        if bar.session <= day:
            return bar.close if bar.session == day else None
    return None
