"""The benchmark's price at a fill of the symbol: what the benchmark leg of the score buys or sells at."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.broker.base import Broker
from bot.domain import NEW_YORK
from bot.errors import BrokerUnavailable
from bot.money import price


def benchmark_price_at(
    broker: Broker, symbol: str, moment: datetime, window: tuple[datetime, datetime], log: Any
) -> Decimal:
    """The benchmark's price at a fill: the open of that minute, or the close for a fill at the close.

    Without minute bars it falls back to the last daily close on or before the fill's session.
    """
    bars = broker.minute_bars(symbol, *window)
    at_close = window[1] < moment
    if bars:
        return price(bars[-1].close if at_close else bars[0].open)
    day = moment.astimezone(NEW_YORK).date()
    daily = [b for b in broker.daily_bars(symbol, day - timedelta(days=10), day) if b.session <= day]
    if not at_close:
        daily = [b for b in daily if b.session < day]
    if not daily:
        raise BrokerUnavailable(f"no {symbol} prices around {moment.isoformat()} for the benchmark leg")
    fallback = price(daily[-1].close)
    source = f"close_of_{daily[-1].session.isoformat()}"
    log.warning("benchmark_price_fallback", symbol=symbol, at=moment.isoformat(), source=source, price=str(fallback))
    return fallback
