"""Where the rule signals a buy, for many settings at once: ``strategies.breakout.entry_decision`` in numpy.

A row of settings signals after the close of bar ``t`` when the last ``confirm_days`` closes are above their
thresholds and, with ``require_cross``, the close before them was at or below its own (and had a level at all).
Rows that differ only in level and buffer share a group and are computed side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from bot.research.series import Series
from strategies.params import BreakoutParams, LevelMode, buffered

_BLOCK_ELEMENTS = 2_000_000  # rows x sessions computed at once, to keep memory to a few tens of MB


@dataclass(frozen=True, slots=True)
class Window:
    first: int  # the first bar a decision is made on (``--start``)
    last: int  # the last bar traded (``--end`` or the data's last); -1 when none


def _group_key(params: BreakoutParams) -> tuple[object, ...]:
    lookback = params.level_lookback if params.level_mode is LevelMode.HIGH else 0
    return (params.confirm_days, params.require_cross, params.level_mode, lookback, *_window_key(params))


def _window_key(params: BreakoutParams) -> tuple[date | None, date | None, date | None]:
    return (params.entry_start, params.entry_end, params.exit_date)


@dataclass(frozen=True)
class Signals:
    """Every (row, bar) the rows signal on, as sorted flat keys ``row * n + bar``."""

    keys: np.ndarray
    n: int

    def next(self, row: np.ndarray, cursor: np.ndarray) -> np.ndarray:
        """Per (row, cursor), the first bar at or after the cursor the row signals on; ``n`` when none."""
        wanted = row * self.n + np.minimum(cursor, self.n)
        position = np.searchsorted(self.keys, wanted)
        found = self.keys[np.minimum(position, self.keys.size - 1)] if self.keys.size else wanted
        hit = (position < self.keys.size) & (found < (row + 1) * self.n)
        result: np.ndarray = np.where(hit, found - row * self.n, self.n)
        return result


def next_signals(series: Series, rows: Sequence[BreakoutParams], window: Window) -> Signals:
    n = series.size
    groups: dict[tuple[object, ...], list[int]] = {}
    for index, params in enumerate(rows):
        groups.setdefault(_group_key(params), []).append(index)
    block = max(1, _BLOCK_ELEMENTS // max(n, 1))
    keys = []
    for members in groups.values():
        first = rows[members[0]]
        allowed = _allowed(series, first, window)
        base = _base_level(series, first)
        for start in range(0, len(members), block):
            chunk = np.asarray(members[start : start + block], dtype=np.int64)
            signal = _signals(series.close, base, [rows[i] for i in chunk], first) & allowed[None, :]
            row, bar = np.divmod(np.flatnonzero(signal), n)
            keys.append(chunk[row] * n + bar)
    flat = np.sort(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)
    return Signals(flat, n)


def _allowed(series: Series, params: BreakoutParams, window: Window) -> np.ndarray:
    """Bars a buy may be decided on: inside the replayed range and the entry window, before the exit date."""
    index = np.arange(series.size)
    allowed = (index >= window.first) & (index <= window.last)
    if params.entry_start is not None:
        allowed &= series.days >= np.datetime64(params.entry_start, "D")
    if params.entry_end is not None:
        allowed &= series.days <= np.datetime64(params.entry_end, "D")
    if params.exit_date is not None:
        allowed &= series.days < np.datetime64(params.exit_date, "D")
    return allowed


def _base_level(series: Series, params: BreakoutParams) -> np.ndarray | None:
    """With LevelMode.HIGH, the highest close of the ``level_lookback`` bars before each bar (NaN until then)."""
    if params.level_mode is LevelMode.ABSOLUTE:
        return None
    # pandas' rolling maximum is linear in the bars whatever the lookback; shifted, it covers the bars before.
    level: np.ndarray = pd.Series(series.close).rolling(params.level_lookback).max().shift(1).to_numpy()
    return level


def _above_travelling(close: np.ndarray, base: np.ndarray, buffers: list[float]) -> np.ndarray:
    """``close > buffered(base, buffer)`` for every bar and buffer, as the rule decides it, vectorised.

    The float product is off the rule's correctly rounded threshold by an ulp at most, so only closes within a
    few ulps of it are decided again with the rule's own ``buffered`` (a handful, where a close sits on it).
    """
    factors = np.asarray([float(Decimal(100) + Decimal(repr(b))) / 100 for b in buffers])[:, None]
    approx = base[None, :] * factors
    above: np.ndarray = close[None, :] > approx  # NaN (no level yet) is never above
    near = np.abs(close[None, :] - approx) <= 4 * np.spacing(np.nan_to_num(approx))
    for row, bar in zip(*np.nonzero(near), strict=True):
        above[row, bar] = close[bar] > buffered(float(base[bar]), buffers[row])
    return above


def _signals(
    close: np.ndarray, base: np.ndarray | None, rows: list[BreakoutParams], group: BreakoutParams
) -> np.ndarray:
    if base is None:
        threshold = np.asarray([buffered(p.level, p.buffer_pct) for p in rows])[:, None]
        above = close[None, :] > threshold
    else:
        above = _above_travelling(close, base, [p.buffer_pct for p in rows])
    confirm = group.confirm_days
    if confirm > close.size:
        return np.zeros_like(above)
    if confirm == 1:
        run = above
    else:
        counts = np.zeros((len(rows), close.size + 1), dtype=np.int32)
        np.cumsum(above, axis=1, dtype=np.int32, out=counts[:, 1:])
        run = np.zeros_like(above)
        run[:, confirm - 1 :] = (counts[:, confirm:] - counts[:, : close.size - confirm + 1]) == confirm
    if not group.require_cross:
        return run
    # The close before the first confirming one at or below its threshold, which it must have.
    before = ~above[:, :-confirm]
    if base is not None:
        before &= ~np.isnan(base[:-confirm])[None, :]
    fresh = np.zeros_like(above)
    fresh[:, confirm:] = run[:, confirm:] & before
    return fresh
