"""alpaca-py behind the Broker protocol: the only module that imports alpaca.

alpaca-py sets no HTTP timeout and retries 429/504 itself with fixed 3 s sleeps, POSTs included.
Here its own retry is switched off and every request gets a timeout, so that tenacity owns all
retries: reads retry transient failures with jittered exponential backoff (honouring Retry-After),
and an order is never resent before it has been looked up by its client_order_id.
"""

from __future__ import annotations

import functools
import time as time_module
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar

import pandas as pd
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.enums import Adjustment, DataFeed
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest, StockLatestTradeRequest
from alpaca.data.timeframe import TimeFrame
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide
from alpaca.trading.enums import TimeInForce as AlpacaTimeInForce
from alpaca.trading.requests import GetCalendarRequest, MarketOrderRequest
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay
from tenacity.wait import wait_random_exponential

from bot.broker.base import Account, Clock, Order, OrderRequest, Position, SessionTimes
from bot.config import Settings
from bot.errors import BrokerUnavailable, OrderRejected
from bot.logs import get_logger
from bot.market.calendar import NEW_YORK
from strategies.bars import DailyBar, MinuteBar

T = TypeVar("T")
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
DUPLICATE_CLIENT_ORDER_ID = "client_order_id must be unique"
CONNECT_TIMEOUT_SECONDS = 3.05
MAX_ATTEMPTS = 8
MAX_RETRY_AFTER_SECONDS = 60.0

log = get_logger()


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return True
    return isinstance(exc, APIError) and exc.status_code in TRANSIENT_STATUSES


def _status(exc: BaseException) -> int | None:
    return exc.status_code if isinstance(exc, APIError) else None


def _retry_after(exc: BaseException | None) -> float | None:
    if not isinstance(exc, APIError) or exc.response is None:
        return None
    header = exc.response.headers.get("Retry-After")
    try:
        return min(float(header), MAX_RETRY_AFTER_SECONDS) if header is not None else None
    except ValueError:
        return None


def _describe(exc: BaseException) -> str:
    status = _status(exc)
    return f"HTTP {status}" if status is not None else exc.__class__.__name__


class _Backoff:
    """Jittered exponential backoff, but never shorter than the server's Retry-After."""

    def __init__(self, max_wait: float) -> None:
        self._exponential = wait_random_exponential(multiplier=0.5, max=max_wait)

    def __call__(self, state: RetryCallState) -> float:
        wait: float = self._exponential(state)
        outcome = state.outcome
        retry_after = _retry_after(outcome.exception() if outcome else None)
        return max(wait, retry_after) if retry_after is not None else wait


def _log_retry(operation: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "retry",
            operation=operation,
            attempt=state.attempt_number,
            wait_seconds=round(state.upcoming_sleep, 3),
            cause=_describe(exc) if exc else None,
        )

    return before_sleep


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def _time(value: Any) -> datetime:
    return pd.Timestamp(value).to_pydatetime()


def _order(raw: dict[str, Any]) -> Order:
    avg = raw.get("filled_avg_price")
    return Order(
        id=str(raw["id"]),
        client_order_id=str(raw["client_order_id"]),
        symbol=str(raw.get("symbol") or ""),
        side=str(raw.get("side") or ""),
        qty=_decimal(raw.get("qty")),
        time_in_force=str(raw.get("time_in_force") or ""),
        status=str(raw["status"]),
        filled_qty=_decimal(raw.get("filled_qty")),
        filled_avg_price=Decimal(str(avg)) if avg not in (None, "") else None,
        submitted_at=_time(raw.get("submitted_at") or raw["created_at"]),
        updated_at=_time(raw.get("updated_at") or raw["created_at"]),
        filled_at=_time(raw["filled_at"]) if raw.get("filled_at") else None,
    )


def _bar_session(raw_time: Any) -> date:
    stamp = pd.Timestamp(raw_time)
    return stamp.tz_convert(NEW_YORK).date() if stamp.tzinfo else stamp.date()


