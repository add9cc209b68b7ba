"""``bot sweep``: the rule over a grid of breakout levels and holds, vectorised with numpy.

Each cell takes the first fresh breakout above its level (a close above it after a close at or below it),
buys at the next session's open and sells at the close of the session ``hold`` sessions later, or, given exit
dates, as ``STRATEGY_EXIT_DATE`` does in the backtest: at the close of the last session on or before the date,
ignoring breakouts on or after it. Prices are rounded to four decimals as the backtest's fills are. The
benchmark buys and sells at the same moments. A cell is empty when its level never breaks out or its exit
falls after the data's last session.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bot.backtest.command import iso_date
from bot.config import Settings
from bot.errors import ConfigError
from bot.market.csv_data import load_symbols, require_benchmark_coverage

MAX_VALUES = 100_000
MAX_CELLS = 1_000_000
# Levels are compared with every close in blocks, so a fine grid over decades stays within a few MB.
_BLOCK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class SweepResult:
    levels: np.ndarray
    holds: list[int | date]
    entry_index: np.ndarray  # per level; -1 when the level never breaks out
    exit_index: np.ndarray  # per cell; -1 when empty
    entry_price: np.ndarray  # per level; NaN when the level never breaks out
    exit_price: np.ndarray  # per cell; NaN when empty
    return_pct: np.ndarray  # per cell; NaN when empty
    benchmark_return_pct: np.ndarray
    sessions: list[date]

    @property
    def excess_return_pct(self) -> np.ndarray:
        excess: np.ndarray = self.return_pct - self.benchmark_return_pct
        return excess


def _first_entries(closes: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Per level, the index of the session after its first fresh breakout; -1 when there is none to buy on."""
    entry = np.full(levels.size, -1)
    if closes.size < 2:
        return entry
    rows = max(1, _BLOCK_ELEMENTS // max(closes.size, 1))
    for first in range(0, levels.size, rows):
        block = levels[first : first + rows, None]
        crossed = (closes[None, 1:] > block) & (closes[None, :-1] <= block)
        signal = crossed.argmax(axis=1) + 1
        entry[first : first + rows] = np.where(crossed.any(axis=1) & (signal + 1 < closes.size), signal + 1, -1)
    return entry


def _exits_by_date(sessions: np.ndarray, entry: np.ndarray, exit_dates: list[date]) -> np.ndarray:
    """Exit sessions per (level, exit date), the way the backtest plans an exit for ``STRATEGY_EXIT_DATE``.

    A breakout on or after the date is not bought. When the date falls between the breakout and the next
    session (a weekend or holiday), the backtest buys at the open and sells that session's close as overdue.
    """
    dates = np.asarray(exit_dates, dtype="datetime64[D]")
    last_on_or_before = np.searchsorted(sessions, dates, side="right") - 1
    first_on_or_after = np.searchsorted(sessions, dates, side="left")
    signal = (entry - 1)[:, None]
    taken = (entry[:, None] >= 0) & (signal < first_on_or_after[None, :]) & (dates <= sessions[-1])[None, :]
    exit_index = np.maximum(last_on_or_before[None, :], entry[:, None])
    result: np.ndarray = np.where(taken, exit_index, -1)
    return result


def sweep(
    symbol: pd.DataFrame,
    benchmark: pd.DataFrame,
    levels: np.ndarray,
    *,
    hold_days: list[int] | None = None,
    exit_dates: list[date] | None = None,
) -> SweepResult:
    sessions = list(symbol.index)
    closes = symbol["close"].to_numpy(dtype=float)
    opens = symbol["open"].to_numpy(dtype=float).round(4)
    exit_closes = closes.round(4)
    bench = benchmark.reindex(symbol.index)
    bench_open = bench["open"].to_numpy(dtype=float).round(4)
    bench_close = bench["close"].to_numpy(dtype=float).round(4)
    entry = _first_entries(closes, levels)
    holds: list[int | date]
    if hold_days is not None:
        holds = list(hold_days)
        exit_index = np.where(entry[:, None] >= 0, entry[:, None] + np.asarray(hold_days, dtype=int)[None, :], -1)
    elif exit_dates is not None:
        holds = list(exit_dates)
        exit_index = _exits_by_date(np.asarray(sessions, dtype="datetime64[D]"), entry, exit_dates)
    else:
        raise ValueError("give hold_days or exit_dates")
    valid = (exit_index >= 0) & (exit_index < closes.size)
    exit_index = np.where(valid, exit_index, -1)
    safe_entry = np.where(entry >= 0, entry, 0)[:, None]
    safe_exit = np.where(valid, exit_index, 0)
    entry_price = np.where(entry >= 0, opens[np.where(entry >= 0, entry, 0)], np.nan)
    exit_price = np.where(valid, exit_closes[safe_exit], np.nan)
    mine = (exit_price / entry_price[:, None] - 1.0) * 100
    theirs = np.where(valid, bench_close[safe_exit] / bench_open[safe_entry] - 1.0, np.nan) * 100
    return SweepResult(levels, holds, entry, exit_index, entry_price, exit_price, mine, theirs, sessions)


def _range(text: str, name: str, *, integer: bool) -> list[float]:
    try:
        first, last, step = (Decimal(part) for part in text.split(":"))
    except (ValueError, InvalidOperation):
        raise ConfigError(f"{name} {text!r}: expected START:STOP:STEP, for example 180:220:0.5") from None
    if not all(value.is_finite() and abs(value) < 10**9 for value in (first, last, step)):
        raise ConfigError(f"{name} {text!r}: START, STOP and STEP must be finite numbers below 1e9")
    if step <= 0 or last < first:
        raise ConfigError(f"{name} {text!r}: STEP must be positive and STOP at least START")
    if integer and any(v != v.to_integral_value() for v in (first, last, step)):
        raise ConfigError(f"{name} {text!r}: whole numbers only")
    if integer and first < 0:
        raise ConfigError(f"{name} {text!r}: must not be negative")
    if not integer and first <= 0:
        raise ConfigError(f"{name} {text!r}: levels must be positive")
    count = int((last - first) / step) + 1
    if count > MAX_VALUES:
        raise ConfigError(f"{name} {text!r}: {count} values is more than {MAX_VALUES}")
    return [float(first + i * step) for i in range(count)]


def _dates(text: str) -> list[date]:
    try:
        days = sorted({date.fromisoformat(part.strip()) for part in text.split(",") if part.strip()})
    except ValueError:
        raise ConfigError(f"--exit-dates {text!r}: expected dates YYYY-MM-DD separated by commas") from None
    if not days:
        raise ConfigError("--exit-dates: give at least one date")
    if len(days) > MAX_VALUES:
        raise ConfigError(f"--exit-dates: {len(days)} dates is more than {MAX_VALUES}")
    return days


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="directory with <SYMBOL>.csv daily files")
    parser.add_argument("--levels", required=True, help="breakout levels START:STOP:STEP, e.g. 180:220:1")
    holds = parser.add_mutually_exclusive_group(required=True)
    holds.add_argument("--hold-days", help="sessions held after the entry, START:STOP:STEP, e.g. 20:140:5")
    holds.add_argument("--exit-dates", help="exit dates D1,D2,... (the last session on or before each)")
    parser.add_argument("--start", type=iso_date, help="first session a breakout may happen on")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--chart", type=Path, help="write a heatmap PNG of the excess return")


