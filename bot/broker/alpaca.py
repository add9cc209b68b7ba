"""alpaca-py behind the Broker protocol (with alpaca_data.py and alpaca_transport.py, the only modules that import it).

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

from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, QueryOrderStatus
from alpaca.trading.enums import TimeInForce as AlpacaTimeInForce
from alpaca.trading.requests import GetCalendarRequest, GetOrdersRequest, MarketOrderRequest
from tenacity import Retrying, retry_if_exception, stop_after_attempt, stop_after_delay

from bot.broker.alpaca_data import AlpacaMarketData, MarketDataClient
from bot.broker.alpaca_transport import (
    Backoff,
    SipRefused,
    decimal_or_zero,
    describe,
    error_code,
    error_message,
    is_transient,
    log_retry,
    none_if_not_found,
    parse_order,
)
from bot.broker.bounded import RequestObserver, bound
from bot.broker.clock_guard import ClockGuard
from bot.broker.validate import (
    as_requested,
    checked_order,
    number,
    parse_time,
    parsed,
    required_number,
)
from bot.config import Settings
from bot.domain import NEW_YORK, Account, Clock, Order, OrderRequest, Position, Session
from bot.errors import BrokerDataInvalid, BrokerUnavailable, CredentialsRefused, OrderRejected, rejection_kind
from bot.logs import get_logger

T = TypeVar("T")
DUPLICATE_CLIENT_ORDER_ID = "client_order_id must be unique"
CONNECT_TIMEOUT_SECONDS = 3.05
MAX_ATTEMPTS = 8
SIP_REFUSED_CODE = 42210000
CREDENTIALS = "APCA_API_KEY_ID and APCA_API_SECRET_KEY"
HISTORY_PAGE = 500
MAX_HISTORY_PAGES = 20

log = get_logger()


class AlpacaBroker(AlpacaMarketData):
    def __init__(
        self,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time_module.sleep,
        observe: RequestObserver | None = None,
    ) -> None:
        alpaca = settings.alpaca
        alpaca.require_credentials()
        key, secret = alpaca.key_id.get_secret_value(), alpaca.secret_key.get_secret_value()
        self._trading = TradingClient(key, secret, paper=True, raw_data=True, url_override=alpaca.base_url)
        self._data = MarketDataClient(key, secret, alpaca.data_url)
        self._actions = MarketDataClient(key, secret, alpaca.data_url, api_version="v1")
        timeout = (CONNECT_TIMEOUT_SECONDS, settings.runtime.http_timeout_seconds)
        for client in (self._trading, self._data, self._actions):
            # Private attributes, pinned with alpaca-py==0.44.0 and covered by a test: the SDK's own
            # retry would stack fixed 3 s sleeps under ours and resend POSTs blindly.
            client._retry = 0
            client._session.request = bound(  # type: ignore[method-assign]
                client._session.request, connect_seconds=timeout[0], read_seconds=timeout[1], observe=observe
            )
        self._retry_seconds = settings.runtime.retry_max_seconds
        self._feed_override = alpaca.data_feed
        self._sip_refused = False
        self._last_now: datetime | None = None
        self._clock_guard = ClockGuard()
        self._sleep = sleep

    def _retrying(self, operation: str) -> Retrying:
        """Transient failures only, jittered exponential backoff, bounded in attempts and total time."""
        return Retrying(
            retry=retry_if_exception(is_transient),
            wait=Backoff(max_wait=min(30.0, max(self._retry_seconds, 0.1))),
            stop=stop_after_delay(self._retry_seconds) | stop_after_attempt(MAX_ATTEMPTS),
            before_sleep=log_retry(operation),
            sleep=self._sleep,
            reraise=True,
        )

    # Reads: safe to retry blindly.

    def _read(self, operation: str, call: Callable[[], T]) -> T:
        try:
            return self._retrying(operation)(call)
        except ValueError as exc:  # the SDK's JSON decoding of an HTML page, an empty body, a truncated answer
            raise BrokerDataInvalid(f"{operation}: the answer is not JSON ({exc.__class__.__name__})") from None
        except Exception as exc:
            if is_transient(exc):
                raise BrokerUnavailable(f"{operation}: broker unavailable ({describe(exc)})") from exc
            if isinstance(exc, APIError):
                if exc.status_code == 403 and error_code(exc) == SIP_REFUSED_CODE:
                    raise SipRefused(error_message(exc)) from exc
                if exc.status_code in (401, 403):
                    raise CredentialsRefused(
                        f"{operation}: the broker refused {CREDENTIALS} (HTTP {exc.status_code}: "
                        f"{error_message(exc)}); check that they are paper keys for this APCA_API_BASE_URL "
                        "and not revoked"
                    ) from exc
                raise BrokerUnavailable(f"{operation}: broker answered {describe(exc)}: {error_message(exc)}") from exc
            raise

    def clock(self) -> Clock:
        raw: Any = self._read("get_clock", self._trading.get_clock)
        clock = parsed(
            "clock",
            lambda: Clock(
                now=parse_time(raw["timestamp"]),
                is_open=bool(raw["is_open"]),
                next_open=parse_time(raw["next_open"]),
                next_close=parse_time(raw["next_close"]),
            ),
        )
        self._last_now = self._clock_guard.check(clock.now)
        return clock

    def calendar(self, start: date, end: date) -> list[Session]:
        request = GetCalendarRequest(start=start, end=end)
        rows: Any = self._read("get_calendar", lambda: self._trading.get_calendar(request))
        sessions = []
        for row in rows:
            day = date.fromisoformat(str(row["date"]))
            opens = time.fromisoformat(str(row["open"]))
            closes = time.fromisoformat(str(row["close"]))
            sessions.append(
                Session(
                    day=day,
                    opens_at=datetime.combine(day, opens, NEW_YORK),
                    closes_at=datetime.combine(day, closes, NEW_YORK),
                )
            )
        return sessions

    def account(self) -> Account:
        raw: Any = self._read("get_account", self._trading.get_account)
        cash_power = raw.get("non_marginable_buying_power") if isinstance(raw, dict) else None
        if not isinstance(raw, dict) or not raw.get("status"):
            raise BrokerDataInvalid("account: field 'status' is missing")
        return Account(
            status=str(raw["status"]),
            cash=required_number("account", raw, "cash", signed=True),  # negative on margin
            equity=required_number("account", raw, "equity"),
            buying_power=required_number("account", raw, "buying_power"),
            id=str(raw.get("id") or ""),
            non_marginable_buying_power=number("account", "non_marginable_buying_power", cash_power)
            if cash_power not in (None, "")
            else None,
            trading_blocked=bool(raw.get("trading_blocked")),
            account_blocked=bool(raw.get("account_blocked")),
            trade_suspended_by_user=bool(raw.get("trade_suspended_by_user")),
        )

    def forbid_shorting(self) -> bool:
        current: Any = self._read("get_account_configurations", self._trading.get_account_configurations)
        if current.get("no_shorting") is True:
            return False
        changed = {**current, "no_shorting": True}
        self._read("set_account_configurations", lambda: self._trading.patch("/account/configurations", changed))
        return True

    def position(self, symbol: str) -> Position | None:
        raw = self._read("get_open_position", none_if_not_found(lambda: self._trading.get_open_position(symbol)))
        if raw is None:
            return None
        position = parsed(
            "position",
            lambda: Position(
                symbol=str(raw["symbol"]),
                qty=Decimal(str(raw["qty"])),
                avg_entry_price=decimal_or_zero(raw["avg_entry_price"]),
            ),
        )
        if position.symbol != symbol or not position.qty.is_finite():
            raise BrokerDataInvalid(f"position: {position.symbol} {position.qty} for a request about {symbol}")
        return position

    def order_by_client_id(self, client_order_id: str) -> Order | None:
        lookup = none_if_not_found(lambda: self._trading.get_order_by_client_id(client_order_id))
        raw = self._read("get_order_by_client_id", lookup)
        if raw is None:
            return None
        order = parsed(f"order {client_order_id}", lambda: parse_order(raw))
        if order.client_order_id != client_order_id:
            raise BrokerDataInvalid(f"order {client_order_id}: the broker answered for {order.client_order_id}")
        return checked_order(order)

    def orders_history(self, symbol: str, prefix: str) -> list[Order]:
        """Every order of ``symbol`` whose client order id starts with ``prefix``, oldest first (paged)."""
        found: dict[str, Order] = {}
        after: datetime | None = None
        for _ in range(MAX_HISTORY_PAGES):
            request = GetOrdersRequest(
                status=QueryOrderStatus.ALL, symbols=[symbol], limit=HISTORY_PAGE, direction="asc", after=after
            )
            rows: Any = self._read("get_orders", functools.partial(self._trading.get_orders, request))
            page = [parsed("orders", functools.partial(parse_order, raw)) for raw in rows]
            found.update({o.client_order_id: checked_order(o) for o in page if o.client_order_id.startswith(prefix)})
            if len(page) < HISTORY_PAGE:
                break
            after = max(o.submitted_at for o in page)
        return sorted(found.values(), key=lambda o: o.submitted_at)

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
        except ValueError as exc:  # not JSON: whether it landed is found by the lookup on the next pass
            raise BrokerDataInvalid(f"submit_order: the answer is not JSON ({exc.__class__.__name__})") from None
        except Exception as exc:
            if is_transient(exc):
                raise BrokerUnavailable(f"submit_order: broker unavailable ({describe(exc)})") from exc
            raise

    def _submit_once(self, request: OrderRequest) -> Order:
        existing = self.order_by_client_id(request.client_order_id)
        if existing is not None:
            return as_requested(existing, request)
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
                    return as_requested(landed, request)
                raise
            if is_transient(exc):
                raise
            if exc.status_code == 401:
                raise CredentialsRefused(f"submit_order: the broker refused {CREDENTIALS} (HTTP 401)") from exc
            message = error_message(exc)
            raise OrderRejected(
                f"{request.client_order_id}: broker rejected the order (HTTP {exc.status_code}): {message}",
                rejection_kind(exc.status_code, message),
            ) from exc
        return as_requested(parsed(f"order {request.client_order_id}", lambda: parse_order(raw)), request)
