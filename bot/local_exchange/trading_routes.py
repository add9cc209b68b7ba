"""Trading API routes: account and its configuration, clock, calendar, positions, orders, activities."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from bot.domain import NEW_YORK
from bot.local_exchange import wire
from bot.local_exchange.accounts import Account, ExchangeError, PaperOrder
from bot.local_exchange.book import Book
from bot.local_exchange.clock import ReplayClock
from bot.local_exchange.faults import FaultState
from bot.local_exchange.params import int_param, time_param

ACCOUNT_KEY = web.RequestKey("account", Account)
CONFIGURABLE = {"no_shorting": bool, "suspend_trade": bool, "fractional_trading": bool, "ptp_no_exception_entry": bool}


async def json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except json.JSONDecodeError:
        raise ExchangeError(400, 40010000, "request body is not JSON") from None
    if not isinstance(body, dict):
        raise ExchangeError(400, 40010000, "request body must be an object")
    return body


class TradingRoutes:
    def __init__(self, book: Book, clock: ReplayClock, faults: FaultState) -> None:
        self.book, self.market, self.clock, self.faults = book, book.market, clock, faults

    def routes(self) -> list[web.RouteDef]:
        get, post, delete, patch = web.get, web.post, web.delete, web.patch
        return [
            get("/v2/account", self.account),
            get("/v2/account/configurations", self.configurations),
            patch("/v2/account/configurations", self.configure),
            get("/v2/clock", self.clock_route),
            get("/v2/calendar", self.calendar),
            get("/v2/positions", self.positions),
            delete("/v2/positions", self.close_all),
            get("/v2/positions/{symbol}", self.position),
            delete("/v2/positions/{symbol}", self.close_position),
            get("/v2/orders:by_client_order_id", self.order_by_client_id),
            post("/v2/orders", self.submit),
            get("/v2/orders", self.orders),
            delete("/v2/orders", self.cancel_all),
            get("/v2/orders/{order_id}", self.order),
            delete("/v2/orders/{order_id}", self.cancel),
            get("/v2/account/activities/{kind}", self.activities),
            get("/v2/account/activities", self.activities),
        ]

    async def account(self, request: web.Request) -> web.Response:
        acct = request[ACCOUNT_KEY]
        return web.json_response(wire.account(acct, self.book.figures(acct, self.clock.now())))

    async def configurations(self, request: web.Request) -> web.Response:
        return web.json_response(wire.configuration(request[ACCOUNT_KEY].configuration))

    async def configure(self, request: web.Request) -> web.Response:
        acct, body = request[ACCOUNT_KEY], await json_object(request)
        for name, kind in CONFIGURABLE.items():
            if name in body and body[name] is not None:
                if not isinstance(body[name], kind):
                    raise ExchangeError(422, 40010001, f"{name} must be a boolean")
                setattr(acct.configuration, name, body[name])
        return web.json_response(wire.configuration(acct.configuration))

    async def clock_route(self, request: web.Request) -> web.Response:
        now = self.clock.now()
        today = now.astimezone(NEW_YORK).date()
        ahead = self.market.calendar(today, today + timedelta(days=20))
        is_open = any(s.opens_at <= now < s.closes_at for s in ahead)
        next_open = next(s.opens_at for s in ahead if s.opens_at > now)
        next_close = next(s.closes_at for s in ahead if s.closes_at > now)
        return web.json_response(wire.clock(now, is_open, next_open, next_close))

    async def calendar(self, request: web.Request) -> web.Response:
        today = self.clock.now().astimezone(NEW_YORK).date()
        try:
            start = date.fromisoformat(request.query.get("start", today.isoformat()))
            end = date.fromisoformat(request.query.get("end", today.isoformat()))
        except ValueError:
            raise ExchangeError(422, 40010001, "start and end must be dates (YYYY-MM-DD)") from None
        return web.json_response([wire.calendar_day(s) for s in self.market.calendar(start, end)])

    async def positions(self, request: web.Request) -> web.Response:
        acct, now = request[ACCOUNT_KEY], self.clock.now()
        return web.json_response(
            [wire.position(s, q, c, self.book.mark(s, now)) for s, (q, c) in sorted(acct.positions.items())]
        )

    async def position(self, request: web.Request) -> web.Response:
        acct, symbol = request[ACCOUNT_KEY], request.match_info["symbol"].upper()
        if symbol not in acct.positions:
            raise ExchangeError(404, 40410000, "position does not exist")
        qty, cost = acct.positions[symbol]
        return web.json_response(wire.position(symbol, qty, cost, self.book.mark(symbol, self.clock.now())))

    def _close(self, acct: Account, symbol: str, qty: Decimal | None) -> PaperOrder:
        held = acct.held(symbol)
        if not held:
            raise ExchangeError(404, 40410000, "position does not exist")
        amount = abs(qty if qty is not None else held)
        request = {
            "symbol": symbol,
            "side": "sell" if held > 0 else "buy",
            "type": "market",
            "time_in_force": "day",
            "qty": str(amount),
        }
        return self.book.submit(acct, request, self.clock.now(), self.faults.order_fate("day"))

    async def close_position(self, request: web.Request) -> web.Response:
        acct, symbol = request[ACCOUNT_KEY], request.match_info["symbol"].upper()
        qty: Decimal | None = None
        try:
            if "qty" in request.query:
                qty = Decimal(request.query["qty"])
            elif "percentage" in request.query and symbol in acct.positions:
                share = Decimal(request.query["percentage"]) / 100
                qty = (acct.held(symbol) * share).quantize(Decimal(1))
        except InvalidOperation:
            raise ExchangeError(422, 40010001, "qty and percentage must be numbers") from None
        return web.json_response(wire.order(self._close(acct, symbol, qty)))

    async def close_all(self, request: web.Request) -> web.Response:
        acct = request[ACCOUNT_KEY]
        if request.query.get("cancel_orders", "").lower() == "true":
            for o in acct.orders:
                if o.is_open:
                    self.book.cancel(acct, o, self.clock.now())
        results = []
        for symbol in sorted(acct.positions):
            try:
                results.append({"symbol": symbol, "status": 200, "body": wire.order(self._close(acct, symbol, None))})
            except ExchangeError as exc:
                results.append(
                    {"symbol": symbol, "status": exc.status, "body": {"code": exc.code, "message": exc.message}}
                )
        return web.json_response(results, status=207)

    async def submit(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        fate = self.faults.order_fate(str(body.get("time_in_force")), str(body.get("side")))
        order = self.book.submit(request[ACCOUNT_KEY], body, self.clock.now(), fate)
        return web.json_response(wire.order(order))

    async def order(self, request: web.Request) -> web.Response:
        return web.json_response(wire.order(request[ACCOUNT_KEY].find(request.match_info["order_id"])))

    async def order_by_client_id(self, request: web.Request) -> web.Response:
        found = request[ACCOUNT_KEY].by_client_id(request.query.get("client_order_id", ""))
        if found is None:
            raise ExchangeError(404, 40410000, "order not found")
        return web.json_response(wire.order(found))

    async def orders(self, request: web.Request) -> web.Response:
        acct, query = request[ACCOUNT_KEY], request.query
        status = query.get("status", "open")
        selected = [o for o in acct.orders if status == "all" or (o.is_open == (status == "open"))]
        if "symbols" in query:
            wanted = set(query["symbols"].upper().split(","))
            selected = [o for o in selected if o.symbol in wanted]
        if "side" in query:
            selected = [o for o in selected if o.side == query["side"]]
        far_past, far_future = datetime(1970, 1, 1, tzinfo=NEW_YORK), datetime(2999, 1, 1, tzinfo=NEW_YORK)
        after = time_param(request, "after", far_past) or far_past
        until = time_param(request, "until", far_future) or far_future
        selected = [o for o in selected if after < o.submitted_at <= until]
        selected.sort(key=lambda o: o.submitted_at, reverse=query.get("direction", "desc") == "desc")
        limit = int_param(request, "limit", 50, 500)
        return web.json_response([wire.order(o) for o in selected[:limit]])

    async def cancel(self, request: web.Request) -> web.Response:
        acct = request[ACCOUNT_KEY]
        self.book.cancel(acct, acct.find(request.match_info["order_id"]), self.clock.now())
        return web.Response(status=204)

    async def cancel_all(self, request: web.Request) -> web.Response:
        acct, results = request[ACCOUNT_KEY], []
        for o in acct.orders:
            if o.is_open:
                self.book.cancel(acct, o, self.clock.now())
                results.append({"id": o.id, "status": 200, "body": wire.order(o)})
        return web.json_response(results, status=207)

    async def activities(self, request: web.Request) -> web.Response:
        kind = request.match_info.get("kind") or request.query.get("activity_types", "FILL")
        if kind != "FILL":
            return web.json_response([])
        fills = sorted(
            request[ACCOUNT_KEY].fills, key=lambda f: f.id, reverse=request.query.get("direction", "desc") == "desc"
        )
        token = request.query.get("page_token")
        if token:
            ids = [f.id for f in fills]
            fills = fills[ids.index(token) + 1 :] if token in ids else []
        size = int_param(request, "page_size", 100, 100)
        return web.json_response([wire.fill_activity(f) for f in fills[:size]])
