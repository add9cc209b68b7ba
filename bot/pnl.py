"""Daily P&L snapshots and the closed-trade score, from the ledger and the broker's settled daily bars."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.broker.base import Broker
from bot.engine.portfolio import OpenTrade, Portfolio, Trip
from bot.errors import BrokerError
from bot.ledger import Ledger
from bot.market.dividends import Dividends
from bot.money import pct
from bot.round_trips import closed_round_trips
from bot.scoring import claim_holds, trip_with_dividends
from strategies.params import BreakoutParams


def record_mark_dividends(
    ledger: Ledger, portfolio: Portfolio, broker: Broker, day: date, trade: OpenTrade | None
) -> None:
    """The dividends a session's mark scores with: the hold's so far (``trade``: the one held at its close), or the
    exit session's own ex-dates (if the fetch at the close failed). Recorded before the snapshot, so that a failed
    request is tried again with it."""
    params = portfolio.params
    if trade is not None:
        record_dividends(ledger, broker, params, trade.entry_session, day)
        return
    if day not in portfolio.exit_sessions:
        return
    ended = {key for key, leg in portfolio.exits.items() if leg.fills[-1].session == day}
    for trip in [trip for key, trip in closed_round_trips(portfolio) if key in ended] if ended else []:
        record_dividends(ledger, broker, params, trip.entry_session, trip.exit_session)


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
        trip=key[1],
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
