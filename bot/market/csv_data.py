"""Loading and validating ``<SYMBOL>.csv`` bar files.

Daily files have the header ``date,open,high,low,close,volume``; intraday files
``timestamp,open,high,low,close,volume`` with ISO-8601 timestamps carrying an offset.
Every problem is reported as a DataError naming the file and the line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from bot.domain import NEW_YORK
from bot.errors import DataError
from bot.market.bar_sources import RecordedMinutes
from bot.market.calendar import session_for
from strategies.bars import DailyBar, MinuteBar

PRICE_COLUMNS = ("open", "high", "low", "close")
DAILY_HEADER = ("date", *PRICE_COLUMNS, "volume")
INTRADAY_HEADER = ("timestamp", *PRICE_COLUMNS, "volume")
_CLEAN_TYPES = dict.fromkeys((*PRICE_COLUMNS, "volume"), float)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _line(position: int) -> int:
    """File line of the data row at ``position`` (line 1 is the header)."""
    return position + 2


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        # A clean file has its numbers parsed in C; anything odd is read again as text, so that the checks can
        # name the line and quote the value.
        frame = pd.read_csv(path, dtype=_CLEAN_TYPES, keep_default_na=False)
        if not np.isfinite(frame.reindex(columns=list(_CLEAN_TYPES)).to_numpy(dtype=float)).all():
            raise ValueError("not clean")
    except ValueError:
        frame = None
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False) if frame is None else frame
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc.__class__.__name__})") from exc
    header = tuple(str(column).strip() for column in frame.columns)
    if header not in (DAILY_HEADER, INTRADAY_HEADER):
        raise DataError(
            f"{path}: header is {','.join(header)!r}; expected {','.join(DAILY_HEADER)!r} "
            f"or {','.join(INTRADAY_HEADER)!r}"
        )
    frame.columns = list(header)
    if frame.empty:
        raise DataError(f"{path}: no rows")
    return frame


def _as_numbers(column: pd.Series) -> pd.Series:
    """numpy parses a clean column many times faster than pandas; a column it refuses is coerced (bad cells NaN)."""
    if column.dtype == np.float64:
        return column
    try:
        return pd.Series(np.asarray(column.to_numpy(dtype=object), dtype=float), index=column.index)
    except ValueError:
        return pd.to_numeric(column, errors="coerce")


def _numbers(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    values: pd.DataFrame = frame[[*PRICE_COLUMNS, "volume"]].apply(_as_numbers)
    bad = ~np.isfinite(values.to_numpy()).all(axis=1)  # NaN where a cell is not a number, inf where it overflows
    if bad.any():
        position = int(bad.argmax())
        column = next(c for c in values.columns if not np.isfinite(values.iloc[position][c]))
        raw, value = frame.iloc[position][column], values.iloc[position][column]
        what = "not a number" if pd.isna(value) else "not a finite number"
        raise DataError(f"{path}, line {_line(position)}: {column} is {raw!r}, {what}")
    non_positive = (values[list(PRICE_COLUMNS)] <= 0).any(axis=1)
    if non_positive.any():
        position = int(non_positive.to_numpy().argmax())
        raise DataError(f"{path}, line {_line(position)}: prices must be positive")
    if (values["volume"] < 0).any():
        position = int((values["volume"] < 0).to_numpy().argmax())
        raise DataError(f"{path}, line {_line(position)}: volume must not be negative")
    inconsistent = (values["high"] < values[["open", "close", "low"]].max(axis=1)) | (
        values["low"] > values[["open", "close"]].min(axis=1)
    )
    if inconsistent.any():
        position = int(inconsistent.to_numpy().argmax())
        raise DataError(f"{path}, line {_line(position)}: high/low do not contain open and close")
    return values


def _check_order(index: pd.Index, path: Path) -> None:
    if index.has_duplicates:
        position = int(index.duplicated().argmax())
        raise DataError(f"{path}, line {_line(position)}: duplicate {index[position]}")
    steps = index[1:] <= index[:-1]
    if steps.any():
        position = int(steps.argmax()) + 1
        raise DataError(f"{path}, line {_line(position)}: {index[position]} is not after the row before")


def load_csv(path: Path) -> pd.DataFrame:
    """A validated bar frame: indexed by session ``date`` (daily) or aware ``timestamp`` (intraday)."""
    raw = _read(path)
    values = _numbers(raw, path)
    key = raw.columns[0]
    if key == "date":
        parsed = pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")
    else:
        parsed = pd.to_datetime(raw["timestamp"], format="ISO8601", errors="coerce", utc=True)
        naive = ~raw["timestamp"].str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
        if naive.any():
            position = int(naive.to_numpy().argmax())
            raise DataError(f"{path}, line {_line(position)}: timestamp has no UTC offset")
    if parsed.isna().any():
        position = int(parsed.isna().to_numpy().argmax())
        raise DataError(f"{path}, line {_line(position)}: {key} {raw[key].iloc[position]!r} is not valid")
    if key == "date":  # datetime.date objects, converted in C rather than one Timestamp at a time
        index = pd.Index(parsed.to_numpy().astype("datetime64[D]").astype(object), name="date")
    else:
        index = pd.DatetimeIndex(parsed)
    _check_order(index, path)
    values.index = index
    return values


def is_intraday(frame: pd.DataFrame) -> bool:
    return isinstance(frame.index, pd.DatetimeIndex)


def load_symbols(directory: Path, symbols: Iterable[str]) -> dict[str, pd.DataFrame]:
    if not directory.is_dir():
        raise DataError(f"{directory}: data directory not found")
    return {symbol: load_csv(directory / f"{symbol}.csv") for symbol in symbols}


def frame_session_days(frame: pd.DataFrame) -> list[date]:
    if isinstance(frame.index, pd.DatetimeIndex):
        return sorted(set(frame.index.tz_convert("America/New_York").date))
    return list(frame.index)


def _rows(frame: pd.DataFrame, keys: list[Any]) -> zip[tuple[Any, float, float, float, float, float]]:
    columns = (frame[name].to_numpy(dtype=float).tolist() for name in (*PRICE_COLUMNS, "volume"))
    return zip(keys, *columns, strict=True)


def daily_bars(frame: pd.DataFrame) -> list[DailyBar]:
    return [DailyBar(day, o, h, lo, c, v) for day, o, h, lo, c, v in _rows(frame, list(frame.index))]


class SessionMinutes(RecordedMinutes):
    """An intraday frame's minute bars by New York session, made into bars only as they are read: a replay reads the
    sessions it looks at, and of those mostly the closes it scans for a breakout (most of a minute backtest's time
    went into bars nobody read)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        index = pd.DatetimeIndex(frame.index)
        midnights = index.tz_convert(NEW_YORK).normalize().asi8  # the rows are in time order: a day's are contiguous
        firsts = [0, *(np.flatnonzero(np.diff(midnights)) + 1).tolist()]
        ends = [*firsts[1:], len(index)]
        days = [stamp.date() for stamp in index[firsts].tz_convert(NEW_YORK)] if len(index) else []
        self._rows = dict(zip(days, zip(firsts, ends, strict=True), strict=True))
        self._index, self._values = index, frame[[*PRICE_COLUMNS, "volume"]].to_numpy(dtype=float)
        self._stamps = index.as_unit("ns").asi8  # nanoseconds since the epoch, for searching by time
        self._made: dict[date, list[MinuteBar]] = {}

    def __getitem__(self, day: date) -> list[MinuteBar]:
        made = self._made.get(day)
        if made is None:
            made = self._made[day] = self._bars(*self._rows[day])
        return made

    def __iter__(self) -> Iterator[date]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def between(self, day: date, start: datetime, last: datetime) -> list[MinuteBar]:
        lo, hi = self._span(day, start, last, "right")
        made = self._made.get(day)
        if made is not None:
            first = self._rows[day][0]
            return made[lo - first : hi - first]
        return self._bars(lo, hi)

    def first_close_above(self, day: date, start: datetime, end: datetime, level: float) -> datetime | None:
        lo, hi = self._span(day, start, end, "left")
        above = np.flatnonzero(self._values[lo:hi, PRICE_COLUMNS.index("close")] > level)
        return self._index[lo + int(above[0])].to_pydatetime() if above.size else None

    def _span(self, day: date, start: datetime, end: datetime, end_side: Literal["left", "right"]) -> tuple[int, int]:
        """The rows of ``day`` whose minutes start from ``start`` up to ``end`` (included with ``end_side`` right)."""
        first, stop = self._rows.get(day, (0, 0))
        stamps = self._stamps[first:stop]
        lo = first + int(np.searchsorted(stamps, _nanoseconds(start), "left"))
        return lo, max(lo, first + int(np.searchsorted(stamps, _nanoseconds(end), end_side)))

    def _bars(self, first: int, end: int) -> list[MinuteBar]:
        starts = self._index[first:end].to_pydatetime().tolist()
        rows = self._values[first:end].tolist()
        return [MinuteBar(start, *row) for start, row in zip(starts, rows, strict=True)]


