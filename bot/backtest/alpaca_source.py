"""History for ``bot backtest --source alpaca``, fetched through the same adapter the bot trades with."""

from __future__ import annotations

from datetime import date

import pandas as pd

from bot.broker.alpaca import AlpacaBroker
from bot.config import Settings


def download_daily_frames(settings: Settings, symbols: list[str], *, start: date, end: date) -> dict[str, pd.DataFrame]:
    """Daily bars for a backtest (``bot backtest --source alpaca``), shaped like a loaded CSV directory."""
    broker = AlpacaBroker(settings)
    frames = {}
    for symbol in symbols:
        bars = broker.daily_bars(symbol, start, end)
        frame = pd.DataFrame(
            {
                "open": [b.open for b in bars],
                "high": [b.high for b in bars],
                "low": [b.low for b in bars],
                "close": [b.close for b in bars],
                "volume": [b.volume for b in bars],
            },
            index=pd.Index([b.session for b in bars], name="date"),
        )
        frames[symbol] = frame
    return frames
