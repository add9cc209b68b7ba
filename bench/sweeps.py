"""The 10,000-cell parameter sweep in bot sweep's vectorised replay and in vectorbt, on the same rule.

Cells are (level, hold): buy at the open after a fresh close above the level, sell at the close ``hold`` sessions
later or at the season's last June session if that comes first, one round trip per season; each cell's return
compounds its trades (an open one marked at the last close).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from bot.research.cells import Cells
from bot.research.replay import replay
from bot.research.scores import score
from bot.research.series import build_series
from bot.research.signals import Window
from strategies.params import BreakoutParams

GRID_LEVELS = np.round(np.arange(150.0, 250.0, 1.0), 2)  # 100 levels
GRID_HOLDS = list(range(5, 505, 5))  # 100 holds, in sessions


def ours_sweep(frames: dict[str, pd.DataFrame]) -> np.ndarray:
    series = build_series(frames, "IWM", "SPY")
    axes = (("level", tuple(float(v) for v in GRID_LEVELS)), ("hold_sessions", tuple(GRID_HOLDS)))
    cells = Cells(BreakoutParams(), axes)
    result = replay(series, cells, cash=Decimal(100000), window=Window(0, series.size - 1))
    returns: np.ndarray = score(result).return_pct.reshape(GRID_LEVELS.size, len(GRID_HOLDS))
    return returns


def _june_exits(days: pd.DatetimeIndex) -> np.ndarray:
    """Per entry bar, the bar of its season's last June session (len(days) when the data stops before it)."""
    n = len(days)
    last_june = {}
    for year in sorted(set(days.year)):
        june = np.flatnonzero((days.year == year) & (days.month == 6))
        reached = days[-1] >= pd.Timestamp(year, 6, 30)
        last_june[year] = int(june[-1]) if june.size and reached else n
    exits = np.empty(n, dtype=np.int64)
    for i, day in enumerate(days):
        this = last_june[day.year]
        exits[i] = this if i <= this else last_june.get(day.year + 1, n)
    return exits


def _trades(signal_bars: np.ndarray, hold: int, june_exit: np.ndarray, n: int) -> list[tuple[int, int, bool]]:
    """(entry, exit, closed) bars of one column, one per season; an open trade's exit is the last bar."""
    trades, cursor = [], 0
    while True:
        position = np.searchsorted(signal_bars, cursor)
        if position >= signal_bars.size or signal_bars[position] + 1 >= n:
            return trades
        entry = int(signal_bars[position]) + 1
        season_end = int(june_exit[entry])
        exit_bar = min(entry + hold, season_end)
        trades.append((entry, min(exit_bar, n - 1), exit_bar < n))
        if exit_bar >= n:
            return trades
        later = int(np.searchsorted(june_exit, season_end, side="right"))  # the next season's first entry bar
        cursor = max(exit_bar, later - 1) if later < n else n


def vectorbt_sweep(frames: dict[str, pd.DataFrame]) -> np.ndarray:
    """The same cells as vectorbt columns: each trade's entry and exit signal in its (level, hold) column."""
    import vectorbt as vbt

    iwm = frames["IWM"]
    closes, opens = iwm["close"].to_numpy(), iwm["open"].to_numpy()
    days = closes.size
    june_exit = _june_exits(pd.DatetimeIndex(pd.to_datetime(iwm.index)))
    columns = GRID_LEVELS.size * len(GRID_HOLDS)
    entries = np.zeros((days, columns), dtype=bool)
    exits = np.zeros((days, columns), dtype=bool)
    price = np.repeat(closes[:, None], columns, axis=1)
    inexpressible = np.zeros(columns, dtype=bool)  # a round trip inside one bar: no signal pair says that
    for i, level in enumerate(GRID_LEVELS):
        crossed = np.flatnonzero((closes[1:] > level) & (closes[:-1] <= level)) + 1
        for j, hold in enumerate(GRID_HOLDS):
            column = i * len(GRID_HOLDS) + j
            for entry, exit_bar, closed in _trades(crossed, hold, june_exit, days):
                inexpressible[column] |= entry == exit_bar
                entries[entry, column] = True
                exits[exit_bar, column] = closed  # an open trade is marked at the last close
                price[entry, column] = opens[entry]
    portfolio: Any = vbt.Portfolio.from_signals(
        closes[:, None], entries, exits, price=price, init_cash=1e6, size=np.inf, freq="1D"
    )
    records = portfolio.trades.records_arr
    growth = np.ones(columns)
    traded = np.zeros(columns, dtype=bool)
    np.multiply.at(growth, records["col"], 1.0 + records["return"])
    traded[records["col"]] = True
    returns = np.where(inexpressible, np.inf, np.where(traded, (growth - 1.0) * 100, np.nan))
    return returns.reshape(GRID_LEVELS.size, len(GRID_HOLDS))


def cells(grid: np.ndarray) -> list[float | str | None]:
    """Every cell's return, row by row (None when empty, "n/a" when the engine cannot express it), so the harness
    can compare the engines cell by cell."""
    return [None if np.isnan(value) else "n/a" if np.isinf(value) else float(value) for value in grid.ravel()]
