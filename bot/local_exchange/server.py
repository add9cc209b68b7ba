"""The HTTP face of the exchange (aiohttp), and LocalExchange to run it on its own thread."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from aiohttp import web

from bot.local_exchange import wire
from bot.local_exchange.book import Account, Book, ExchangeError, PaperOrder
from bot.local_exchange.clock import AcceleratedClock, ManualClock, RealTimeClock, ReplayClock
from bot.local_exchange.faults import FaultSpec, FaultState
from bot.local_exchange.market import ReplayMarket
from bot.market.calendar import NEW_YORK

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PAGE_SIZE = 1000
ACCOUNT_KEY = web.RequestKey("account", Account)


def _error(status: int, code: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"code": code, "message": message, **extra}, status=status)


def _time_param(request: web.Request, name: str, default: datetime) -> datetime:
    raw = request.query.get(name)
    if not raw:
        return default
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(raw), datetime.min.time())
        except ValueError:
            raise ExchangeError(422, 40010001, f"{name} {raw!r} is not an RFC 3339 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=NEW_YORK)


def _int_param(request: web.Request, name: str, default: int, upper: int) -> int:
    raw = request.query.get(name)
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ExchangeError(422, 40010001, f"{name} must be an integer") from None
    return max(1, min(value, upper))


class ExchangeApp:
    def __init__(
        self, market: ReplayMarket, book: Book, clock: ReplayClock, faults: FaultSpec, seed: int, page_size: int
    ) -> None:
        self.market, self.book, self.clock = market, book, clock
        self.faults = FaultState(faults, seed)
        self.page_size = page_size
        self.state_path: Path | None = None
        self.requests: Counter[str] = Counter()

    def build(self) -> web.Application:
        app = web.Application(middlewares=[self._count, self._fault, self._errors, self._auth])
        get, post, delete = web.get, web.post, web.delete
        app.add_routes(
            [
                get("/_exchange/stats", self.stats),
                post("/_exchange/clock", self.set_clock),
                get("/v2/account", self.account),
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
                get("/v2/stocks/bars", self.bars),
                get("/v2/stocks/bars/latest", self.latest_bars),
                get("/v2/stocks/trades/latest", self.latest_trades),
                get("/v2/stocks/quotes/latest", self.latest_quotes),
                get("/v2/stocks/snapshots", self.snapshots),
            ]
        )
        return app

    # Middleware

    @web.middleware
    async def _count(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/v2/"):
            resource = request.match_info.route.resource
            self.requests[f"{request.method} {resource.canonical if resource else request.path}"] += 1
        return await handler(request)

    @web.middleware
    async def _fault(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/v2/"):
            return await handler(request)
        rule = self.faults.pick(request.method, request.path)
        if rule is not None:
            if rule.kind == "slow":
                await asyncio.sleep(rule.seconds)
            elif rule.kind == "reset":
                _drop(request)
                return web.Response(status=500)
            else:
                headers = {}
                if rule.kind == "429":
                    reset = int(datetime.now().timestamp() + rule.retry_after)  # noqa: DTZ005 - a unix time
                    headers = {
                        "Retry-After": f"{rule.retry_after:g}",
                        "X-RateLimit-Reset": str(reset),
                        "X-RateLimit-Limit": "200",
                        "X-RateLimit-Remaining": "0",
                    }
                body = {"code": int(rule.kind) * 100000, "message": f"injected fault {rule.kind}"}
                return web.json_response(body, status=int(rule.kind), headers=headers)
        response = await handler(request)
        if self.faults.drop_order_response(request.method, request.path) and response.status == 200:
            _drop(request)
        return response

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ExchangeError as exc:
            return _error(exc.status, exc.code, exc.message, **exc.extra)

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/v2/"):
            return await handler(request)
        key, secret = request.headers.get("APCA-API-KEY-ID"), request.headers.get("APCA-API-SECRET-KEY")
        account = self.book.account_for(key, secret) if key and secret else None
        if account is None:
            return _error(401, 40110000, "request is not authorized")
        request[ACCOUNT_KEY] = account
        self.book.advance(account, self.clock.now())
        response = await handler(request)
        if self.state_path is not None:
            self.book.save(self.state_path)
        return response

    # Trading

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
            return _error(409, 40900000, "this exchange runs on its own clock")
        body = await request.json()
        if body.get("finished"):
            self.clock.done = True
        if body.get("now"):
            self.clock.set(datetime.fromisoformat(body["now"]))
        self.book.advance_all(self.clock.now())
        if self.state_path is not None:
            self.book.save(self.state_path)
        return web.json_response({"now": self.clock.now().isoformat(), "finished": self.clock.finished})

    async def account(self, request: web.Request) -> web.Response:
        acct, now = request[ACCOUNT_KEY], self.clock.now()
        return web.json_response(wire.account(acct, self.book.equity(acct, now), self.book.buying_power(acct, now)))

    async def clock_route(self, request: web.Request) -> web.Response:
        now = self.clock.now()
        ahead = self.market.calendar(
            now.astimezone(NEW_YORK).date(), now.astimezone(NEW_YORK).date() + timedelta(days=20)
        )
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
            return _error(404, 40410000, "position does not exist")
        qty, cost = acct.positions[symbol]
        return web.json_response(wire.position(symbol, qty, cost, self.book.mark(symbol, self.clock.now())))

    def _close(self, acct: Account, symbol: str, qty: Decimal | None) -> PaperOrder:
        held = acct.positions.get(symbol, (Decimal(0), Decimal(0)))[0]
        if not held:
            raise ExchangeError(404, 40410000, "position does not exist")
        request = {
            "symbol": symbol,
            "side": "sell",
            "type": "market",
            "time_in_force": "day",
            "qty": str(qty if qty is not None else held),
        }
        return self.book.submit(acct, request, self.clock.now())

    async def close_position(self, request: web.Request) -> web.Response:
        acct, symbol = request[ACCOUNT_KEY], request.match_info["symbol"].upper()
        qty: Decimal | None = None
        if "qty" in request.query:
            qty = Decimal(request.query["qty"])
        elif "percentage" in request.query and symbol in acct.positions:
            qty = (acct.positions[symbol][0] * Decimal(request.query["percentage"]) / 100).quantize(Decimal(1))
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
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise ExchangeError(400, 40010000, "request body is not JSON") from None
        if not isinstance(body, dict):
            raise ExchangeError(400, 40010000, "request body must be an object")
        order = self.book.submit(request[ACCOUNT_KEY], body, self.clock.now())
        return web.json_response(wire.order(order))

    def _find(self, acct: Account, order_id: str) -> PaperOrder:
        for o in acct.orders:
            if o.id == order_id:
                return o
        raise ExchangeError(404, 40410000, "order not found")

    async def order(self, request: web.Request) -> web.Response:
        return web.json_response(wire.order(self._find(request[ACCOUNT_KEY], request.match_info["order_id"])))

    async def order_by_client_id(self, request: web.Request) -> web.Response:
        wanted = request.query.get("client_order_id", "")
        for o in request[ACCOUNT_KEY].orders:
            if o.client_order_id == wanted:
                return web.json_response(wire.order(o))
        return _error(404, 40410000, "order not found")

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
        after, until = _time_param(request, "after", far_past), _time_param(request, "until", far_future)
        selected = [o for o in selected if after < o.submitted_at <= until]
        selected.sort(key=lambda o: o.submitted_at, reverse=query.get("direction", "desc") == "desc")
        limit = _int_param(request, "limit", 50, 500)
        return web.json_response([wire.order(o) for o in selected[:limit]])

    async def cancel(self, request: web.Request) -> web.Response:
        acct = request[ACCOUNT_KEY]
        self.book.cancel(acct, self._find(acct, request.match_info["order_id"]), self.clock.now())
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
        size = _int_param(request, "page_size", 100, 100)
        return web.json_response([wire.fill_activity(f) for f in fills[:size]])

    # Market data

    def _symbols(self, request: web.Request) -> list[str]:
        raw = request.query.get("symbols", "")
        return [s for s in (part.strip().upper() for part in raw.split(",")) if s]

    async def bars(self, request: web.Request) -> web.Response:
        now = self.clock.now()
        timeframe = request.query.get("timeframe", "1Day")
        if timeframe not in ("1Day", "1Min"):
            raise ExchangeError(422, 42210000, f"timeframe {timeframe} is not supported here (1Day, 1Min)")
        day_start = datetime.combine(now.astimezone(NEW_YORK).date(), datetime.min.time(), NEW_YORK)
        start, end = _time_param(request, "start", day_start), _time_param(request, "end", now)
        rows: list[tuple[str, dict[str, Any]]] = []
        for symbol in self._symbols(request):
            if timeframe == "1Day":
                rows += [(symbol, wire.daily_bar(b)) for b in self.market.completed_daily(symbol, now, start, end)]
            else:
                rows += [(symbol, wire.minute_bar(b)) for b in self.market.completed_minutes(symbol, now, start, end)]
        if request.query.get("sort") == "desc":
            rows.reverse()
        offset = _decode_token(request.query.get("page_token"))
        size = min(_int_param(request, "limit", 1000, 10000), self.page_size)
        page = rows[offset : offset + size]
        grouped: dict[str, list[dict[str, Any]]] = {}
        for symbol, bar in page:
            grouped.setdefault(symbol, []).append(bar)
        token = _encode_token(offset + size) if offset + size < len(rows) else None
        return web.json_response({"bars": grouped, "next_page_token": token})

    async def latest_bars(self, request: web.Request) -> web.Response:
        now = self.clock.now()
        bars = {s: wire.minute_bar(b) for s in self._symbols(request) if (b := self.market.latest_minute(s, now))}
        return web.json_response({"bars": bars})

    def _latest_prices(self, request: web.Request) -> dict[str, float]:
        now = self.clock.now()
        return {s: p for s in self._symbols(request) if (p := self.market.price(s, now)) is not None}

    async def latest_trades(self, request: web.Request) -> web.Response:
        now = self.clock.now()
        return web.json_response({"trades": {s: wire.trade(now, p) for s, p in self._latest_prices(request).items()}})

    async def latest_quotes(self, request: web.Request) -> web.Response:
        now = self.clock.now()
        return web.json_response({"quotes": {s: wire.quote(now, p) for s, p in self._latest_prices(request).items()}})

    async def snapshots(self, request: web.Request) -> web.Response:
        now = self.clock.now()
        result: dict[str, Any] = {}
        for symbol, last in self._latest_prices(request).items():
            daily = self.market.completed_daily(symbol, now, datetime(1970, 1, 1, tzinfo=NEW_YORK), now)
            minute = self.market.latest_minute(symbol, now)
            result[symbol] = {
                "latestTrade": wire.trade(now, last),
                "latestQuote": wire.quote(now, last),
                "minuteBar": wire.minute_bar(minute) if minute else None,
                "dailyBar": wire.daily_bar(daily[-1]) if daily else None,
                "prevDailyBar": wire.daily_bar(daily[-2]) if len(daily) > 1 else None,
            }
        return web.json_response(result)


def _drop(request: web.Request) -> None:
    """Close the connection without an answer (the client sees a reset)."""
    transport = request.transport
    if transport is not None:
        transport.abort()


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset:"))
    except (ValueError, UnicodeDecodeError):
        raise ExchangeError(422, 42210000, "invalid page_token") from None


class LocalExchange:
    """The exchange on its own thread and event loop; ``start`` returns its base URL."""

    def __init__(
        self,
        frames: dict[str, pd.DataFrame],
        *,
        speed: float | None = 1.0,
        start: date | None = None,
        end: date | None = None,
        cash: Decimal = Decimal(100000),
        faults: FaultSpec | None = None,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: ReplayClock | None = None,
        partial_fills: bool = False,
        page_size: int = PAGE_SIZE,
        state_path: Path | None = None,
    ) -> None:
        self.market = ReplayMarket(frames)
        replayed = [
            s for s in self.market.sessions if (start is None or s.day >= start) and (end is None or s.day <= end)
        ]
        if not replayed:
            from bot.errors import ConfigError

            raise ConfigError("no sessions of the data fall between the replay's start and end")
        self.sessions = replayed
        self.clock: ReplayClock = clock or (
            AcceleratedClock(replayed, speed) if speed is not None else RealTimeClock(replayed)
        )
        self.book = Book(self.market, cash, partial_fills=partial_fills)
        if state_path is not None and state_path.is_file():
            self.book.load(state_path)
        self._app = ExchangeApp(self.market, self.book, self.clock, faults or FaultSpec(), seed, page_size)
        self._app.state_path = state_path
        self._host, self._port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    @property
    def finished(self) -> bool:
        return self.clock.finished

    @property
    def request_counts(self) -> Counter[str]:
        return self._app.requests

    def start(self) -> str:
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                runner = web.AppRunner(self._app.build(), access_log=None, handle_signals=False)
                loop.run_until_complete(runner.setup())
                site = web.TCPSite(runner, self._host, self._port)
                loop.run_until_complete(site.start())
                self._runner = runner
                port = runner.addresses[0][1]
                self.url = f"http://{self._host}:{port}"
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="local-exchange", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self.url

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop = None

    def __enter__(self) -> LocalExchange:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # Inspection for tests and reports.

    def orders(self, key_id: str) -> list[PaperOrder]:
        with self.book.lock:
            account = self.book.accounts.get(key_id)
            return list(account.orders) if account else []

    def manual_clock(self) -> ManualClock:
        if not isinstance(self.clock, ManualClock):
            raise TypeError("this exchange runs on its own clock")
        return self.clock
