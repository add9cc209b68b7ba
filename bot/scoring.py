"""Scoring a season against the benchmark: shared by the backtest and the ledger report.

The benchmark buys the same dollars as each entry at the entry fill's time and sells at the exit
fill's time, so both sides are measured over exactly the same hold. Each leg is scored on price and on total
return (with the cash dividends of ex-dates inside the hold). Legs of one season (an exit that filled in parts,
a part still open) are weighted by their dollars; seasons compound one after the other, over held days only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from bot.market.dividends import Dividend, per_share_in_hold
from bot.money import cents, pct


@dataclass(frozen=True, slots=True)
class RoundTrip:
    symbol: str
    qty: int
    entry_session: date
    entry_price: Decimal
    exit_session: date
    exit_price: Decimal
    benchmark_entry_price: Decimal
    benchmark_exit_price: Decimal
    closed: bool = True
    season: int = 0
    dividends_per_share: Decimal = Decimal(0)
    benchmark_dividends_per_share: Decimal = Decimal(0)

    @property
    def pnl(self) -> Decimal:
        return cents(self.qty * (self.exit_price - self.entry_price))

    @property
    def cost(self) -> Decimal:
        return self.qty * self.entry_price

    @property
    def return_ratio(self) -> Decimal:
        return self.exit_price / self.entry_price - 1

    @property
    def benchmark_return_ratio(self) -> Decimal:
        return self.benchmark_exit_price / self.benchmark_entry_price - 1

    @property
    def total_return_ratio(self) -> Decimal:
        return (self.exit_price + self.dividends_per_share) / self.entry_price - 1

    @property
    def benchmark_total_return_ratio(self) -> Decimal:
        return (self.benchmark_exit_price + self.benchmark_dividends_per_share) / self.benchmark_entry_price - 1


@dataclass(frozen=True, slots=True)
class HoldPoint:
    """The position and the same dollars in the benchmark, marked at one session's close."""

    session: date
    position_value: Decimal
    benchmark_value: Decimal


@dataclass(frozen=True, slots=True)
class Scorecard:
    symbol: str
    benchmark: str
    trades: tuple[RoundTrip, ...]
    start_equity: Decimal
    end_equity: Decimal
    max_drawdown_pct: Decimal
    hold_curve: tuple[HoldPoint, ...] = ()

    @property
    def strategy_return_ratio(self) -> Decimal:
        return _compound(self.trades, lambda t: t.return_ratio)

    @property
    def benchmark_return_ratio(self) -> Decimal:
        return _compound(self.trades, lambda t: t.benchmark_return_ratio)

    @property
    def strategy_total_return_ratio(self) -> Decimal:
        return _compound(self.trades, lambda t: t.total_return_ratio)

    @property
    def benchmark_total_return_ratio(self) -> Decimal:
        return _compound(self.trades, lambda t: t.benchmark_total_return_ratio)

    @property
    def excess_return_pct(self) -> Decimal:
        return pct(self.strategy_return_ratio - self.benchmark_return_ratio)

    @property
    def closed_trades(self) -> tuple[RoundTrip, ...]:
        return tuple(t for t in self.trades if t.closed)

    @property
    def claim_holds(self) -> bool | None:
        """Did the symbol return at least twice the benchmark over the hold, on price? None without a trade."""
        if not self.trades:
            return None
        return claim_holds(self.strategy_return_ratio, self.benchmark_return_ratio)

    @property
    def claim_holds_total(self) -> bool | None:
        """The same with dividends."""
        if not self.trades:
            return None
        return claim_holds(self.strategy_total_return_ratio, self.benchmark_total_return_ratio)

    def seasons(self) -> dict[int, tuple[RoundTrip, ...]]:
        return by_season(self.trades)


def by_season(trades: Sequence[RoundTrip]) -> dict[int, tuple[RoundTrip, ...]]:
    grouped: dict[int, list[RoundTrip]] = {}
    for trade in trades:
        grouped.setdefault(trade.season or trade.exit_session.year, []).append(trade)
    return {season: tuple(legs) for season, legs in grouped.items()}


def claim_holds(symbol_return: Decimal | float, benchmark_return: Decimal | float) -> bool:
    """The article's claim: a positive return of at least twice the benchmark's over the same days."""
    return symbol_return > 0 and symbol_return >= 2 * benchmark_return


def season_ratio(legs: Sequence[RoundTrip], ratio: Callable[[RoundTrip], Decimal]) -> Decimal:
    """One season's return: its legs (same entry, exits in parts) weighted by their dollars."""
    cost = sum((leg.cost for leg in legs), Decimal(0))
    return sum((leg.cost * ratio(leg) for leg in legs), Decimal(0)) / cost if cost else Decimal(0)


def _compound(trades: Sequence[RoundTrip], ratio: Callable[[RoundTrip], Decimal]) -> Decimal:
    """Seasons one after the other; each season's legs side by side."""
    total = Decimal(1)
    for legs in by_season(trades).values():
        total *= 1 + season_ratio(legs, ratio)
    return total - 1


def trip_with_dividends(trip: RoundTrip, dividends: Mapping[str, Sequence[Dividend]], benchmark: str) -> RoundTrip:
    """The round trip with both legs' dividends per share over its hold (none for a symbol without any)."""
    return replace(
        trip,
        dividends_per_share=per_share_in_hold(dividends.get(trip.symbol, ()), trip.entry_session, trip.exit_session),
        benchmark_dividends_per_share=per_share_in_hold(
            dividends.get(benchmark, ()), trip.entry_session, trip.exit_session
        ),
    )


def with_dividends(card: Scorecard, dividends: Mapping[str, Sequence[Dividend]]) -> Scorecard:
    return replace(card, trades=tuple(trip_with_dividends(t, dividends, card.benchmark) for t in card.trades))


def max_drawdown_pct(equity: Sequence[Decimal]) -> Decimal:
    peak = Decimal(0)
    worst = Decimal(0)
    for value in equity:
        peak = max(peak, value)
        if peak > 0:
            worst = min(worst, value / peak - 1)
    return pct(-worst)
