"""The cells of a sweep: the user's settings with one or more ``STRATEGY_*`` variables varied along axes.

``--grid STRATEGY_BREAKOUT_LEVEL=180:220:1`` is a range, ``--grid STRATEGY_EXIT_DATE=2024-03-28,2024-06-28`` a
list. Each value is checked against the same constraint the variable has in ``bot.config``; a cell whose values
contradict each other (an entry window ending before it starts) is refused, as ``bot backtest`` would refuse it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from math import prod
from typing import Any

from pydantic import TypeAdapter, ValidationError

from bot.config import STRATEGY_PREFIX, StrategySettings
from bot.errors import ConfigError
from bot.research.cells import Cells
from strategies.params import BreakoutParams, Trigger

MAX_VALUES = 100_000
MAX_CELLS = 1_000_000

# Variable (without the prefix) -> the BreakoutParams field it sets.
AXES = {
    "BREAKOUT_LEVEL": "level",
    "BUFFER_PCT": "buffer_pct",
    "CONFIRM_DAYS": "confirm_days",
    "REQUIRE_CROSS": "require_cross",
    "ENTRY_START": "entry_start",
    "ENTRY_END": "entry_end",
    "EXIT_DATE": "exit_date",
    "HOLD_SESSIONS": "hold_sessions",
    "ALLOW_REENTRY": "allow_reentry",
    "LEVEL_MODE": "level_mode",
    "LEVEL_LOOKBACK_SESSIONS": "level_lookback",
}
_RANGES = {"BREAKOUT_LEVEL", "BUFFER_PCT", "CONFIRM_DAYS", "HOLD_SESSIONS", "LEVEL_LOOKBACK_SESSIONS"}
_WHOLE = {"CONFIRM_DAYS", "HOLD_SESSIONS", "LEVEL_LOOKBACK_SESSIONS"}


@dataclass(frozen=True)
class Axis:
    variable: str  # STRATEGY_...
    label: str  # how the user wrote it (--grid NAME or --levels)
    values: tuple[Any, ...]

    @property
    def field(self) -> str:
        return AXES[self.variable.removeprefix(STRATEGY_PREFIX)]


@dataclass(frozen=True)
class Grid:
    axes: tuple[Axis, ...]
    cells: Cells

    def coordinates(self, cell: int) -> dict[str, Any]:
        """The axis values of one cell, by variable name."""
        sizes = [len(axis.values) for axis in self.axes]
        result: dict[str, Any] = {}
        for axis, size in zip(reversed(self.axes), reversed(sizes), strict=True):
            cell, position = divmod(cell, size)
            result[axis.variable] = axis.values[position]
        return dict(reversed(list(result.items())))


def refuse_unsupported(params: BreakoutParams) -> None:
    if params.trigger is Trigger.INTRADAY:
        raise ConfigError(
            "STRATEGY_TRIGGER='intraday': bot sweep replays the close trigger only; "
            "use bot backtest for the intraday trigger, or unset STRATEGY_TRIGGER"
        )


def parse_axis(text: str) -> tuple[str, str]:
    """``NAME=SPEC`` of one ``--grid``."""
    name, sep, spec = text.partition("=")
    name = name.strip().upper()
    allowed = ", ".join(STRATEGY_PREFIX + axis for axis in AXES)
    if not sep or not spec.strip():
        raise ConfigError(f"--grid {text!r}: expected NAME=START:STOP:STEP or NAME=V1,V2,...; NAME is one of {allowed}")
    if name.removeprefix(STRATEGY_PREFIX) not in AXES or not name.startswith(STRATEGY_PREFIX):
        raise ConfigError(f"--grid {text!r}: {name} cannot be swept; sweepable variables: {allowed}")
    return name, spec.strip()


def axis_values(variable: str, spec: str, label: str) -> Axis:
    short = variable.removeprefix(STRATEGY_PREFIX)
    is_range = short in _RANGES and spec.count(":") == 2
    if is_range:
        raw: list[Any] = _range(spec, label, whole=short in _WHOLE)
    else:
        raw = [part.strip() for part in spec.split(",") if part.strip()]
        if not raw:
            raise ConfigError(f"{label} {spec!r}: give at least one value")
        if len(raw) > MAX_VALUES:
            raise ConfigError(f"{label} {spec!r}: {len(raw)} values is more than {MAX_VALUES}")
    adapter: TypeAdapter[Any] = TypeAdapter(StrategySettings.model_fields[short.lower()].rebuild_annotation())
    try:
        if is_range:  # evenly spaced: the ends are the extremes
            for value in (raw[0], raw[-1]):
                adapter.validate_python(value)
            values = raw
        else:
            values = [adapter.validate_python(value) for value in raw]
    except ValidationError as exc:
        problem = exc.errors()[0]
        raise ConfigError(f"{label} {spec!r}: {problem['msg']} (value {problem['input']!r})") from None
    if short == "BREAKOUT_LEVEL":
        values = [float(v) for v in values]
    return Axis(variable, label, tuple(sorted(set(values), key=_sort_key)))


def _sort_key(value: Any) -> Any:
    return (str(type(value)), value)


def _range(text: str, label: str, *, whole: bool) -> list[Any]:
    try:
        first, last, step = (Decimal(part) for part in text.split(":"))
    except (ValueError, InvalidOperation):
        raise ConfigError(f"{label} {text!r}: expected START:STOP:STEP, for example 180:220:0.5") from None
    if not all(value.is_finite() and abs(value) < 10**9 for value in (first, last, step)):
        raise ConfigError(f"{label} {text!r}: START, STOP and STEP must be finite numbers below 1e9")
    if step <= 0 or last < first:
        raise ConfigError(f"{label} {text!r}: STEP must be positive and STOP at least START")
    if whole and any(v != v.to_integral_value() for v in (first, last, step)):
        raise ConfigError(f"{label} {text!r}: whole numbers only")
    count = int((last - first) / step) + 1
    if count > MAX_VALUES:
        raise ConfigError(f"{label} {text!r}: {count} values is more than {MAX_VALUES}")
    values = [first + i * step for i in range(count)]
    return [int(v) for v in values] if whole else [float(v) for v in values]


def build_grid(base: BreakoutParams, axes: Sequence[Axis]) -> Grid:
    seen: set[str] = set()
    for axis in axes:
        if axis.variable in seen:
            raise ConfigError(f"{axis.label}: {axis.variable} is given twice; give each variable one axis")
        seen.add(axis.variable)
    count = prod(len(axis.values) for axis in axes)
    if count > MAX_CELLS:
        shape = " x ".join(str(len(axis.values)) for axis in axes)
        raise ConfigError(f"the grid makes {shape} = {count} cells, more than {MAX_CELLS}; use a coarser STEP")
    cells = Cells(base, tuple((axis.field, axis.values) for axis in axes))
    _consistent(base, axes)
    return Grid(tuple(axes), cells)


def _consistent(base: BreakoutParams, axes: Sequence[Axis]) -> None:
    """Refuse a grid with a cell that ``bot.config`` would refuse (every combination of the values is a cell)."""

    def values(field: str) -> list[Any]:
        given = next((axis.values for axis in axes if axis.field == field), (getattr(base, field),))
        return [value for value in given if value is not None]

    starts, ends, exits = values("entry_start"), values("entry_end"), values("exit_date")
    if starts and ends and min(ends) < max(starts):
        raise ConfigError(f"a cell has STRATEGY_ENTRY_END={min(ends)} before STRATEGY_ENTRY_START={max(starts)}")
    if starts and exits and min(exits) <= max(starts):
        raise ConfigError(f"a cell has STRATEGY_EXIT_DATE={min(exits)}, not after STRATEGY_ENTRY_START={max(starts)}")