class AlpacaBroker:
    def __init__(self, settings: Settings, *, sleep: Callable[[float], None] = time_module.sleep) -> None:
        alpaca = settings.alpaca
        alpaca.require_credentials()
        key, secret = alpaca.key_id.get_secret_value(), alpaca.secret_key.get_secret_value()
        self._trading = TradingClient(key, secret, paper=True, raw_data=True, url_override=alpaca.base_url)
        self._data = StockHistoricalDataClient(key, secret, raw_data=True, url_override=alpaca.data_url)
        timeout = (CONNECT_TIMEOUT_SECONDS, settings.runtime.http_timeout_seconds)
        for client in (self._trading, self._data):
            # Private attributes, pinned with alpaca-py==0.44.0 and covered by a test: the SDK's own
            # retry would stack fixed 3 s sleeps under ours and resend POSTs blindly.
            client._retry = 0
            client._session.request = functools.partial(client._session.request, timeout=timeout)  # type: ignore[method-assign]
        self._retry_seconds = settings.runtime.retry_max_seconds
        self._feed = DataFeed.IEX
        self._sleep = sleep

    def _retrying(self, operation: str) -> Retrying:
        """Transient failures only, jittered exponential backoff, bounded in attempts and total time."""
        return Retrying(
            retry=retry_if_exception(is_transient),
            wait=_Backoff(max_wait=min(30.0, max(self._retry_seconds, 0.1))),
            stop=stop_after_delay(self._retry_seconds) | stop_after_attempt(MAX_ATTEMPTS),
            before_sleep=_log_retry(operation),
            sleep=self._sleep,
            reraise=True,
        )

    # Reads: safe to retry blindly.

    def _read(self, operation: str, call: Callable[[], T]) -> T:
        try:
            return self._retrying(operation)(call)
        except Exception as exc:
            if is_transient(exc):
                raise BrokerUnavailable(f"{operation}: broker unavailable ({_describe(exc)})") from exc
            if isinstance(exc, APIError):
                raise BrokerUnavailable(f"{operation}: broker answered {_describe(exc)}: {exc}") from exc
            raise

    def clock(self) -> Clock:
        raw: Any = self._read("get_clock", self._trading.get_clock)
        return Clock(
            now=_time(raw["timestamp"]),
            is_open=bool(raw["is_open"]),
            next_open=_time(raw["next_open"]),
            next_close=_time(raw["next_close"]),
        )

    def calendar(self, start: date, end: date) -> list[SessionTimes]:
        request = GetCalendarRequest(start=start, end=end)
        rows: Any = self._read("get_calendar", lambda: self._trading.get_calendar(request))
        sessions = []
        for row in rows:
            day = date.fromisoformat(str(row["date"]))
            opens = time.fromisoformat(str(row["open"]))
            closes = time.fromisoformat(str(row["close"]))
            sessions.append(
                SessionTimes(day, datetime.combine(day, opens, NEW_YORK), datetime.combine(day, closes, NEW_YORK))
            )
        return sessions

    def account(self) -> Account:
        raw: Any = self._read("get_account", self._trading.get_account)
        return Account(
            status=str(raw["status"]),
            cash=_decimal(raw.get("cash")),
            equity=_decimal(raw.get("equity")),
            buying_power=_decimal(raw.get("buying_power")),
        )

    def position(self, symbol: str) -> Position | None:
        raw = self._read("get_open_position", _none_if_not_found(lambda: self._trading.get_open_position(symbol)))
        if raw is None:
            return None
        return Position(str(raw["symbol"]), _decimal(raw["qty"]), _decimal(raw["avg_entry_price"]))

    def order_by_client_id(self, client_order_id: str) -> Order | None:
        lookup = _none_if_not_found(lambda: self._trading.get_order_by_client_id(client_order_id))
        raw = self._read("get_order_by_client_id", lookup)
        return _order(raw) if raw is not None else None

    def cancel(self, order_id: str) -> None:
        def call() -> None:
            try:
                self._trading.cancel_order_by_id(order_id)
            except APIError as exc:
                if exc.status_code not in (404, 422):  # already final: nothing to cancel
                    raise

        self._read("cancel_order", call)

    # Orders: exactly once.

    def submit(self, request: OrderRequest) -> Order:
        """Look the order up by its client_order_id; send it only when the broker has not got it.

        After an ambiguous failure (timeout, dropped connection, 5xx, 429, or a duplicate-id 422 that
        proves an earlier attempt landed) the lookup runs again before any resend, always with the same id.
        """
        try:
            return self._retrying("submit_order")(lambda: self._submit_once(request))
        except Exception as exc:
            if is_transient(exc):
                raise BrokerUnavailable(f"submit_order: broker unavailable ({_describe(exc)})") from exc
            raise

    def _submit_once(self, request: OrderRequest) -> Order:
        existing = self.order_by_client_id(request.client_order_id)
        if existing is not None:
            return existing
        order = MarketOrderRequest(
            symbol=request.symbol,
            qty=request.qty,
            side=OrderSide(request.side.value),
            time_in_force=AlpacaTimeInForce(request.time_in_force.value),
            client_order_id=request.client_order_id,
        )
        try:
            raw: Any = self._trading.submit_order(order)
        except APIError as exc:
            if exc.status_code == 422 and DUPLICATE_CLIENT_ORDER_ID in str(exc):
                landed = self.order_by_client_id(request.client_order_id)
                if landed is not None:
                    return landed
                raise
            if is_transient(exc):
                raise
            raise OrderRejected(f"{request.client_order_id}: broker rejected the order: {_message(exc)}") from exc
        return _order(raw)

    # Market data.

    def daily_bars(self, symbol: str, start: date, end: date) -> list[DailyBar]:
        rows = self._bars(
            symbol,
            TimeFrame.Day,
            datetime.combine(start, time(0), NEW_YORK),
            datetime.combine(end, time(23, 59), NEW_YORK),
        )
        return [
            DailyBar(_bar_session(r["t"]), float(r["o"]), float(r["h"]), float(r["l"]), float(r["c"]), float(r["v"]))
            for r in rows
        ]

    def minute_bars(self, symbol: str, start: datetime, end: datetime) -> list[MinuteBar]:
        rows = self._bars(symbol, TimeFrame.Minute, start, end)
        return [
            MinuteBar(_time(r["t"]), float(r["o"]), float(r["h"]), float(r["l"]), float(r["c"]), float(r["v"]))
            for r in rows
        ]

    def _bars(self, symbol: str, timeframe: TimeFrame, start: datetime, end: datetime) -> list[dict[str, Any]]:
        request = StockBarsRequest(
            symbol_or_symbols=symbol,
            timeframe=timeframe,
            start=start,
            end=end,
            feed=self._feed,
            adjustment=Adjustment.RAW,
        )
        raw: Any = self._read("get_stock_bars", lambda: self._data.get_stock_bars(request))
        rows: list[dict[str, Any]] = list(raw.get(symbol) or []) if isinstance(raw, dict) else []
        return rows

    def latest_price(self, symbol: str) -> Decimal:
        request = StockLatestTradeRequest(symbol_or_symbols=symbol, feed=self._feed)
        raw: Any = self._read("get_stock_latest_trade", lambda: self._data.get_stock_latest_trade(request))
        trade = raw.get(symbol) if isinstance(raw, dict) else None
        if not trade:
            raise BrokerUnavailable(f"no latest trade for {symbol}")
        return Decimal(str(trade["p"]))


def _none_if_not_found(call: Callable[[], Any]) -> Callable[[], Any]:
    """A lookup whose 404 means "there is none", not an error."""

    def lookup() -> Any:
        try:
            return call()
        except APIError as exc:
            if exc.status_code == 404:
                return None
            raise

    return lookup


def _message(exc: APIError) -> str:
    try:
        return str(exc.message)
    except (ValueError, KeyError):
        return f"HTTP {exc.status_code}"


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
