"""The 10,000-cell parameter sweep in bot sweep's vectorised code and in vectorbt."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bot.sweep import sweep

GRID_LEVELS = np.round(np.arange(150.0, 250.0, 1.0), 2)  # 100 levels
GRID_HOLDS = list(range(5, 505, 5))  # 100 holds, in sessions


def ours_sweep(frames: dict[str, pd.DataFrame]) -> np.ndarray:
    result = sweep(frames["IWM"], frames["SPY"], GRID_LEVELS, hold_days=GRID_HOLDS)
    return result.return_pct


def vectorbt_sweep(frames: dict[str, pd.DataFrame]) -> np.ndarray:
    """The same cells as vectorbt columns: one entry and one exit signal per (level, hold) column."""
    import vectorbt as vbt

    iwm = frames["IWM"]
    closes, opens = iwm["close"].to_numpy(), iwm["open"].to_numpy()
    days = closes.size
    above = closes[None, :] > GRID_LEVELS[:, None]
    crossed = above[:, 1:] & ~above[:, :-1]
    entry = np.where(crossed.any(axis=1), crossed.argmax(axis=1) + 2, -1)
    columns = GRID_LEVELS.size * len(GRID_HOLDS)
    entries = np.zeros((days, columns), dtype=bool)
    exits = np.zeros((days, columns), dtype=bool)
    price = np.repeat(closes[:, None], columns, axis=1)
    for i, start in enumerate(entry):
        for j, hold in enumerate(GRID_HOLDS):
            end = start + hold
            if start < 0 or start >= days or end >= days:
                continue
            column = i * len(GRID_HOLDS) + j
            entries[start, column], exits[end, column] = True, True
            price[start, column] = opens[start]
    portfolio: Any = vbt.Portfolio.from_signals(
        closes[:, None], entries, exits, price=price, init_cash=1e6, size=np.inf, freq="1D"
    )
    records = portfolio.trades.records_arr
    returns = np.full(columns, np.nan)
    closed = records["status"] == 1
    returns[records["col"][closed]] = records["return"][closed] * 100
    return returns.reshape(GRID_LEVELS.size, len(GRID_HOLDS))


def cells(grid: np.ndarray) -> list[float | None]:
    """Every cell's return, row by row (None when empty), so the harness can compare the engines cell by cell."""
    return [None if np.isnan(value) else float(value) for value in grid.ravel()]
