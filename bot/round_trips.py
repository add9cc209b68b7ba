"""What the ledger's fills add up to: closed round trips, and each order's fills as one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot.engine.portfolio import Portfolio, Trip
from bot.ledger_records import FillRecord
from bot.money import price
from bot.scoring import RoundTrip


@dataclass(frozen=True, slots=True)
class Fill:
    """One order's fills: its side, first session, quantity, average price and the benchmark's average price."""

    side: str
    qty: int
    price: Decimal
    session: date
    benchmark_price: Decimal


def fills_by_order(records: Sequence[FillRecord]) -> list[Fill]:
    """Each order's fills as one, in the order the orders first filled."""
    grouped: dict[str, list[FillRecord]] = {}
    for record in records:
        grouped.setdefault(record.client_order_id, []).append(record)
    fills = []
    for parts in grouped.values():
        qty = sum((f.qty for f in parts), Decimal(0))
        fills.append(
            Fill(
                side=parts[0].side,
                qty=int(qty),
                price=price(sum((f.qty * f.price for f in parts), Decimal(0)) / qty),
                session=parts[0].session,
                benchmark_price=price(sum((f.qty * f.benchmark_price for f in parts), Decimal(0)) / qty),
            )
        )
    return sorted(fills, key=lambda f: f.session)


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
