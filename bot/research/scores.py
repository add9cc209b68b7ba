"""Each cell's score as ``bot backtest`` states it, on price: seasons weighted by dollars, compounded.

The benchmark buys at the entry's open and sells at the exit's close (or the mark) of every trade, as in the
backtest; a season's legs are weighted by their cost and seasons compound one after the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.research.replay import Replay
from bot.research.series import UNITS
from bot.scoring import claim_holds


@dataclass(frozen=True)
class Scores:
    trade_count: np.ndarray  # per cell
    return_pct: np.ndarray  # per cell, NaN without a trade
    benchmark_return_pct: np.ndarray
    seasons: np.ndarray  # the seasons any cell traded, ascending
    season_return: np.ndarray  # cells x seasons, ratios; NaN where the cell did not trade that season
    season_benchmark: np.ndarray
    end_equity: np.ndarray  # per cell, dollars

    @property
    def excess_return_pct(self) -> np.ndarray:
        excess: np.ndarray = self.return_pct - self.benchmark_return_pct
        return excess


def trade_returns(result: Replay) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per trade: cost in units, price return and the benchmark's over the same hold (ratios)."""
    s, t = result.series, result.trades
    cost = t.qty.astype(float) * s.open_units[t.entry]
    mine = s.close_units[t.exit] / s.open_units[t.entry] - 1.0
    theirs = s.benchmark_close_units[t.exit] / s.benchmark_open_units[t.entry] - 1.0
    return cost, mine, theirs


def score(result: Replay) -> Scores:
    cells, trades = len(result.cells), result.trades
    cost, mine, theirs = trade_returns(result)
    seasons = np.unique(trades.season)
    key = trades.cell * seasons.size + np.searchsorted(seasons, trades.season)
    size = cells * seasons.size
    dollars = np.bincount(key, weights=cost, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        season_return = (np.bincount(key, weights=cost * mine, minlength=size) / dollars).reshape(cells, -1)
        season_benchmark = (np.bincount(key, weights=cost * theirs, minlength=size) / dollars).reshape(cells, -1)
    traded = np.bincount(trades.cell, minlength=cells)
    compound = np.where(traded > 0, np.nanprod(1.0 + season_return, axis=1) - 1.0, np.nan) * 100
    benchmark = np.where(traded > 0, np.nanprod(1.0 + season_benchmark, axis=1) - 1.0, np.nan) * 100
    equity = result.end_units.astype(float) / UNITS
    return Scores(traded, compound, benchmark, seasons, season_return, season_benchmark, equity)


def number(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 4)


def ratio(mine: float, theirs: float) -> float | None:
    """The article's statistic: the symbol's return over the benchmark's."""
    return None if np.isnan(mine) or np.isnan(theirs) or theirs == 0 else round(float(mine / theirs), 4)


def claim(mine: float, theirs: float) -> bool | None:
    """The article's claim (``bot.scoring.claim_holds``), None without a trade."""
    return None if np.isnan(mine) or np.isnan(theirs) else claim_holds(float(mine), float(theirs))


def trades_by_cell(result: Replay) -> list[list[dict[str, Any]]]:
    """Each cell's round trips as JSON rows, in time order."""
    s, t = result.series, result.trades
    _, mine, theirs = trade_returns(result)
    order = np.argsort(t.cell, kind="stable")  # stable: a cell's trades stay in time order
    bounds = np.searchsorted(t.cell[order], np.arange(len(result.cells) + 1))
    sessions = np.datetime_as_string(s.days).tolist()  # YYYY-MM-DD, like date.isoformat
    columns = (t.season, t.signal, t.entry, t.exit, t.qty, t.closed)
    season, signal, entry, exit_bar, qty, closed = (column[order].tolist() for column in columns)
    entry_price = (s.open_units[t.entry[order]] / UNITS).tolist()
    exit_price = (s.close_units[t.exit[order]] / UNITS).tolist()
    mine_pct, theirs_pct = (np.round(r[order] * 100, 4).tolist() for r in (mine, theirs))
    rows = [
        {
            "season": season[i],
            "signal_date": sessions[signal[i]],
            "entry_date": sessions[entry[i]],
            "entry_price": entry_price[i],
            "exit_date": sessions[exit_bar[i]],
            "exit_price": exit_price[i],
            "qty": qty[i],
            "closed": closed[i],
            "return_pct": mine_pct[i],
            "benchmark_return_pct": theirs_pct[i],
        }
        for i in range(order.size)
    ]
    return [rows[bounds[c] : bounds[c + 1]] for c in range(len(result.cells))]
