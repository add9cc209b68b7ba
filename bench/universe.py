"""A universe sweep: 500 synthetic symbols against SPY, `bot sweep --symbols all` in one process and on a 2-worker
local Dask cluster, timed as whole commands, with their JSON compared."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.data import DAILY_END, DAILY_START
from bot.market.calendar import nyse_sessions

SYMBOLS = 500
GRID = ["--grid", "STRATEGY_LEVEL_LOOKBACK_SESSIONS=10:100:10", "--grid", "STRATEGY_CONFIRM_DAYS=1,2"]
ENVIRONMENT = {"STRATEGY_LEVEL_MODE": "high"}


def write_universe(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    days = [d.isoformat() for d in nyse_sessions(DAILY_START, DAILY_END)]
    rng = np.random.default_rng(11)
    for index in range(SYMBOLS + 1):
        name = "SPY" if index == SYMBOLS else f"U{index:03d}"
        closes = 100 * np.exp(np.cumsum(rng.normal(0.0002, 0.015, len(days))))
        opens = np.concatenate([[closes[0]], closes[:-1]])
        rows = [
            f"{d},{o:.2f},{max(o, c) * 1.002:.2f},{min(o, c) * 0.998:.2f},{c:.2f},100000"
            for d, o, c in zip(days, opens, closes, strict=True)
        ]
        (directory / f"{name}.csv").write_text("date,open,high,low,close,volume\n" + "\n".join(rows) + "\n")


def _timed(command: list[str], environment: dict[str, str]) -> tuple[float, Any]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=True)
    return time.perf_counter() - started, json.loads(done.stdout)


def measure(directory: Path, base_environment: dict[str, str]) -> dict[str, Any]:
    write_universe(directory)
    environment = {**base_environment, **ENVIRONMENT}
    command = [sys.executable, "-m", "bot", "sweep", "--data", str(directory), *GRID, "--symbols", "all", "--json"]
    alone, expected = _timed(command, environment)
    cluster, answer = _timed([*command, "--workers", "2"], environment)
    cells = sum(len(run["cells"]) for run in expected["symbols"])
    return {"seconds": alone, "cluster_seconds": cluster, "cells": cells, "same": answer == expected}


def report(lines: list[str], verdicts: list[str], directory: Path, environment: dict[str, str]) -> None:
    result = measure(directory, environment)
    lines += [
        f"## Universe sweep: {SYMBOLS} synthetic symbols against SPY, 25 years",
        "",
        f"`STRATEGY_LEVEL_MODE=high bot sweep --symbols all {' '.join(GRID)} --json`, as whole processes "
        "(start-up, reading the CSV files and writing the JSON included): in one process, and on a local Dask "
        "cluster of 2 single-threaded workers started by `--workers 2` (cluster start-up included).",
        "",
        "| run | seconds | cells |",
        "|---|---|---|",
        f"| in-process | {result['seconds']:.1f} | {result['cells']:,} |",
        f"| `--workers 2` | {result['cluster_seconds']:.1f} | {result['cells']:,} |",
        "",
        f"Both answers identical, trade for trade: **{'yes' if result['same'] else 'NO'}**.",
        "",
    ]
    verdicts.append(
        f"Universe sweep ({SYMBOLS} symbols, {result['cells']:,} cells): {result['seconds']:.1f} s in one process, "
        f"{result['cluster_seconds']:.1f} s on a 2-worker Dask cluster; identical: {'yes' if result['same'] else 'NO'}."
    )
