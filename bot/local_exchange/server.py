"""The HTTP face of the exchange (aiohttp), and LocalExchange to run it on its own thread."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pandas as pd
from aiohttp import web

from bot.engine.clock import wall_now
from bot.errors import ConfigError
from bot.local_exchange.accounts import AccountModel, ExchangeError
from bot.local_exchange.admin_routes import AdminRoutes
from bot.local_exchange.book import Book
from bot.local_exchange.clock import AcceleratedClock, ManualClock, RealTimeClock, ReplayClock
from bot.local_exchange.data_routes import DataPlan, DataRoutes
from bot.local_exchange.faults import FaultRule, FaultSpec, FaultState
from bot.local_exchange.market import ReplayMarket
from bot.local_exchange.ratelimit import RateLimiter
from bot.local_exchange.trading_routes import ACCOUNT_KEY, TradingRoutes
from bot.market.dividends import Dividends

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PAGE_SIZE = 1000


def _error(status: int, code: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"code": code, "message": message, **extra}, status=status)


def _is_loopback(request: web.Request) -> bool:
    try:
        return request.remote is not None and ip_address(request.remote).is_loopback
    except ValueError:
        return False


class ExchangeApp:
    def __init__(
        self,
        book: Book,
        clock: ReplayClock,
        faults: FaultSpec,
        *,
        seed: int,
        page_size: int,
        data_plan: DataPlan,
        limiter: RateLimiter,
    ) -> None:
        self.market, self.book, self.clock = book.market, book, clock
        self.faults = FaultState(faults, seed)
        self.state_path: Path | None = None
        self.requests: Counter[str] = Counter()
        self.limiter = limiter
        self._trading = TradingRoutes(book, clock, self.faults)
        self._data = DataRoutes(book.market, clock, data_plan, page_size)
        self._admin = AdminRoutes(book, clock, self.requests, self.save)

    def save(self) -> None:
        if self.state_path is not None:
            self.book.save(self.state_path)

    def build(self) -> web.Application:
        app = web.Application(
            middlewares=[self._count, self._admin_guard, self._fault, self._rate_limit, self._errors, self._auth]
        )
        app.add_routes(self._admin.routes() + self._trading.routes() + self._data.routes())
        return app

    # Middleware, outermost first

    @web.middleware
    async def _count(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/v2/"):
            resource = request.match_info.route.resource
            self.requests[f"{request.method} {resource.canonical if resource else request.path}"] += 1
        return await handler(request)

    @web.middleware
    async def _admin_guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_exchange/") and not _is_loopback(request):
            return _error(403, 40310000, "the /_exchange/ admin routes answer only on loopback")
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
                return _injected(rule)
        response = await handler(request)
        if self.faults.drop_order_response(request.method, request.path) and response.status == 200:
            _drop(request)
        return response

    @web.middleware
    async def _rate_limit(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/v2/") or request.path.startswith("/v2/stocks/"):
            return await handler(request)
        allowance = self.limiter.take(request.headers.get("APCA-API-KEY-ID", ""))
        if not allowance.allowed:
            return web.json_response(
                {"code": 42910000, "message": "rate limit exceeded"}, status=429, headers=allowance.headers
            )
        response = await handler(request)
        response.headers.update(allowance.headers)
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
        self.save()
        return response


def _injected(rule: FaultRule) -> web.Response:
    headers = {}
    if rule.kind == "429":
        reset = int(wall_now().timestamp() + rule.retry_after)
        headers = {
            "Retry-After": f"{rule.retry_after:g}",
            "X-Ratelimit-Reset": str(reset),
            "X-Ratelimit-Limit": "200",
            "X-Ratelimit-Remaining": "0",
        }
    body = {"code": int(rule.kind) * 100000, "message": f"injected fault {rule.kind}"}
    return web.json_response(body, status=int(rule.kind), headers=headers)


def _drop(request: web.Request) -> None:
    """Close the connection without an answer (the client sees a reset)."""
    transport = request.transport
    if transport is not None:
        transport.abort()


class LocalExchange:
    """The exchange on its own thread and event loop; ``start`` returns its base URL.

    As a library (tests, the demo) it has no rate limit unless ``rate_limit`` is given; ``bot exchange``
    enforces Alpaca's 200 a minute by default.
    """

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
        account_model: AccountModel = AccountModel.MARGIN,
        data_plan: DataPlan = DataPlan.FREE,
        rate_limit: int = 0,
        rate_window_seconds: float = 60.0,
        dividends: Dividends | None = None,
        lockstep: bool = False,
    ) -> None:
        self.market = ReplayMarket(frames, dividends or {})
        replayed = [
            s for s in self.market.sessions if (start is None or s.day >= start) and (end is None or s.day <= end)
        ]
        if not replayed:
            raise ConfigError("no sessions of the data fall between the replay's start and end")
        self.sessions = replayed
        self.clock: ReplayClock = clock or (
            AcceleratedClock(replayed, speed, lockstep=lockstep) if speed is not None else RealTimeClock(replayed)
        )
        self.book = Book(self.market, cash, model=account_model)
        if state_path is not None and state_path.is_file():
            self.book.load(state_path)
        spec = faults or FaultSpec()
        if partial_fills:
            spec = FaultSpec((*spec.rules, FaultRule(kind="paper_partial", rate=1.0)), spec.text)
        limiter = RateLimiter(rate_limit, window_seconds=rate_window_seconds)
        self._app = ExchangeApp(
            self.book, self.clock, spec, seed=seed, page_size=page_size, data_plan=data_plan, limiter=limiter
        )
        self._app.state_path = state_path
        self._host, self._port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    @property
    def finished(self) -> bool:
        return self.clock.finished

    def hold_at(self, moment: datetime | None) -> None:
        """In lockstep, the replay does not pass ``moment`` (the bot's next decision point) until moved on."""
        if isinstance(self.clock, AcceleratedClock):
            self.clock.hold_at(moment)

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
                port = runner.addresses[0][1]
                host = f"[{self._host}]" if ":" in self._host else self._host
                self.url = f"http://{host}:{port}"
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

    def manual_clock(self) -> ManualClock:
        if not isinstance(self.clock, ManualClock):
            raise TypeError("this exchange runs on its own clock")
        return self.clock