def run(args: argparse.Namespace, settings: Settings) -> int:
    strategy = settings.strategy
    levels = np.asarray(_range(args.levels, "--levels", integer=False))
    hold_days = [int(v) for v in _range(args.hold_days, "--hold-days", integer=True)] if args.hold_days else None
    exit_dates = _dates(args.exit_dates) if args.exit_dates is not None else None
    holds = len(hold_days) if hold_days is not None else len(exit_dates or [])
    if levels.size * holds > MAX_CELLS:
        raise ConfigError(
            f"--levels {args.levels!r} and {'--hold-days' if hold_days is not None else '--exit-dates'} make "
            f"{levels.size * holds} cells, more than {MAX_CELLS}; use a coarser STEP"
        )
    frames = load_symbols(args.data, [strategy.symbol, strategy.benchmark])
    require_benchmark_coverage(frames, strategy.symbol, strategy.benchmark, args.data)
    symbol = frames[strategy.symbol]
    if args.start:
        # The bar before the start still tells whether the first bar is a fresh cross.
        first = max(int(np.searchsorted(np.asarray(list(symbol.index), dtype=object), args.start)) - 1, 0)
        symbol = symbol.iloc[first:]
    result = sweep(symbol, frames[strategy.benchmark], levels, hold_days=hold_days, exit_dates=exit_dates)
    if args.chart:
        write_heatmap(result, args.chart, strategy.symbol, strategy.benchmark)
    print(json.dumps(sweep_json(result)) if args.json else render(result))
    return 0


