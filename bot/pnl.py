"""Daily P&L snapshots and the closed-trade score, from the ledger and the broker's settled daily bars."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bot.broker.base import Broker
from bot.engine.portfolio import Portfolio, Trip
from bot.errors import BrokerError
from bot.ledger import Ledger, Snapshot
from bot.market import venue
from bot.market.dividends import Dividends
from bot.money import cents, pct, price
from bot.round_trips import closed_round_trips, holdings_at
from bot.scoring import claim_holds, trip_with_dividends
from bot.season_calendar import TradingCalendar
from strategies.params import BreakoutParams


def _settled_session(now: datetime, calendar: TradingCalendar) -> Any:
    """The latest session whose daily bar is final (a partial bar for today is never a closed session)."""
    closed = calendar.last_closed(now)
    while closed is not None and not venue.data_settled(now, closed):
        closed = calendar.previous_before(closed.day)
    return closed


def take_snapshot(
    ledger: Ledger,
    portfolio: Portfolio,
    broker: Broker,
    now: datetime,
    calendar: TradingCalendar,
    log: Any,
    warn_once: Callable[..., None],
) -> None:
    params, trade = portfolio.params, portfolio.open_trade(calendar.days)
    closed = _settled_session(now, calendar)
    if closed is None or ledger.has_snapshot(closed.day):
        return
    first = ledger.meta().first_session
    if first is None:
        # Sessions that closed before the bot first ran are not ours to score.
        ledger.remember(first_session=(calendar.next_after(closed.day) or closed).day)
        return
    if closed.day < first:
        return
    symbol_bars = [b for b in broker.daily_bars(params.symbol, closed.day, closed.day) if b.session == closed.day]
    benchmark_bars = [b for b in broker.daily_bars(params.benchmark, closed.day, closed.day) if b.session == closed.day]
    if not symbol_bars or not benchmark_bars:
        missing = params.symbol if not symbol_bars else params.benchmark
        warn_once(f"snap:{closed.day}", "bars_missing", session=closed.day.isoformat(), symbol=missing)
        return
    close, benchmark_close = price(symbol_bars[-1].close), price(benchmark_bars[-1].close)
    held, cash_flow = holdings_at(ledger, params.symbol, closed.closes_at)
    start_equity = ledger.meta().start_equity or Decimal(0)
    equity = start_equity + cash_flow + held * close
    benchmark_value = Decimal(0)
    if trade is not None and held > 0:
        benchmark_value = held * trade.entry_price * benchmark_close / trade.benchmark_entry_price
    # Before the snapshot, so that a failed request is tried again with it on the next pass.
    if trade is not None and held > 0:
        record_dividends(ledger, broker, params, trade.entry_session, closed.day)
    else:
        # The exit session's own ex-dates, if the fetch at the close failed.
        ended = {key for key, leg in portfolio.exits.items() if leg.fills[-1].session == closed.day}
        for trip in [trip for key, trip in closed_round_trips(portfolio) if key in ended] if ended else []:
            record_dividends(ledger, broker, params, trip.entry_session, trip.exit_session)
    ledger.add_snapshot(Snapshot(closed.day, equity, held, held * close, benchmark_value))
    if trade is not None and held > 0:
        mine = close / trade.entry_price - 1
        theirs = benchmark_close / trade.benchmark_entry_price - 1
        log.info(
            "pnl",
            session=closed.day.isoformat(),
            symbol=params.symbol,
            position_qty=str(held),
            close=str(close),
            position_value=str(cents(held * close)),
            unrealized_pnl=str(cents(held * (close - trade.entry_price))),
            symbol_return_pct=str(pct(mine)),
            benchmark=params.benchmark,
            benchmark_close=str(benchmark_close),
            benchmark_return_pct=str(pct(theirs)),
            excess_return_pct=str(pct(mine - theirs)),
            ratio=str(round(mine / theirs, 4)) if theirs != 0 else None,
            equity=str(cents(equity)),
        )


def record_dividends(ledger: Ledger, broker: Broker, params: BreakoutParams, first: date, last: date) -> None:
    """The cash dividends of both legs with ex-dates in the hold so far: Alpaca paper credits none, the score does."""
    found = broker.cash_dividends([params.symbol, params.benchmark], first, last)
    for symbol, dividends in found.items():
        for dividend in dividends:
            ledger.record_dividend(symbol, dividend.ex_date, dividend.amount)


def ledger_dividends(ledger: Ledger) -> Dividends:
    return ledger.dividends()


def log_trade_closed(ledger: Ledger, portfolio: Portfolio, broker: Broker, key: Trip, log: Any) -> None:
    params, season = portfolio.params, key[0]
    trip = next((trip for k, trip in closed_round_trips(portfolio) if k == key), None)
    if trip is None:
        return
    try:
        record_dividends(ledger, broker, params, trip.entry_session, trip.exit_session)  # an ex-date on the exit day
    except BrokerError as exc:  # told now with what the ledger has; the exit session's snapshot fetches again
        log.warning("dividends_unavailable", season=season, cause=str(exc), action="scored_without_the_last")
    trip = trip_with_dividends(trip, ledger_dividends(ledger), params.benchmark)
    log.info(
        "trade_closed",
        symbol=trip.symbol,
        season=season,
        qty=trip.qty,
        entry_date=trip.entry_session.isoformat(),
        entry_price=str(trip.entry_price),
        exit_date=trip.exit_session.isoformat(),
        exit_price=str(trip.exit_price),
        realized_pnl=str(trip.pnl),
        return_pct=str(pct(trip.return_ratio)),
        benchmark=params.benchmark,
        benchmark_return_pct=str(pct(trip.benchmark_return_ratio)),
        excess_return_pct=str(pct(trip.return_ratio - trip.benchmark_return_ratio)),
        claim_holds=claim_holds(trip.return_ratio, trip.benchmark_return_ratio),
        total_return_pct=str(pct(trip.total_return_ratio)),
        benchmark_total_return_pct=str(pct(trip.benchmark_total_return_ratio)),
        claim_holds_total=claim_holds(trip.total_return_ratio, trip.benchmark_total_return_ratio),
    )
