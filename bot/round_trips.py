"""What the ledger's fills add up to besides the open trade: closed round trips, and holdings at a moment."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bot.engine.portfolio import Portfolio, Trip
from bot.ledger import Ledger
from bot.scoring import RoundTrip


def closed_round_trips(portfolio: Portfolio) -> list[tuple[Trip, RoundTrip]]:
    """Round trips whose exit has fills, by (season, trip), in the order they were made."""
    trips = []
    for key in sorted(portfolio.entries.keys() & portfolio.exits.keys()):
        season = key[0]
        entries, exits = portfolio.entries[key], portfolio.exits[key]
        trip = RoundTrip(
            symbol=portfolio.symbol,
            qty=int(exits.qty),
            entry_session=entries.fills[0].session,
            entry_price=entries.average_price,
            exit_session=exits.fills[-1].session,
            exit_price=exits.average_price,
            benchmark_entry_price=entries.average_benchmark_price,
            benchmark_exit_price=exits.average_benchmark_price,
            season=season,
        )
        trips.append((key, trip))
    return trips


def holdings_at(ledger: Ledger, symbol: str, moment: datetime) -> tuple[Decimal, Decimal]:
    """Shares held and net cash spent (negative) or received by ``moment``, from the fills."""
    held = Decimal(0)
    cash_flow = Decimal(0)
    for fill in ledger.fills():
        if fill.symbol != symbol or fill.filled_at > moment:
            continue
        sign = 1 if fill.side == "buy" else -1
        held += sign * fill.qty
        cash_flow -= sign * fill.qty * fill.price
    return held, cash_flow