def _label(hold: int | date) -> str:
    return hold.isoformat() if isinstance(hold, date) else str(hold)


def _number(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 4)


def _ratio(mine: float, theirs: float) -> float | None:
    return None if np.isnan(mine) or np.isnan(theirs) or theirs == 0 else round(float(mine / theirs), 4)


def _claim(mine: float, theirs: float) -> bool | None:
    return None if np.isnan(mine) or np.isnan(theirs) else bool(mine > 0 and mine >= 2 * theirs)


def sweep_json(result: SweepResult) -> dict[str, Any]:
    cells = []
    for i, level in enumerate(result.levels):
        for j, hold in enumerate(result.holds):
            filled = result.exit_index[i, j] >= 0
            cells.append(
                {
                    "level": float(level),
                    "hold": _label(hold),
                    "entry_date": result.sessions[result.entry_index[i]].isoformat() if filled else None,
                    "entry_price": _number(result.entry_price[i]) if filled else None,
                    "exit_date": result.sessions[result.exit_index[i, j]].isoformat() if filled else None,
                    "exit_price": _number(result.exit_price[i, j]),
                    "return_pct": _number(result.return_pct[i, j]),
                    "benchmark_return_pct": _number(result.benchmark_return_pct[i, j]),
                    "excess_return_pct": _number(result.excess_return_pct[i, j]),
                    # the article's statistic: symbol return over the benchmark's, needing >= 2 (price returns)
                    "ratio": _ratio(result.return_pct[i, j], result.benchmark_return_pct[i, j]),
                    "claim_holds": _claim(result.return_pct[i, j], result.benchmark_return_pct[i, j]),
                }
            )
    return {"levels": [float(v) for v in result.levels], "holds": [_label(h) for h in result.holds], "cells": cells}


def render(result: SweepResult) -> str:
    excess = result.excess_return_pct
    filled = int(np.count_nonzero(~np.isnan(excess)))
    lines = [f"{result.levels.size} levels x {len(result.holds)} holds = {excess.size} cells, {filled} with a trade"]
    if filled:
        i, j = np.unravel_index(np.nanargmax(excess), excess.shape)
        k, m = np.unravel_index(np.nanargmin(excess), excess.shape)
        lines.append(f"best excess  {excess[i, j]:+.2f}% at level {result.levels[i]:g}, hold {_label(result.holds[j])}")
        lines.append(f"worst excess {excess[k, m]:+.2f}% at level {result.levels[k]:g}, hold {_label(result.holds[m])}")
        lines.append(
            f"median excess {np.nanmedian(excess):+.2f}%; cells beating the benchmark: {int(np.nansum(excess > 0))}"
        )
    return "\n".join(lines)


def write_heatmap(result: SweepResult, path: Path, symbol: str, benchmark: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(10, 6), dpi=100)
    try:
        data = np.ma.masked_invalid(result.excess_return_pct)
        limit = float(np.nanmax(np.abs(result.excess_return_pct))) if data.count() else 1.0
        image = axes.imshow(data, aspect="auto", origin="lower", cmap="RdYlGn", vmin=-limit, vmax=limit)
        figure.colorbar(image, ax=axes, label=f"excess return over {benchmark}, %")
        axes.set_ylabel("breakout level")
        axes.set_xlabel("hold (sessions)" if result.holds and isinstance(result.holds[0], int) else "exit date")
        rows = np.linspace(0, result.levels.size - 1, min(result.levels.size, 10)).astype(int)
        cols = np.linspace(0, len(result.holds) - 1, min(len(result.holds), 10)).astype(int)
        axes.set_yticks(rows, [f"{result.levels[r]:g}" for r in rows])
        labels = [_label(hold) for hold in result.holds]
        axes.set_xticks(cols, [labels[c] for c in cols], rotation=45)
        axes.set_title(f"{symbol} breakout: excess return over {benchmark}")
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    finally:
        plt.close(figure)
