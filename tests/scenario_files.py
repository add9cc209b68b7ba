"""Builders for bar files the tests write themselves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from bot.market.calendar import nyse_sessions

PriceAt = Callable[[int, date], float]


def write_daily(path: Path, days: list[date], close_at: PriceAt, *, open_at: PriceAt | None = None) -> None:
    lines = ["date,open,high,low,close,volume"]
    for index, day in enumerate(days):
        close = close_at(index, day)
        open_ = open_at(index, day) if open_at else close
        high, low = max(open_, close) + 0.5, min(open_, close) - 0.5
        lines.append(f"{day.isoformat()},{open_:.2f},{high:.2f},{low:.2f},{close:.2f},1000000")
    path.write_text("\n".join(lines) + "\n")


def season_days(start: date = date(2023, 11, 1), end: date = date(2024, 7, 12)) -> list[date]:
    return nyse_sessions(start, end)


def simple_breakout(directory: Path, *, cross: date = date(2023, 12, 13)) -> list[date]:
    """IWM at 190 until ``cross``, 201 from then on rising 10 cents a day; opens a dollar above the prior close.
    SPY at 450 rising 20 cents a day, opening 10 cents below its close."""
    directory.mkdir(parents=True, exist_ok=True)
    days = season_days()

    def iwm_close(index: int, day: date) -> float:
        return 190.0 if day < cross else 201.0 + 0.1 * (day - cross).days

    write_daily(
        directory / "IWM.csv",
        days,
        iwm_close,
        open_at=lambda i, d: iwm_close(i - 1, days[i - 1]) + 1.0 if i else iwm_close(i, d),
    )
    write_daily(directory / "SPY.csv", days, lambda i, d: 450.0 + 0.2 * i, open_at=lambda i, d: 449.9 + 0.2 * i)
    return days
