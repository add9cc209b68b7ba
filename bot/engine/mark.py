"""The daily mark, pure: at a settled session's close, the bot's equity from its fills, and while it holds, the
position against the same dollars in the benchmark (the ``pnl`` event). The cycle stores it as the ledger's
snapshot of that session, from which the score's equity curve and hold chart are drawn."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bot.domain import Session
from bot.engine.plan_types import Event
from bot.engine.portfolio import OpenTrade
from bot.ledger_records import Snapshot
from bot.market import venue
from bot.money import cents, pct, price
from bot.season_calendar import TradingCalendar
from strategies.params import BreakoutParams


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
) -> tuple[Snapshot, Event | None]:
    """The snapshot of ``session`` (``held`` and ``cash_flow``: the fills' shares and net cash by its close; the
    closes are read only when ``held``), and the ``pnl`` event while a trade is open."""
    if not held:
        return Snapshot(session.day, start_equity + cash_flow, held, Decimal(0), Decimal(0)), None
    close_price, benchmark_price = price(close), price(benchmark_close)
    equity = start_equity + cash_flow + held * close_price
    if trade is None or held < 0:
        return Snapshot(session.day, equity, held, held * close_price, Decimal(0)), None
    benchmark_value = held * trade.entry_price * benchmark_price / trade.benchmark_entry_price
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
    return Snapshot(session.day, equity, held, held * close_price, benchmark_value), event
