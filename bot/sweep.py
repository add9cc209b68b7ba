"""``bot sweep``: the rule over a grid of breakout levels and holds, vectorised with numpy.

Each cell takes the first fresh breakout above its level (a close above it after a close at or below it),
buys at the next session's open and sells at the close of the session ``hold`` sessions later (or of the last
session on or before an exit date), exactly as the event-driven backtest fills. The benchmark buys and sells
at the same moments. Cells whose level never breaks out, or whose exit falls outside the data, are empty.
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

from bot.config import Settings
from bot.errors import ConfigError
from bot.market.csv_data import load_symbols, require_benchmark_coverage


@dataclass(frozen=True)
class SweepResult:
    levels: np.ndarray
    holds: list[int | date]
    entry_index: np.ndarray  # per level; -1 when the level never breaks out
    exit_index: np.ndarray  # per cell; -1 when empty
    return_pct: np.ndarray  # per cell; NaN when empty
    benchmark_return_pct: np.ndarray
    sessions: list[date]

    @property
    def excess_return_pct(self) -> np.ndarray:
        excess: np.ndarray = self.return_pct - self.benchmark_return_pct
        return excess


def _first_entries(closes: np.ndarray, levels: np.ndarray) -> np.ndarray:
    above = closes[None, :] > levels[:, None]
    crossed = above[:, 1:] & ~above[:, :-1]
    has_cross = crossed.any(axis=1)
    signal = crossed.argmax(axis=1) + 1
    entry = signal + 1
    entry[~has_cross | (entry >= closes.size)] = -1
    result: np.ndarray = entry
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
    opens = symbol["open"].to_numpy(dtype=float)
    bench = benchmark.reindex(symbol.index)
    bench_open, bench_close = bench["open"].to_numpy(dtype=float), bench["close"].to_numpy(dtype=float)
    entry = _first_entries(closes, levels)
    if hold_days is not None:
        holds: list[int | date] = list(hold_days)
        exit_index = entry[:, None] + np.asarray(hold_days)[None, :]
    elif exit_dates is not None:
        holds = list(exit_dates)
        cutoffs = np.searchsorted(np.asarray(sessions, dtype=object), np.asarray(exit_dates, dtype=object), "right") - 1
        exit_index = np.broadcast_to(cutoffs[None, :], (levels.size, len(exit_dates))).copy()
        exit_index[exit_index < entry[:, None]] = -1
    else:
        raise ValueError("give hold_days or exit_dates")
    valid = (entry[:, None] >= 0) & (exit_index >= 0) & (exit_index < closes.size)
    exit_index = np.where(valid, exit_index, -1)
    safe_entry = np.where(entry >= 0, entry, 0)[:, None]
    safe_exit = np.where(valid, exit_index, 0)
    mine = np.where(valid, closes[safe_exit] / opens[safe_entry] - 1.0, np.nan) * 100
    theirs = np.where(valid, bench_close[safe_exit] / bench_open[safe_entry] - 1.0, np.nan) * 100
    return SweepResult(levels, holds, entry, exit_index, mine, theirs, sessions)


def _range(text: str, name: str, *, integer: bool) -> list[float]:
    parts = text.split(":")
    try:
        first, last, step = (Decimal(p) for p in parts)
    except (ValueError, InvalidOperation):
        raise ConfigError(f"{name} {text!r}: expected START:STOP:STEP, for example 180:220:0.5") from None
    if step <= 0 or last < first:
        raise ConfigError(f"{name} {text!r}: STEP must be positive and STOP at least START")
    if integer and any(v != v.to_integral() for v in (first, last, step)):
        raise ConfigError(f"{name} {text!r}: whole numbers only")
    count = int((last - first) / step) + 1
    if count > 100_000:
        raise ConfigError(f"{name} {text!r}: {count} values is more than 100000")
    values = [float(first + i * step) for i in range(count)]
    if integer and values[0] < 0:
        raise ConfigError(f"{name} {text!r}: must not be negative")
    if not integer and values[0] <= 0:
        raise ConfigError(f"{name} {text!r}: levels must be positive")
    return values


def _dates(text: str) -> list[date]:
    try:
        return sorted(date.fromisoformat(part.strip()) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"--exit-dates {text!r}: expected dates YYYY-MM-DD separated by commas") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="directory with <SYMBOL>.csv daily files")
    parser.add_argument("--levels", required=True, help="breakout levels START:STOP:STEP, e.g. 180:220:1")
    holds = parser.add_mutually_exclusive_group(required=True)
    holds.add_argument("--hold-days", help="sessions held after the entry, START:STOP:STEP, e.g. 20:140:5")
    holds.add_argument("--exit-dates", help="exit dates D1,D2,... (the last session on or before each)")
    parser.add_argument("--start", type=date.fromisoformat, help="first session a breakout may happen on")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--chart", type=Path, help="write a heatmap PNG of the excess return")


def run(args: argparse.Namespace, settings: Settings) -> int:
    strategy = settings.strategy
    levels = np.asarray(_range(args.levels, "--levels", integer=False))
    hold_days = [int(v) for v in _range(args.hold_days, "--hold-days", integer=True)] if args.hold_days else None
    exit_dates = _dates(args.exit_dates) if args.exit_dates else None
    if exit_dates == []:
        raise ConfigError("--exit-dates: give at least one date")
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
                    "exit_date": result.sessions[result.exit_index[i, j]].isoformat() if filled else None,
                    "return_pct": round(float(result.return_pct[i, j]), 4) if filled else None,
                    "benchmark_return_pct": round(float(result.benchmark_return_pct[i, j]), 4) if filled else None,
                    "excess_return_pct": round(float(result.excess_return_pct[i, j]), 4) if filled else None,
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
