"""The closed round trips the ledger's fills add up to."""

from __future__ import annotations

from bot.engine.portfolio import Portfolio, Trip
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
