"""``bot backtest`` for many cells at once: the same round trips, quantities and cash, computed in numpy.

Each cell is one ``BreakoutParams``. The replay walks every cell through its trades together, one round at a
time: from a cell's cursor, its next signal; the entry at the next session's open with the backtest's sizing; the
exit at the close of the session ``strategies.breakout.exit_session`` plans; then the cursor moves past the exit
(and past the season, unless re-entry is allowed). A round costs a few array operations over the cells, and a
cell trades at most a few times a season, so 10,000 cells over 25 years take milliseconds.

Only the close trigger is replayed; ``bot sweep`` refuses the intraday one by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np

from bot.research.cells import Cells
from bot.research.series import UNITS, Series
from bot.research.signals import Signals, Window, next_signals
from strategies.params import Allocation, BreakoutParams, FixedNotional, FixedQuantity
from strategies.sizing import MARKET_BUY_COLLAR


@dataclass(frozen=True)
class Trades:
    """One row per round trip, each cell's in time order (cells interleaved); ``exit`` is the mark's bar for a trade
    still open."""

    cell: np.ndarray
    signal: np.ndarray
    entry: np.ndarray
    exit: np.ndarray
    qty: np.ndarray
    closed: np.ndarray
    season: np.ndarray


@dataclass(frozen=True)
class Replay:
    series: Series
    cells: Cells
    trades: Trades
    end_units: np.ndarray  # per cell: equity at the last bar, in price units
    pending_qty: np.ndarray  # per cell: shares of a buy signalled on the last bar, never filled
    window: Window


def replay(series: Series, cells: Cells, *, cash: Decimal, window: Window) -> Replay:
    row_of, rows = cells.signal_rows()
    following = next_signals(series, rows, window)
    walk = _Walk(series, cells, cash, window)
    walk.run(row_of, following)
    return Replay(series, cells, walk.trades(), walk.end_units(), walk.pending, window)


class _Walk:
    def __init__(self, series: Series, cells: Cells, cash: Decimal, window: Window) -> None:
        self.series, self.cells, self.window = series, cells, window
        count = len(cells)
        units = cash * UNITS
        if units != units.to_integral_value():
            raise ValueError(f"cash {cash} has more than four decimals")
        self.cash = np.full(count, int(units), dtype=np.int64)
        self.pending = np.zeros(count, dtype=np.int64)
        self.open_qty = np.zeros(count, dtype=np.int64)
        self.rows: list[tuple[np.ndarray, ...]] = []
        self.hold = cells.column("hold_sessions", lambda v: -1 if v is None else v).astype(np.int64)
        self.reentry = cells.column("allow_reentry").astype(bool)
        self.exit_date = _exit_date_bars(series, cells)
        self.sizing = _sizing(cells.base)

    def run(self, row_of: np.ndarray, following: Signals) -> None:
        last = self.window.last
        cursor = np.full(len(self.cells), self.window.first, dtype=np.int64)
        active = np.full(len(self.cells), last >= 0)
        while active.any():
            cell = np.flatnonzero(active)
            signal = following.next(row_of[cell], cursor[cell])
            found = signal <= last
            active[cell[~found]] = False
            cell, signal = cell[found], signal[found]
            qty = self._quantity(cell, signal)
            unfilled = signal + 1 > last  # signalled on the last bar: the buy never fills
            self.pending[cell[unfilled]] = qty[unfilled]
            active[cell[unfilled]] = False
            skipped = ~unfilled & (qty <= 0)  # nothing affordable: the next bar decides again
            cursor[cell[skipped]] = signal[skipped] + 1
            bought = ~unfilled & (qty > 0)
            cell, signal, qty = cell[bought], signal[bought], qty[bought]
            entry = signal + 1
            season_end, season = self._season(cell, entry)
            planned = np.where(self.hold[cell] >= 0, np.minimum(entry + self.hold[cell], season_end), season_end)
            exit_bar = np.maximum(planned, entry)
            still_open = exit_bar > last
            exit_bar = np.where(still_open, last, exit_bar)
            self.rows.append((cell, signal, entry, exit_bar, qty, ~still_open, season))
            wide = object if self.cash.dtype == object else np.int64
            paid = qty.astype(wide) * self.series.open_units[entry].astype(wide)
            got = qty.astype(wide) * self.series.close_units[exit_bar].astype(wide)
            self.cash[cell] = self.cash[cell] - paid + np.where(still_open, 0, got)
            if self.cash.dtype != object and int(self.cash.max()) > _INT64_ROOM:
                self.cash = self.cash.astype(object)  # a thousandfold trade from here would not fit in int64
            self.open_qty[cell[still_open]] = qty[still_open]
            active[cell[still_open]] = False
            closed = cell[~still_open]
            after = exit_bar[~still_open]
            later = self._next_season_signal(closed, season[~still_open])
            cursor[closed] = np.where(self.reentry[closed], after, np.maximum(after, later))

    def _quantity(self, cell: np.ndarray, signal: np.ndarray) -> np.ndarray:
        """``strategies.sizing.entry_quantity`` at the signal bar's close, in whole numbers (exact, like Decimal).

        In int64 while the products fit, in Python integers past that (a fortune or a fraction of many digits)."""
        kind, num, den = self.sizing
        collar_num, collar_den = MARKET_BUY_COLLAR.as_integer_ratio()
        close: np.ndarray = self.series.close_units[signal]
        cash: np.ndarray = self.cash[cell]
        factor = max(num, den, collar_num, collar_den)
        if cell.size and int(cash.max()) > _INT64_SAFE // factor // max(int(close.max()), 1):
            close, cash = close.astype(object), cash.astype(object)
        affordable = (cash * collar_den) // (close * collar_num)
        if kind == _ALLOCATION:
            wanted = (cash * num) // (den * close)
        elif kind == _NOTIONAL:
            wanted = num // (den * close)
        else:
            wanted = np.full(cell.size, num)
        quantity: np.ndarray = np.maximum(np.minimum(wanted, affordable), 0).astype(np.int64)
        return quantity

    def _season(self, cell: np.ndarray, entry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The bar that ends each entry's season (``season_exit``; >= n beyond the data) and the season's year."""
        end, season = self.series.june_exit[entry].copy(), self.series.june_season[entry].copy()
        dated = self.exit_date.on_or_before[cell] > -2
        if dated.any():
            bar, year, overdue_year = (a[cell] for a in (self.exit_date.on_or_before, self.exit_date.year_of_bar,
                                                         self.exit_date.year))  # fmt: skip
            beyond = bar == self.series.size
            in_time = ~beyond & (bar >= entry)
            end = np.where(dated, np.where(in_time | beyond, bar, entry), end)
            season = np.where(dated, np.where(in_time, year, overdue_year), season)
        return end, season

    def _next_season_signal(self, cell: np.ndarray, season: np.ndarray) -> np.ndarray:
        """The first bar whose buy would fill in a later season than ``season`` (n + 1 when there is none)."""
        n = self.series.size
        first_later = np.searchsorted(self.series.june_season, season, side="right")
        # A buy signalled on the data's last bar is for that bar's own season (the backtest knows no later session).
        june = np.where(first_later < n, first_later - 1, n + 1)
        dated = self.exit_date.on_or_before[cell] > -2
        if not dated.any():
            return june
        bar, year_of_bar, year = (a[cell] for a in (self.exit_date.on_or_before, self.exit_date.year_of_bar,
                                                    self.exit_date.year))  # fmt: skip
        in_data = bar < n
        by_date = np.where(in_data & (year_of_bar > season), -1, np.where(in_data & (year > season), bar, n + 1))
        return np.where(dated, by_date, june)

    def trades(self) -> Trades:
        if not self.rows:
            empty = np.zeros(0, dtype=np.int64)
            return Trades(empty, empty, empty, empty, empty, np.zeros(0, dtype=bool), empty)
        cell, signal, entry, exit_bar, qty, closed, season = (np.concatenate(c) for c in zip(*self.rows, strict=True))
        return Trades(cell, signal, entry, exit_bar, qty, closed.astype(bool), season)

    def end_units(self) -> np.ndarray:
        last = max(self.window.last, 0)
        wide = object if self.cash.dtype == object else np.int64
        equity: np.ndarray = self.cash + self.open_qty.astype(wide) * int(self.series.close_units[last])
        return equity


