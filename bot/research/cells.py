"""The cells of a sweep as columns: the user's settings, and axes whose product the cells are, in grid order.

Nothing here builds one object per cell: a cell's value on an axis is computed from its position, so a chunk of
10,000 cells costs a few array operations. ``params`` gives one cell as the ``BreakoutParams`` the backtest takes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import prod
from typing import Any

import numpy as np

from strategies.params import BreakoutParams

# The settings that decide where the rule signals (cells sharing them share the signal computation).
SIGNAL_FIELDS = frozenset(
    {"level", "buffer_pct", "confirm_days", "require_cross", "entry_start", "entry_end", "exit_date", "level_mode",
     "level_lookback"}
)  # fmt: skip


@dataclass(frozen=True)
class Cells:
    base: BreakoutParams
    axes: tuple[tuple[str, tuple[Any, ...]], ...] = ()  # (BreakoutParams field, values)
    first: int = 0
    stop: int | None = None  # None: to the end of the product

    @property
    def total(self) -> int:
        return prod(len(values) for _, values in self.axes)

    def __len__(self) -> int:
        return (self.total if self.stop is None else self.stop) - self.first

    def part(self, first: int, stop: int) -> Cells:
        return replace(self, first=self.first + first, stop=self.first + min(stop, len(self)))

    def positions(self, axis: int) -> np.ndarray:
        """Each cell's position on one axis."""
        stride = prod(len(values) for _, values in self.axes[axis + 1 :])
        cells = np.arange(self.first, self.first + len(self), dtype=np.int64)
        result: np.ndarray = (cells // stride) % len(self.axes[axis][1])
        return result

    def column(self, field: str, convert: Any = None) -> np.ndarray:
        """Each cell's value of a field (through ``convert``), as an array."""
        convert = convert or (lambda value: value)
        for axis, (name, values) in enumerate(self.axes):
            if name == field:
                table = np.asarray([convert(value) for value in values])
                picked: np.ndarray = table[self.positions(axis)]
                return picked
        constant: np.ndarray = np.asarray([convert(getattr(self.base, field))])[np.zeros(len(self), dtype=np.int64)]
        return constant

    def params(self, cell: int) -> BreakoutParams:
        """Cell ``cell`` of this range as the backtest's parameters."""
        index = self.first + cell
        chosen = {}
        for name, values in reversed(self.axes):
            index, position = divmod(index, len(values))
            chosen[name] = values[position]
        return replace(self.base, **chosen)

    def signal_rows(self) -> tuple[np.ndarray, list[BreakoutParams]]:
        """Per cell the row of its signal settings, and each row's parameters (one per distinct combination)."""
        axes = [i for i, (name, _) in enumerate(self.axes) if name in SIGNAL_FIELDS]
        code = np.zeros(len(self), dtype=np.int64)
        for axis in axes:
            code = code * len(self.axes[axis][1]) + self.positions(axis)
        unique, row_of = np.unique(code, return_inverse=True)
        rows = []
        for value in unique.tolist():
            chosen = {}
            for axis in reversed(axes):
                name, values = self.axes[axis]
                value, position = divmod(value, len(values))
                chosen[name] = values[position]
            rows.append(replace(self.base, **chosen))
        return row_of.astype(np.int64), rows
