"""Where a backtest's bars come from: a clean daily file read without pandas, or a pandas frame.

``bot backtest`` on daily files is a short process, and importing pandas alone is a quarter of it. A daily file is
read here when its header is ``date,open,high,low,close,volume`` and every row is a date and five plain numbers
that pass the checks bot/market/csv_data.py makes; anything else (intraday files, a row to complain about, quoting,
blank lines) is left to csv_data.py, which reads it with pandas and names the line of any problem. Both readers
give the same bars (tests/test_bar_sources.py). Frames also come from the scenarios and from Alpaca downloads.
"""

from __future__ import annotations

import math
import re
from abc import abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias, TypeGuard

from bot.errors import DataError
from strategies.bars import DailyBar, MinuteBar

if TYPE_CHECKING:
    import pandas as pd

DAILY_HEADER = "date,open,high,low,close,volume"
_NUMBER = r"(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)"  # no sign, blank, nan or inf: those rows are csv_data.py's
_ROW = re.compile(rf"(\d{{4}}-\d\d-\d\d),{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}")


@dataclass(frozen=True, slots=True)
class DailyHistory:
    """A symbol's daily bars, in session order."""

    bars: tuple[DailyBar, ...]

    @property
    def days(self) -> list[date]:
        return [bar.session for bar in self.bars]


BarSource: TypeAlias = "pd.DataFrame | DailyHistory"


def read_clean_daily(path: Path) -> DailyHistory | None:
    """The bars of a clean daily file, or None when it is anything else."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if len(lines) < 2 or lines[0] != DAILY_HEADER:
        return None
    bars: list[DailyBar] = []
    for line in lines[1:]:
        row = _ROW.fullmatch(line)
        if row is None:
            return None
        try:
            day = date.fromisoformat(row[1])
        except ValueError:
            return None
        open_, high, low, close, volume = numbers = [float(row[n]) for n in range(2, 7)]
        if not all(map(math.isfinite, numbers)):  # 1e999 overflows to inf: csv_data.py names it
            return None
        if not (open_ > 0 and close > 0 and 0 < low <= min(open_, close) and high >= max(open_, close, low)):
            return None
        if bars and day <= bars[-1].session:
            return None
        bars.append(DailyBar(day, open_, high, low, close, volume))
    return DailyHistory(tuple(bars))


def load_sources(directory: Path, symbols: Iterable[str]) -> dict[str, BarSource]:
    """Each symbol's ``<SYMBOL>.csv``: read here when it is a clean daily file, else by csv_data.py."""
    if not directory.is_dir():
        raise DataError(f"{directory}: data directory not found")
    sources: dict[str, BarSource] = {}
    for symbol in symbols:
        path = directory / f"{symbol}.csv"
        clean = read_clean_daily(path)
        if clean is None:
            from bot.market.csv_data import load_csv

            sources[symbol] = load_csv(path)
        else:
            sources[symbol] = clean
    return sources


def session_days(source: BarSource) -> list[date]:
    """The New York days the source has bars on (any minute of the day, for intraday frames)."""
    if isinstance(source, DailyHistory):
        return source.days
    from bot.market.csv_data import frame_session_days

    return frame_session_days(source)


def traded_days(source: BarSource) -> list[date]:
    """The sessions the backtest trades: the days with regular-session bars."""
    if isinstance(source, DailyHistory):
        return source.days
    from bot.market.csv_data import daily_frame

    return list(daily_frame(source).index)


def regular_session(source: BarSource) -> BarSource:
    """The bars of the regular session only (intraday frames may hold pre- and post-market minutes)."""
    if isinstance(source, DailyHistory):
        return source
    from bot.market.csv_data import regular_hours

    return regular_hours(source)


def daily_bars_of(source: BarSource) -> list[DailyBar]:
    """Daily bars, from a daily source or aggregated from an intraday frame's minutes."""
    if isinstance(source, DailyHistory):
        return list(source.bars)
    from bot.market.csv_data import daily_bars, daily_from_minutes, is_intraday

    return daily_bars(daily_from_minutes(source) if is_intraday(source) else source)


class RecordedMinutes(Mapping[date, list[MinuteBar]]):
    """A symbol's recorded minute bars by New York session (bot/market/csv_data.SessionMinutes), and what a replay
    asks of them without making a whole session's bars."""

    @abstractmethod
    def between(self, day: date, start: datetime, last: datetime) -> list[MinuteBar]:
        """The session's minute bars starting in [start, last]."""

    @abstractmethod
    def first_close_above(self, day: date, start: datetime, end: datetime, level: float) -> datetime | None:
        """The start of the session's first minute starting in [start, end) that closes above ``level``."""


def recorded_minutes(source: BarSource) -> RecordedMinutes | None:
    """An intraday frame's minute bars by New York session; None for daily bars."""
    if not has_recorded_minutes(source):
        return None
    from bot.market.csv_data import SessionMinutes

    return SessionMinutes(source)


def has_recorded_minutes(source: BarSource) -> TypeGuard[pd.DataFrame]:
    """Whether the source is an intraday frame (minute bars as recorded)."""
    if isinstance(source, DailyHistory):
        return False
    from bot.market.csv_data import is_intraday

    return is_intraday(source)


def require_benchmark_coverage(
    sources: Mapping[str, BarSource],
    symbol: str,
    benchmark: str,
    directory: Path,
    *,
    start: date | None = None,
    end: date | None = None,
) -> None:
    """Every session of ``symbol`` that is traded (``start`` to ``end``) needs a benchmark bar, or the score would
    be made up; the history before ``start`` only feeds the rule."""
    days = [d for d in session_days(sources[symbol]) if (start is None or d >= start) and (end is None or d <= end)]
    benchmark_days = set(session_days(sources[benchmark]))
    missing = [day for day in days if day not in benchmark_days]
    if missing:
        raise DataError(
            f"{directory / (benchmark + '.csv')}: no bar for {missing[0].isoformat()} "
            f"({len(missing)} {symbol} session(s) missing in the benchmark)"
        )