_ALLOCATION, _NOTIONAL, _QUANTITY = 0, 1, 2
_INT64_SAFE = 2**62
_INT64_ROOM = 2**52  # $450 billion in units


def _sizing(params: BreakoutParams) -> tuple[int, int, int]:
    """The sizing as a kind and a fraction num/den: of equity, of dollars in units, or a number of shares."""
    match params.sizing:
        case Allocation(fraction=fraction):
            return (_ALLOCATION, *fraction.as_integer_ratio())
        case FixedNotional(amount=amount):
            return (_NOTIONAL, *(amount * UNITS).as_integer_ratio())
        case FixedQuantity(shares=shares):
            return _QUANTITY, shares, 1


@dataclass(frozen=True)
class _ExitDateBars:
    on_or_before: np.ndarray  # per cell: the last bar on or before STRATEGY_EXIT_DATE; n beyond the data; -2 unset
    year_of_bar: np.ndarray  # that bar's year
    year: np.ndarray  # the exit date's own year


def _exit_date_bars(series: Series, cells: Cells) -> _ExitDateBars:
    n = series.size

    def bars(exit_date: date | None) -> tuple[int, int, int]:
        if exit_date is None:
            return -2, 0, 0
        if n == 0 or series.sessions[-1] < exit_date:
            return n, exit_date.year, exit_date.year
        bar = int(np.searchsorted(series.days, np.datetime64(exit_date, "D"), side="right")) - 1
        return bar, series.sessions[bar].year if bar >= 0 else exit_date.year, exit_date.year

    table = cells.column("exit_date", lambda value: bars(value))
    return _ExitDateBars(table[:, 0].astype(np.int64), table[:, 1].astype(np.int64), table[:, 2].astype(np.int64))
