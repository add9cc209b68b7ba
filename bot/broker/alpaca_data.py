"""Market data through alpaca-py: SIP for what the bot decides and scores on, clamped for the free plan.

The requests go through alpaca-py's REST client (its authentication, paging and APIError), not through the
``alpaca.data`` package: importing that package loads pandas and numpy (about 35 MB, a third of the live
loop's memory) for DataFrame conversions the bot never makes, as it reads the answers raw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from alpaca.common.rest import RESTClient

from bot.broker.alpaca_transport import SipRefused
from bot.broker.validate import daily_bars_from, dividends_from, minute_bars_from, number, parsed
from bot.config import DataFeedChoice
from bot.domain import NEW_YORK, Clock
from bot.errors import BrokerUnavailable, CredentialsRefused
from bot.logs import get_logger
from bot.market import venue
from bot.market.dividends import Dividends
from strategies.bars import DailyBar, MinuteBar

T = TypeVar("T")
BARS_PAGE = 10_000  # alpaca-py's page size for bars
ACTIONS_PAGE = 1_000

log = get_logger()


class Timeframe(StrEnum):
    DAY = "1Day"
    MINUTE = "1Min"


class MarketDataClient(RESTClient):
    """Alpaca's market data API (``v2``; ``v1`` for corporate actions) with the parameters alpaca-py sends."""

    def __init__(self, key: str, secret: str, url: str, api_version: str = "v2") -> None:
        super().__init__(base_url=url, api_key=key, secret_key=secret, api_version=api_version, raw_data=True)

    def bars(self, symbol: str, timeframe: Timeframe, start: datetime, end: datetime, feed: DataFeedChoice) -> Any:
        params = {"symbols": symbol, "timeframe": timeframe.value, "start": _utc(start), "end": _utc(end),
                  "feed": feed.value, "adjustment": "raw"}  # fmt: skip
        return self._get_marketdata("/stocks/bars", params, page_size=BARS_PAGE)

    def latest_trade(self, symbol: str, feed: DataFeedChoice) -> Any:
        return self._get_marketdata("/stocks/trades/latest", {"symbols": symbol, "feed": feed.value})

    def cash_dividends(self, symbols: Sequence[str], start: date, end: date) -> Any:
        params = {"symbols": ",".join(symbols), "types": "cash_dividend", "start": start.isoformat(),
                  "end": end.isoformat(), "limit": ACTIONS_PAGE, "sort": "asc"}  # fmt: skip
        return self._get_marketdata("/corporate-actions", params, page_limit=ACTIONS_PAGE, page_size=ACTIONS_PAGE)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


class AlpacaMarketData:
    """The market-data half of the adapter; AlpacaBroker sets these attributes."""

    _data: MarketDataClient
    _actions: MarketDataClient
    _feed_override: DataFeedChoice | None
    _sip_refused: bool
    _last_now: datetime | None

    def clock(self) -> Clock:
        raise NotImplementedError

    def _read(self, operation: str, call: Callable[[], T]) -> T:
        raise NotImplementedError

    # Market data.

    def _settled_horizon(self) -> datetime:
        """The latest ``end`` free-plan SIP serves: 16 minutes before the broker's last known time."""
        now = self._last_now or self.clock().now
        return now - venue.DATA_SETTLED_AFTER_CLOSE

    def daily_bars(self, symbol: str, start: date, end: date) -> list[DailyBar]:
        """Daily bars from SIP (the official prices) with ``end`` clamped to what the free plan serves."""
        first = datetime.combine(start, time(0), NEW_YORK)
        last = datetime.combine(end, time(23, 59), NEW_YORK)
        if self._feed_override is None:
            last = max(min(last, self._settled_horizon()), first)
        rows = self._bars(symbol, Timeframe.DAY, first, last)
        horizon = (self._last_now or self.clock().now).astimezone(NEW_YORK).date()
        return daily_bars_from(symbol, rows, start, min(end, horizon))

    def cash_dividends(self, symbols: Sequence[str], start: date, end: date) -> Dividends:
        """Cash dividends with ex-dates from ``start`` to ``end``, from Alpaca's corporate actions."""
        raw = self._read("corporate_actions", lambda: self._actions.cash_dividends(symbols, start, end))
        return dividends_from(raw, symbols, start, end)

    def minute_bars(self, symbol: str, start: datetime, end: datetime) -> list[MinuteBar]:
        return minute_bars_from(symbol, self._bars(symbol, Timeframe.MINUTE, start, end), start, end)

    def _feed_for(self, end: datetime) -> DataFeedChoice:
        """SIP where the plan serves it (old enough, or asked for), else IEX's real-time tape."""
        if self._feed_override is not None:
            return self._feed_override
        if self._sip_refused or end > self._settled_horizon():
            return DataFeedChoice.IEX
        return DataFeedChoice.SIP

    def _bars(self, symbol: str, timeframe: Timeframe, start: datetime, end: datetime) -> list[dict[str, Any]]:
        feed = self._feed_for(end)
        try:
            return self._bars_from(symbol, timeframe, start, end, feed)
        except SipRefused as refused:
            if feed is not DataFeedChoice.SIP:
                raise BrokerUnavailable(f"get_stock_bars: {refused}") from refused
            if self._feed_override is DataFeedChoice.SIP:
                raise CredentialsRefused(
                    f"APCA_DATA_FEED=sip but the data plan refuses it ({refused}); unset it or use iex"
                ) from refused
            self._sip_refused = True
            log.warning("data_feed_fallback", feed="iex", reason=str(refused))
            return self._bars_from(symbol, timeframe, start, end, DataFeedChoice.IEX)

    def _bars_from(
        self, symbol: str, timeframe: Timeframe, start: datetime, end: datetime, feed: DataFeedChoice
    ) -> list[dict[str, Any]]:
        raw: Any = self._read("get_stock_bars", lambda: self._data.bars(symbol, timeframe, start, end, feed))
        rows: list[dict[str, Any]] = list(raw.get(symbol) or []) if isinstance(raw, dict) else []
        return rows

    def latest_price(self, symbol: str) -> Decimal:
        feed = self._feed_override or DataFeedChoice.IEX
        raw: Any = self._read("get_stock_latest_trade", lambda: self._data.latest_trade(symbol, feed))
        trade = raw.get(symbol) if isinstance(raw, dict) else None
        if not trade:
            raise BrokerUnavailable(f"no latest trade for {symbol}")
        return parsed(
            f"{symbol} latest trade", lambda: number(f"{symbol} latest trade", "p", trade["p"], positive=True)
        )
