"""Scoring a season against the benchmark: shared by the backtest and the ledger report.

The benchmark buys the same dollars as each entry at the entry fill's time and sells at the exit
fill's time, so both sides are measured over exactly the same hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

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

    @property
    def pnl(self) -> Decimal:
        return cents(self.qty * (self.exit_price - self.entry_price))

    @property
    def return_ratio(self) -> Decimal:
        return self.exit_price / self.entry_price - 1

    @property
    def benchmark_return_ratio(self) -> Decimal:
        return self.benchmark_exit_price / self.benchmark_entry_price - 1


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
        return _compound(t.return_ratio for t in self.trades)

    @property
    def benchmark_return_ratio(self) -> Decimal:
        return _compound(t.benchmark_return_ratio for t in self.trades)

    @property
    def excess_return_pct(self) -> Decimal:
        return pct(self.strategy_return_ratio - self.benchmark_return_ratio)

    @property
    def claim_holds(self) -> bool | None:
        """Did the symbol return at least twice the benchmark over the hold? None without a trade."""
        if not self.trades:
            return None
        return claim_holds(self.strategy_return_ratio, self.benchmark_return_ratio)


def claim_holds(symbol_return: Decimal, benchmark_return: Decimal) -> bool:
    """The article's claim: a positive return of at least twice the benchmark's over the same days."""
    return symbol_return > 0 and symbol_return >= 2 * benchmark_return


def _compound(ratios: Any) -> Decimal:
    total = Decimal(1)
    for ratio in ratios:
        total *= 1 + ratio
    return total - 1


def max_drawdown_pct(equity: Sequence[Decimal]) -> Decimal:
    peak = Decimal(0)
    worst = Decimal(0)
    for value in equity:
        peak = max(peak, value)
        if peak > 0:
            worst = min(worst, value / peak - 1)
    return pct(-worst)


def _number(value: Decimal) -> float:
    return float(value)


def scorecard_json(card: Scorecard) -> dict[str, Any]:
    first, last = (card.trades[0], card.trades[-1]) if card.trades else (None, None)
    return {
        "trades": [
            {
                "symbol": t.symbol,
                "entry_date": t.entry_session.isoformat(),
                "entry_price": _number(t.entry_price),
                "exit_date": t.exit_session.isoformat(),
                "exit_price": _number(t.exit_price),
                "qty": t.qty,
                "pnl": _number(t.pnl),
                "return_pct": _number(pct(t.return_ratio)),
                "closed": t.closed,
            }
            for t in card.trades
        ],
        "benchmark": {
            "symbol": card.benchmark,
            "entry_price": _number(first.benchmark_entry_price) if first else None,
            "exit_price": _number(last.benchmark_exit_price) if last else None,
            "return_pct": _number(pct(card.benchmark_return_ratio)) if card.trades else None,
        },
        "excess_return_pct": _number(card.excess_return_pct) if card.trades else None,
        "start_equity": _number(card.start_equity),
        "end_equity": _number(card.end_equity),
        "max_drawdown_pct": _number(card.max_drawdown_pct),
        "claim_holds": card.claim_holds,
    }


def verdict_line(card: Scorecard) -> str:
    if not card.trades:
        return f"Verdict: no trade, so the claim that {card.symbol} doubles {card.benchmark} was not tested."
    mine = pct(card.strategy_return_ratio)
    theirs = pct(card.benchmark_return_ratio)
    held = "held" if card.claim_holds else "did NOT hold"
    still_open = "" if all(t.closed for t in card.trades) else " (still open, marked at the last close)"
    return (
        f"Verdict: the claim {held}: {card.symbol} returned {mine}% vs {card.benchmark} {theirs}% "
        f"(needs at least twice the benchmark){still_open}."
    )


def render_table(card: Scorecard) -> str:
    lines = [
        f"{'symbol':<7} {'entry':<10} {'price':>10} {'exit':<10} {'price':>10} {'qty':>7} {'pnl':>12} {'return%':>9}"
    ]
    for t in card.trades:
        lines.append(
            f"{t.symbol:<7} {t.entry_session.isoformat():<10} {t.entry_price:>10} "
            f"{t.exit_session.isoformat():<10} {t.exit_price:>10} {t.qty:>7} {t.pnl:>12} "
            f"{pct(t.return_ratio):>9}{'' if t.closed else '  (open)'}"
        )
    if not card.trades:
        lines.append("(no trades)")
    lines.append("")
    if card.trades:
        lines.append(
            f"{card.benchmark} same dollars, same days: {card.trades[0].benchmark_entry_price} -> "
            f"{card.trades[-1].benchmark_exit_price}, return {pct(card.benchmark_return_ratio)}%"
        )
        lines.append(f"Excess return: {card.excess_return_pct}%")
    lines.append(f"Equity: {cents(card.start_equity)} -> {cents(card.end_equity)}")
    lines.append(f"Max drawdown: {card.max_drawdown_pct}%")
    lines.append(verdict_line(card))
    return "\n".join(lines)
