"""Market Data routes with Alpaca's feeds and the free plan's limits.

Free plan (``--data-plan free``, the default): ``feed=sip`` with an ``end`` in the last 15 minutes or in the
future is refused (403, 42210000); with no ``feed`` such a request silently gets IEX bars; SIP is otherwise
served as it was 15 minutes ago. The latest and snapshot endpoints serve IEX only. ``plus`` serves SIP in real
time and makes it the default everywhere.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from aiohttp import web

from bot.domain import NEW_YORK
from bot.local_exchange import wire
from bot.local_exchange.accounts import ExchangeError
from bot.local_exchange.clock import ReplayClock
from bot.local_exchange.market import Feed, ReplayMarket
from bot.local_exchange.params import int_param, time_param
from bot.market.venue import SIP_DELAY

RECENT_SIP_REFUSED = "subscription does not permit querying recent SIP data"
ADJUSTMENTS = frozenset({"raw", "split", "dividend", "all"})


class DataPlan(StrEnum):
    FREE = "free"
    PLUS = "plus"


class DataRoutes:
    def __init__(self, market: ReplayMarket, clock: ReplayClock, plan: DataPlan, page_size: int) -> None:
        self.market, self.clock, self.plan, self.page_size = market, clock, plan, page_size

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v2/stocks/bars", self.bars),
            web.get("/v2/stocks/bars/latest", self.latest_bars),
            web.get("/v2/stocks/trades/latest", self.latest_trades),
            web.get("/v2/stocks/quotes/latest", self.latest_quotes),
            web.get("/v2/stocks/snapshots", self.snapshots),
            web.get("/v1/corporate-actions", self.corporate_actions),
        ]

    def _requested_feed(self, request: web.Request) -> Feed | None:
        raw = request.query.get("feed")
        if raw is None:
            return None
        if raw not in (Feed.SIP, Feed.IEX):
            raise ExchangeError(422, 42210000, f"invalid feed {raw!r} (sip, iex)")
        return Feed(raw)

    def _historical(self, request: web.Request, now: datetime) -> tuple[Feed, datetime, datetime | None]:
        """The feed, what it can see, and the request's ``end`` (None: up to what it can see)."""
        asked = self._requested_feed(request)
        end = time_param(request, "end", None)
        if asked is Feed.IEX:
            return Feed.IEX, now, end
        if self.plan is DataPlan.PLUS:
            return Feed.SIP, now, end
        horizon = now - SIP_DELAY
        recent = end is not None and end > horizon
        if asked is Feed.SIP and recent:
            raise ExchangeError(403, 42210000, RECENT_SIP_REFUSED)
        if recent:
            return Feed.IEX, now, end
        return Feed.SIP, horizon, end

    def _latest_feed(self, request: web.Request) -> Feed:
        asked = self._requested_feed(request)
        if self.plan is DataPlan.FREE:
            if asked is Feed.SIP:
                raise ExchangeError(403, 42210000, RECENT_SIP_REFUSED)
            return Feed.IEX
        return asked or Feed.SIP

    @staticmethod
    def _symbols(request: web.Request) -> list[str]:
        raw = request.query.get("symbols", "")
        return [s for s in (part.strip().upper() for part in raw.split(",")) if s]

    async def bars(self, request: web.Request) -> web.Response:
        now = self.clock.now()
        timeframe = request.query.get("timeframe", "1Day")
        if timeframe not in ("1Day", "1Min"):
            raise ExchangeError(422, 42210000, f"timeframe {timeframe} is not supported here (1Day, 1Min)")
        adjustment = request.query.get("adjustment", "raw")
        if adjustment not in ADJUSTMENTS:
            raise ExchangeError(422, 42210000, f"invalid adjustment {adjustment!r} ({', '.join(sorted(ADJUSTMENTS))})")
        feed, visible, end = self._historical(request, now)
        day_start = datetime.combine(now.astimezone(NEW_YORK).date(), datetime.min.time(), NEW_YORK)
        start, end = time_param(request, "start", day_start) or day_start, min(end or visible, visible)
        rows: list[tuple[str, dict[str, Any]]] = []
        for symbol in self._symbols(request):
            if timeframe == "1Day":
                rows += [(symbol, wire.daily_bar(b)) for b in self.market.daily(symbol, visible, start, end, feed)]
            else:
                minutes = self.market.feed_minutes(symbol, visible, start, end, feed)
                rows += [(symbol, wire.minute_bar(b)) for b in minutes]
        if request.query.get("sort") == "desc":
            rows.reverse()
        offset = _decode_token(request.query.get("page_token"))
        size = min(int_param(request, "limit", 1000, 10000), self.page_size)
        page = rows[offset : offset + size]
        grouped: dict[str, list[dict[str, Any]]] = {}
        for symbol, bar in page:
            grouped.setdefault(symbol, []).append(bar)
        token = _encode_token(offset + size) if offset + size < len(rows) else None
        return web.json_response({"bars": grouped, "next_page_token": token})

    async def latest_bars(self, request: web.Request) -> web.Response:
        now, feed = self.clock.now(), self._latest_feed(request)
        bars = {}
        for symbol in self._symbols(request):
            minute = self.market.latest_minute(symbol, now)
            if minute is not None:
                shown = self.market.feed_minutes(symbol, now, minute.start, minute.start, feed)
                bars[symbol] = wire.minute_bar(shown[0] if shown else minute)
        return web.json_response({"bars": bars})

    def _latest_prices(self, request: web.Request) -> dict[str, float]:
        now, feed = self.clock.now(), self._latest_feed(request)
        return {s: p for s in self._symbols(request) if (p := self.market.feed_price(s, now, feed)) is not None}

    async def latest_trades(self, request: web.Request) -> web.Response:
        now = self.clock.now()
        return web.json_response({"trades": {s: wire.trade(now, p) for s, p in self._latest_prices(request).items()}})

    async def latest_quotes(self, request: web.Request) -> web.Response:
        now = self.clock.now()
        return web.json_response({"quotes": {s: wire.quote(now, p) for s, p in self._latest_prices(request).items()}})

    async def corporate_actions(self, request: web.Request) -> web.Response:
        return await _corporate_actions(self.market, request)

    async def snapshots(self, request: web.Request) -> web.Response:
        now, feed = self.clock.now(), self._latest_feed(request)
        result: dict[str, Any] = {}
        for symbol, last in self._latest_prices(request).items():
            daily = self.market.daily(symbol, now, datetime(1970, 1, 1, tzinfo=NEW_YORK), now, feed)
            minute = self.market.latest_minute(symbol, now)
            result[symbol] = {
                "latestTrade": wire.trade(now, last),
                "latestQuote": wire.quote(now, last),
                "minuteBar": wire.minute_bar(minute) if minute else None,
                "dailyBar": wire.daily_bar(daily[-1]) if daily else None,
                "prevDailyBar": wire.daily_bar(daily[-2]) if len(daily) > 1 else None,
            }
        return web.json_response(result)


