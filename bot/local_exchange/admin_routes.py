"""``/_exchange/*``: what a person in Alpaca's dashboard, or Alpaca itself, does to an account.

No auth, never faulted or rate-limited, and answered only to loopback clients. Tests use these routes
instead of reaching into the book.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from bot.local_exchange import wire
from bot.local_exchange.accounts import Account, ExchangeError
from bot.local_exchange.book import Book
from bot.local_exchange.clock import ManualClock, ReplayClock
from bot.local_exchange.trading_routes import json_object

FLAGS = ("trading_blocked", "account_blocked", "trade_suspended_by_user", "no_shorting")


class AdminRoutes:
    def __init__(self, book: Book, clock: ReplayClock, requests: dict[str, int], save: Any) -> None:
        self.book, self.clock, self.requests, self.save = book, clock, requests, save

    def routes(self) -> list[web.RouteDef]:
        base = "/_exchange/accounts/{key_id}"
        return [
            web.get("/_exchange/stats", self.stats),
            web.post("/_exchange/clock", self.set_clock),
            web.get(base, self.account),
            web.patch(base, self.set_flags),
            web.post(f"{base}/reset", self.reset),
            web.put(base + "/positions/{symbol}", self.set_position),
            web.post(base + "/orders/{client_order_id}/cancel", self.cancel),
        ]

    def _account(self, request: web.Request) -> Account:
        account = self.book.accounts.get(request.match_info["key_id"])
        if account is None:
            raise ExchangeError(404, 40410000, "no account for that key id")
        return account

    def _state(self, account: Account) -> dict[str, Any]:
        now = self.clock.now()
        self.book.advance(account, now)
        return {
            "account": wire.account(account, self.book.figures(account, now)),
            "configuration": wire.configuration(account.configuration),
            "positions": {symbol: wire.money(qty) for symbol, (qty, _) in sorted(account.positions.items())},
            "orders": [wire.order(o) for o in account.orders],
            "fills": [wire.fill_activity(f) for f in account.fills],
        }

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "requests": dict(self.requests),
                "total": sum(self.requests.values()),
                "now": self.clock.now().isoformat(),
                "finished": self.clock.finished,
            }
        )

    async def set_clock(self, request: web.Request) -> web.Response:
        """Move a manual clock (``bot exchange --manual-clock``): tests step the replay with it."""
        if not isinstance(self.clock, ManualClock):
            raise ExchangeError(409, 40900000, "this exchange runs on its own clock")
        body = await json_object(request)
        if body.get("finished"):
            self.clock.done = True
        if body.get("now"):
            self.clock.set(datetime.fromisoformat(body["now"]))
        self.book.advance_all(self.clock.now())
        self.save()
        return web.json_response({"now": self.clock.now().isoformat(), "finished": self.clock.finished})

    async def account(self, request: web.Request) -> web.Response:
        with self.book.lock:
            return web.json_response(self._state(self._account(request)))

    async def set_flags(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        with self.book.lock:
            account = self._account(request)
            for name in FLAGS:
                if name not in body:
                    continue
                if not isinstance(body[name], bool):
                    raise ExchangeError(422, 40010001, f"{name} must be a boolean")
                if name == "trade_suspended_by_user":
                    account.configuration.suspend_trade = body[name]
                elif name == "no_shorting":
                    account.configuration.no_shorting = body[name]
                else:
                    setattr(account, name, body[name])
            self.save()
            return web.json_response(self._state(account))

    async def reset(self, request: web.Request) -> web.Response:
        with self.book.lock:
            fresh = self.book.reset(self._account(request))
            self.save()
            return web.json_response(self._state(fresh))

    async def set_position(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        try:
            qty = Decimal(str(body["qty"]))
        except (KeyError, InvalidOperation):
            raise ExchangeError(422, 40010001, 'body must be {"qty": "<signed shares>"}') from None
        symbol = request.match_info["symbol"].upper()
        if not self.book.market.knows(symbol):
            raise ExchangeError(422, 40010001, f"asset {symbol} not found")
        with self.book.lock:
            account = self._account(request)
            self.book.set_position(account, symbol, qty, self.clock.now())
            self.save()
            return web.json_response(self._state(account))

    async def cancel(self, request: web.Request) -> web.Response:
        with self.book.lock:
            account = self._account(request)
            order = account.by_client_id(request.match_info["client_order_id"])
            if order is None:
                raise ExchangeError(404, 40410000, "order not found")
            self.book.cancel(account, order, self.clock.now())
            self.save()
            return web.json_response(wire.order(order))
