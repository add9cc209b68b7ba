"""One symbol and its benchmark as the arrays the vectorised replay reads, built the way the backtest reads bars.

Prices the replay trades at are kept as whole units of $0.0001 (``int64``), rounded exactly as ``bot.money.price``
rounds them, so that cash, quantities and fills match the backtest's Decimal arithmetic to the unit. The rule
compares the unrounded closes, as the backtest does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from bot.market.csv_data import daily_frame
from bot.money import price
from strategies.breakout import season_exit
from strategies.params import BreakoutParams

UNITS = 10_000  # price units per dollar


@dataclass(frozen=True)
class Series:
    symbol: str
    benchmark: str
    sessions: tuple[date, ...]
    days: np.ndarray  # datetime64[D], one per session
    close: np.ndarray  # float64, the closes the rule compares
    open_units: np.ndarray  # int64
    close_units: np.ndarray
    benchmark_open_units: np.ndarray
    benchmark_close_units: np.ndarray
    june_exit: np.ndarray  # per entry index, the index of the season's last June session (>= n beyond the data)
    june_season: np.ndarray  # per entry index, the season's year

    @property
    def size(self) -> int:
        return len(self.sessions)


def price_units(values: np.ndarray) -> np.ndarray:
    """``bot.money.price`` of each value in units, vectorised; values near a rounding tie go through it exactly."""
    scaled = values * UNITS
    units = np.rint(scaled)
    fraction = np.abs(scaled - np.floor(scaled) - 0.5)
    for i in np.flatnonzero(fraction < 1e-6):
        units[i] = int(price(float(values[i])) * UNITS)
    result: np.ndarray = units.astype(np.int64)
    return result


def build_series(frames: dict[str, pd.DataFrame], symbol: str, benchmark: str) -> Series:
    daily = daily_frame(frames[symbol])
    bench = daily_frame(frames[benchmark]).reindex(daily.index)
    sessions = tuple(daily.index)
    days = pd.to_datetime(pd.Index(sessions)).to_numpy().astype("datetime64[D]")
    june_exit, june_season = _june_exits(sessions, days)
    return Series(
        symbol=symbol,
        benchmark=benchmark,
        sessions=sessions,
        days=days,
        close=daily["close"].to_numpy(dtype=float),
        open_units=price_units(daily["open"].to_numpy(dtype=float)),
        close_units=price_units(daily["close"].to_numpy(dtype=float)),
        benchmark_open_units=price_units(bench["open"].to_numpy(dtype=float)),
        benchmark_close_units=price_units(bench["close"].to_numpy(dtype=float)),
        june_exit=june_exit,
        june_season=june_season,
    )


def _june_exits(sessions: tuple[date, ...], days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rule's own season exit (``strategies.breakout.season_exit``) for an entry on every session, asked once
    per season boundary: entries between two June exits share the later one."""
    exits = np.zeros(len(sessions), dtype=np.int64)
    seasons = np.zeros(len(sessions), dtype=np.int64)
    default = BreakoutParams()
    first = 0
    while first < len(sessions):
        end = np.datetime64(season_exit(sessions[first], sessions, default), "D")
        last = max(int(np.searchsorted(days, end, side="right")) - 1, first)
        exits[first : last + 1] = np.searchsorted(days, end, side="left")  # the first bar on or after it sells
        seasons[first : last + 1] = end.astype(object).year
        first = last + 1
    return exits, seasons