async def _corporate_actions(market: ReplayMarket, request: web.Request) -> web.Response:
    """Cash dividends as Alpaca's v1 corporate-actions endpoint lists them (the only type the replay knows)."""
    query = request.query
    symbols = [s for s in query.get("symbols", "").split(",") if s]
    types = [t for t in query.get("types", "cash_dividend").split(",") if t]
    try:
        start = date.fromisoformat(query["start"]) if "start" in query else date.min
        end = date.fromisoformat(query["end"]) if "end" in query else date.max
    except ValueError as exc:
        raise ExchangeError(422, 42210000, f"invalid date: {exc}") from None
    listed = [
        {"corporate_action_type": "cash_dividend", "symbol": symbol, "cusip": "", "rate": float(d.amount),
         "special": False, "foreign": False, "process_date": d.ex_date.isoformat(), "ex_date": d.ex_date.isoformat(),
         "record_date": d.ex_date.isoformat(), "payable_date": d.ex_date.isoformat(), "id": f"{symbol}-{d.ex_date}"}
        for symbol in symbols
        for d in market.dividends.get(symbol, ())
        if "cash_dividend" in types and start <= d.ex_date <= end
    ]  # fmt: skip
    return web.json_response({"corporate_actions": {"cash_dividends": listed}, "next_page_token": None})


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset:"))
    except (ValueError, UnicodeDecodeError):
        raise ExchangeError(422, 42210000, "invalid page_token") from None
