"""History for ``bot backtest --source alpaca``, fetched through the same adapter the bot trades with."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from bot.broker.alpaca import AlpacaBroker
from bot.config import Settings
from bot.market.dividends import Dividends

# The rule looks back for a fresh cross and a run of confirming closes: sessions before --start count as history
# (not traded), as a data directory's earlier rows do.
HISTORY_BEFORE_START = timedelta(days=400)


def download_daily_frames(settings: Settings, symbols: list[str], *, start: date, end: date) -> dict[str, pd.DataFrame]:
    """Daily bars for a backtest (``bot backtest --source alpaca``), shaped like a loaded CSV directory."""
    broker = AlpacaBroker(settings)
    frames = {}
    for symbol in symbols:
        bars = broker.daily_bars(symbol, start - HISTORY_BEFORE_START, end)
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


def download_dividends(settings: Settings, symbols: list[str], *, start: date, end: date) -> Dividends:
    """Cash dividends from Alpaca's corporate actions, for total return."""
    return AlpacaBroker(settings).cash_dividends(symbols, start, end)
