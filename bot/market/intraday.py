"""A deterministic intraday path through a daily bar: open, then the extremes, then the close.

The local exchange replays daily data through this path, and the backtest uses the same path when the
intraday trigger runs on daily data, so both see the same minute prices.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

from bot.domain import Session
from strategies.bars import DailyBar, MinuteBar

MINUTE = timedelta(minutes=1)


def _price_at(step: float, waypoints: list[tuple[float, float]]) -> float:
    for (x0, y0), (x1, y1) in pairwise(waypoints):
        if step <= x1:
            return y0 + (y1 - y0) * (step - x0) / (x1 - x0)
    return waypoints[-1][1]


def session_minutes(session: Session) -> int:
    return max(int((session.closes_at - session.opens_at) / MINUTE), 1)


def _waypoints(bar: DailyBar, count: int) -> list[tuple[float, float]]:
    # Up days dip first and rally late; down days do the opposite.
    first, second = (bar.low, bar.high) if bar.close >= bar.open else (bar.high, bar.low)
    return [(0.0, bar.open), (count / 3, first), (2 * count / 3, second), (float(count), bar.close)]


def minute_path(bar: DailyBar, session: Session, first: int = 0, stop: int | None = None) -> list[MinuteBar]:
    """Minute bars whose first open, extremes and last close are the daily bar's: the session's minutes numbered
    from ``first`` up to ``stop`` (all of them by default)."""
    count = session_minutes(session)
    first, stop = max(first, 0), count if stop is None else min(stop, count)
    waypoints = _waypoints(bar, count)
    prices = [round(_price_at(float(step), waypoints), 4) for step in range(first, stop + 1)]
    volume = bar.volume / count
    return [
        MinuteBar(
            start=session.opens_at + (first + index) * MINUTE,
            open=prices[index],
            high=max(prices[index], prices[index + 1]),
            low=min(prices[index], prices[index + 1]),
            close=prices[index + 1],
            volume=volume,
        )
        for index in range(stop - first)
    ]


def price_at(bar: DailyBar, session: Session, minutes_since_open: float) -> float:
    """The path's price ``minutes_since_open`` into the session (clamped to the session)."""
    count = session_minutes(session)
    clamped = min(max(minutes_since_open, 0.0), float(count))
    return round(_price_at(clamped, _waypoints(bar, count)), 4)
