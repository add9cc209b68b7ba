"""Deterministic synthetic bars: 25 years of daily bars and one year of minute bars, IWM crossing 200."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from bot.domain import NEW_YORK
from bot.market.calendar import nyse_sessions, session_for

DAILY_START, DAILY_END = date(2000, 1, 3), date(2024, 12, 31)
MINUTE_START, MINUTE_END = date(2023, 7, 3), date(2024, 7, 3)


def _walk(rng: np.random.Generator, count: int, start: float, drift: float, vol: float) -> np.ndarray:
    prices: np.ndarray = start * np.exp(np.cumsum(rng.normal(drift, vol, count)))
    return prices


def _frame(closes: np.ndarray, rng: np.random.Generator, index: pd.Index) -> pd.DataFrame:
    opens = np.concatenate([[closes[0]], closes[:-1] * (1 + rng.normal(0, 0.0005, closes.size - 1))])
    spread = np.abs(rng.normal(0, 0.001, closes.size))
    return pd.DataFrame(
        {
            "open": opens.round(2),
            "high": (np.maximum(opens, closes) * (1 + spread)).round(2),
            "low": (np.minimum(opens, closes) * (1 - spread)).round(2),
            "close": closes.round(2),
            "volume": rng.integers(1_000, 100_000, closes.size).astype(float),
        },
        index=index,
    )


def daily(seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    days = nyse_sessions(DAILY_START, DAILY_END)
    # IWM wanders between about 120 and 240, so it crosses 200 many times in 25 years.
    iwm = 200 + 45 * np.sin(np.linspace(0, 24 * np.pi, len(days))) + np.cumsum(rng.normal(0, 1.2, len(days))) * 0.3
    spy = _walk(rng, len(days), 140.0, 0.0003, 0.011)
    index = pd.Index(days, name="date")
    return {"IWM": _frame(iwm, rng, index), "SPY": _frame(spy, rng, index)}


def minutes(seed: int = 11) -> dict[str, pd.DataFrame]:
    """Regular-session minute bars; IWM first trades above 200 in late December 2023."""
    rng = np.random.default_rng(seed)
    stamps: list[datetime] = []
    for day in nyse_sessions(MINUTE_START, MINUTE_END):
        session = session_for(day)
        count = int((session.closes_at - session.opens_at).total_seconds() // 60)
        stamps.extend(pd.date_range(session.opens_at, periods=count, freq="1min").to_pydatetime())
    n = len(stamps)
    trend = np.interp(np.arange(n), [0, n * 0.45, n], [185.0, 199.0, 215.0])
    iwm = trend + np.cumsum(rng.normal(0, 0.02, n)) * 0.05
    spy = _walk(rng, n, 440.0, 0.0000005, 0.0004)
    index = pd.DatetimeIndex(stamps, name="timestamp").tz_convert("UTC")
    return {"IWM": _frame(iwm, rng, index), "SPY": _frame(spy, rng, index)}


def new_york_dates(index: pd.Index) -> np.ndarray:
    stamps = pd.DatetimeIndex(index)
    return np.asarray(stamps.tz_convert(NEW_YORK).date)
