"""The statistics quants expect, over the held days only, for the trade against the benchmark.

Inputs are the daily marks of both legs (the position, and the same dollars in the benchmark), so a season's
first return is from the entry price to the first close. Price returns; annualised with 252 sessions a year.
Definitions follow empyrical's (Quantopian's), against which the tests check them:

- ``alpha``: ``(1 + mean(r − β·r_b))^252 − 1``; ``beta``: ``cov(r, r_b) / var(r_b)``; ``correlation``: Pearson's.
- ``tracking_error``: the annualised standard deviation of ``r − r_b``; ``information_ratio``: the annualised
  mean of ``r − r_b`` over that deviation.
- ``up_capture`` / ``down_capture``: the annualised return on the benchmark's up (down) days over the
  benchmark's on those days.
- ``volatility``: annualised standard deviation; ``max_drawdown``: the deepest fall from a peak (negative).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import NDArray

SESSIONS_PER_YEAR = 252
Array = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class HoldStats:
    days: int
    alpha: float
    beta: float
    correlation: float
    tracking_error: float
    information_ratio: float
    up_capture: float | None
    down_capture: float | None
    volatility: float
    benchmark_volatility: float
    max_drawdown: float
    benchmark_max_drawdown: float

    def as_dict(self) -> dict[str, float | int | None]:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}


def _annual_return(returns: Array) -> float:
    if returns.size == 0:
        return math.nan
    growth = float(np.prod(1 + returns))
    return growth ** (SESSIONS_PER_YEAR / returns.size) - 1 if growth > 0 else -1.0


def _capture(mine: Array, theirs: Array) -> float | None:
    if mine.size == 0:
        return None
    theirs_annual = _annual_return(theirs)
    return _annual_return(mine) / theirs_annual if theirs_annual != 0 else None


def max_drawdown(returns: Array) -> float:
    values = np.cumprod(1 + returns)
    peaks = np.maximum.accumulate(np.concatenate(([1.0], values)))[1:]
    return float(np.min(values / peaks - 1)) if values.size else 0.0


def hold_stats(returns: Sequence[float], benchmark_returns: Sequence[float]) -> HoldStats | None:
    """The statistics of aligned daily returns; None with fewer than two days (no deviation to speak of)."""
    mine, theirs = np.asarray(returns, dtype=float), np.asarray(benchmark_returns, dtype=float)
    if mine.size != theirs.size:
        raise ValueError("the two legs' returns must be aligned day by day")
    if mine.size < 2:
        return None
    variance = float(np.var(theirs, ddof=1))
    beta = float(np.cov(mine, theirs, ddof=1)[0, 1] / variance) if variance > 0 else math.nan
    alpha = (1 + float(np.mean(mine - beta * theirs))) ** SESSIONS_PER_YEAR - 1 if math.isfinite(beta) else math.nan
    active = mine - theirs
    deviation = float(np.std(active, ddof=1))
    spread = float(np.std(mine, ddof=1)) * float(np.std(theirs, ddof=1))
    return HoldStats(
        days=int(mine.size),
        alpha=alpha,
        beta=beta,
        correlation=float(np.corrcoef(mine, theirs)[0, 1]) if spread > 0 else math.nan,
        tracking_error=deviation * math.sqrt(SESSIONS_PER_YEAR),
        information_ratio=float(np.mean(active)) / deviation * math.sqrt(SESSIONS_PER_YEAR) if deviation else math.nan,
        up_capture=_capture(mine[theirs > 0], theirs[theirs > 0]),
        down_capture=_capture(mine[theirs < 0], theirs[theirs < 0]),
        volatility=float(np.std(mine, ddof=1)) * math.sqrt(SESSIONS_PER_YEAR),
        benchmark_volatility=float(np.std(theirs, ddof=1)) * math.sqrt(SESSIONS_PER_YEAR),
        max_drawdown=max_drawdown(mine),
        benchmark_max_drawdown=max_drawdown(theirs),
    )