def _nanoseconds(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1) * 1000


def regular_hours(frame: pd.DataFrame) -> pd.DataFrame:
    """The minutes of the regular session only: Alpaca's minute bars include pre- and post-market trading, which
    would make wrong daily opens and closes and allow entries before the open."""
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex) or index.empty:
        return frame
    days = index.tz_convert("America/New_York").normalize()
    unique = days.unique()
    sessions = [session_for(day.date()) for day in unique]  # one lookup per day, not per minute
    row_day = unique.get_indexer(days)
    opens = np.asarray([pd.Timestamp(s.opens_at).value for s in sessions], dtype=np.int64)[row_day]
    closes = np.asarray([pd.Timestamp(s.closes_at).value for s in sessions], dtype=np.int64)[row_day]
    stamps = index.as_unit("ns").asi8  # nanoseconds since the epoch, UTC (whatever unit the index has)
    return frame[(stamps >= opens) & (stamps < closes)]


def daily_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Daily session bars of a daily or intraday frame (regular-hours minutes only), as the backtest trades them."""
    frame = regular_hours(frame)
    return daily_from_minutes(frame) if is_intraday(frame) else frame


def daily_from_minutes(frame: pd.DataFrame) -> pd.DataFrame:
    """Aggregate intraday bars into New York session bars."""
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex):
        raise TypeError("daily_from_minutes needs an intraday frame")
    sessions = index.tz_convert("America/New_York").date
    grouped = frame.groupby(sessions)
    daily = pd.DataFrame(
        {
            "open": grouped["open"].first(),
            "high": grouped["high"].max(),
            "low": grouped["low"].min(),
            "close": grouped["close"].last(),
            "volume": grouped["volume"].sum(),
        }
    )
    daily.index.name = "date"
    return daily
