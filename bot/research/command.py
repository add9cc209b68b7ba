"""``bot sweep``: ``bot backtest``'s rule over a grid of settings, vectorised, per symbol, optionally on Dask.

Every ``STRATEGY_*`` setting applies to every cell; the ``--grid`` axes vary some of them. A cell equals
``bot backtest`` with the same settings, trade for trade (seasons and the June exit by default, one round trip per
season unless ``STRATEGY_ALLOW_REENTRY``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from bot.backtest.command import iso_date, positive_decimal
from bot.config import Settings
from bot.errors import ConfigError, DataError
from bot.market.bar_sources import require_benchmark_coverage
from bot.market.csv_data import load_symbols
from bot.research.cells import Cells
from bot.research.grid import Axis, Grid, axis_values, build_grid, parse_axis, refuse_unsupported
from bot.research.output import cells_json, describe, plain, render, settings_of, write_heatmap
from bot.research.replay import Replay
from bot.research.scale import merge, run_chunks, split
from bot.research.scores import Scores, score
from bot.research.series import Series, build_series
from bot.research.signals import Window
from bot.research.walk_forward import render_walk_forward, walk_forward, walk_forward_json

SHORTHANDS = (
    ("levels", "--levels", "STRATEGY_BREAKOUT_LEVEL"),
    ("hold_days", "--hold-days", "STRATEGY_HOLD_SESSIONS"),
    ("exit_dates", "--exit-dates", "STRATEGY_EXIT_DATE"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="directory with <SYMBOL>.csv daily files")
    parser.add_argument(
        "--grid", action="append", default=[], metavar="NAME=SPEC",
        help="an axis: STRATEGY_<NAME>=START:STOP:STEP or =V1,V2,... (repeat for more axes)",
    )  # fmt: skip
    parser.add_argument("--levels", help="shorthand for --grid STRATEGY_BREAKOUT_LEVEL=START:STOP:STEP")
    parser.add_argument("--hold-days", help="shorthand for --grid STRATEGY_HOLD_SESSIONS=START:STOP:STEP")
    parser.add_argument("--exit-dates", help="shorthand for --grid STRATEGY_EXIT_DATE=D1,D2,...")
    parser.add_argument("--start", type=iso_date, help="first session to trade (earlier data is history)")
    parser.add_argument("--end", type=iso_date, help="last session to trade")
    parser.add_argument("--cash", type=positive_decimal, default=positive_decimal("100000"), help="starting cash")
    parser.add_argument("--symbols", help="SYM1,SYM2,... or 'all' (every <SYMBOL>.csv but the benchmark)")
    parser.add_argument("--walk-forward", action="store_true", help="each season, the best cell on the seasons before")
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--workers", type=_workers, help="run on a local Dask cluster of N worker processes")
    scale.add_argument("--scheduler", help="run on the Dask scheduler at ADDRESS (tcp://host:port)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--chart", type=Path, help="write a heatmap PNG of the excess return (two axes at most)")


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 256:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers from 1 to 256")
    return int(text)


def axes_of(args: argparse.Namespace) -> list[Axis]:
    axes = []
    for attribute, label, variable in SHORTHANDS:
        spec = getattr(args, attribute)
        if spec is not None:
            axes.append(axis_values(variable, spec, label))
    for text in args.grid:
        variable, spec = parse_axis(text)
        axes.append(axis_values(variable, spec, f"--grid {variable}"))
    return axes


def symbols_of(args: argparse.Namespace, symbol: str, benchmark: str) -> list[str]:
    if args.symbols is None:
        return [symbol]
    if args.symbols.strip().lower() == "all":
        found = sorted(p.name.removesuffix(".csv") for p in args.data.glob("*.csv") if ".dividends." not in p.name)
        chosen = [name for name in found if name != benchmark]
    else:
        chosen = sorted({part.strip().upper() for part in args.symbols.split(",") if part.strip()})
    if not chosen or benchmark in chosen:
        raise ConfigError(f"--symbols {args.symbols!r}: give symbols other than the benchmark {benchmark}")
    return chosen


def window_of(series: Series, args: argparse.Namespace) -> Window:
    days = series.days
    first = int(np.searchsorted(days, np.datetime64(args.start, "D"))) if args.start else 0
    last = int(np.searchsorted(days, np.datetime64(args.end, "D"), side="right")) - 1 if args.end else series.size - 1
    if last < first:
        raise DataError(f"{series.symbol}: no sessions of the data fall between --start and --end")
    return Window(first, last)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.start and args.end and args.end < args.start:
        raise ConfigError(f"--end {args.end} is before --start {args.start}")
    strategy = settings.strategy
    base = strategy.params()
    refuse_unsupported(base)
    grid = build_grid(base, axes_of(args))
    if args.chart and len(grid.axes) > 2:
        raise ConfigError(f"--chart draws at most two axes, and the grid has {len(grid.axes)}; drop --chart")
    symbols = symbols_of(args, strategy.symbol, strategy.benchmark)
    if args.chart and len(symbols) > 1:
        raise ConfigError(f"--chart draws one symbol's grid, and --symbols gives {len(symbols)}; drop one of them")
    frames = load_symbols(args.data, [*symbols, strategy.benchmark])
    chunks, owners = [], []
    for symbol in symbols:
        require_benchmark_coverage(frames, symbol, strategy.benchmark, args.data, start=args.start, end=args.end)
        series = build_series(frames, symbol, strategy.benchmark)
        window = window_of(series, args)
        runs_of = [("grid", grid.cells)] + ([("default", Cells(base))] if args.walk_forward else [])
        for name, cells in runs_of:
            for chunk in split(series, cells, args.cash, window):
                chunks.append(chunk)
                owners.append((symbol, name))
    parts = run_chunks(chunks, workers=args.workers, scheduler=args.scheduler)

    def joined(symbol: str, name: str) -> Replay:
        return merge([p for p, owner in zip(parts, owners, strict=True) if owner == (symbol, name)],
                     grid.cells if name == "grid" else Cells(base))  # fmt: skip

    results = {s: (joined(s, "grid"), joined(s, "default") if args.walk_forward else None) for s in symbols}
    scores = {symbol: score(results[symbol][0]) for symbol in symbols}
    runs = [_one_symbol(grid, results[symbol][0], scores[symbol], results[symbol][1], args) for symbol in symbols]
    if args.chart:
        write_heatmap(grid, scores[symbols[0]], args.chart, symbols[0], strategy.benchmark)
    if args.json:
        axes = [{"variable": a.variable, "values": [plain(v) for v in a.values]} for a in grid.axes]
        document = {"benchmark": strategy.benchmark, "axes": axes}
        document |= {"symbols": [r[0] for r in runs]} if args.symbols is not None else runs[0][0]
        print(json.dumps(document))
    else:
        print("\n".join(line for _, lines in runs for line in lines))
    return 0


def _one_symbol(
    grid: Grid, result: Replay, scores: Scores, default: Replay | None, args: argparse.Namespace
) -> tuple[dict[str, Any], list[str]]:
    symbol, benchmark = result.series.symbol, result.series.benchmark
    document: dict[str, Any] = {"symbol": symbol, "cells": cells_json(grid, result, scores) if args.json else []}
    lines = render(symbol, benchmark, grid, scores) if args.symbols is None else [_one_line(grid, scores, symbol)]
    if default is not None:
        walked = walk_forward(scores, score(default))
        document["walk_forward"] = walk_forward_json(walked, lambda cell: settings_of(grid, cell))
        lines += render_walk_forward(walked, lambda cell: settings_of(grid, cell))
    return document, lines


def _one_line(grid: Grid, scores: Scores, symbol: str) -> str:
    excess = scores.excess_return_pct[: len(grid.cells)]
    if np.isnan(excess).all():
        return f"{symbol}: no cell made a trade"
    best = int(np.nanargmax(excess))
    return f"{symbol}: best excess {excess[best]:+.2f}% at {describe(grid, best)}; median {np.nanmedian(excess):+.2f}%"
