"""Parameters of the breakout-and-hold rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache


class Trigger(StrEnum):
    CLOSE = "close"
    INTRADAY = "intraday"


class LevelMode(StrEnum):
    ABSOLUTE = "absolute"  # the breakout level is a fixed price (the article's 200)
    HIGH = "high"  # the highest close of the last ``level_lookback`` sessions before the bar


@dataclass(frozen=True, slots=True)
class Allocation:
    """Spend a fraction of equity, in whole shares."""

    fraction: Decimal = Decimal("0.95")


@dataclass(frozen=True, slots=True)
class FixedNotional:
    """Spend a fixed number of dollars, in whole shares."""

    amount: Decimal


@dataclass(frozen=True, slots=True)
class FixedQuantity:
    """Buy a fixed number of shares."""

    shares: int


Sizing = Allocation | FixedNotional | FixedQuantity


@dataclass(frozen=True, slots=True)
class BreakoutParams:
    symbol: str = "IWM"
    benchmark: str = "SPY"
    level: float = 200.0
    buffer_pct: float = 0.0
    confirm_days: int = 1
    require_cross: bool = True
    trigger: Trigger = Trigger.CLOSE
    entry_start: date | None = None
    entry_end: date | None = None
    exit_date: date | None = None
    sizing: Sizing = field(default_factory=Allocation)
    allow_reentry: bool = False
    level_mode: LevelMode = LevelMode.ABSOLUTE
    level_lookback: int = 20  # sessions, with LevelMode.HIGH
    hold_sessions: int | None = None  # sell this many sessions after the entry, if before the season's exit

    @property
    def threshold(self) -> float:
        """The price a close (or trade) must exceed for the breakout, with an absolute level."""
        return buffered(self.level, self.buffer_pct)


@lru_cache(maxsize=4096)
def buffered(level: float, buffer_pct: float) -> float:
    """A level raised by the buffer: the one formula every path (live, backtest, sweep) uses.

    Worked out in decimal and rounded once, so the threshold is the float nearest the exact one, as a close is
    the float nearest its price: a close of exactly the threshold (150.15 for 150 and 0.1 %) is equal to it and
    not above it, where ``150 * 1.001`` would be 150.14999999999998.
    """
    exact = Decimal(repr(level)) * (Decimal(100) + Decimal(repr(buffer_pct))) / Decimal(100)
    return float(exact)
