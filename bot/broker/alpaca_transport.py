"""alpaca-py's transport as the adapter needs it: which failures are transient, how long to wait, what a
refusal means, and the tolerant parsing of raw answers. Only the adapter's modules import alpaca."""

from __future__ import annotations

import time as time_module
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import requests
from alpaca.common.exceptions import APIError
from tenacity import RetryCallState
from tenacity.wait import wait_random_exponential

from bot.broker.validate import parse_time
from bot.domain import Order, OrderStatus, Side, TimeInForce
from bot.logs import get_logger

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 60.0

log = get_logger()


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return True
    return isinstance(exc, APIError) and exc.status_code in TRANSIENT_STATUSES


def status_of(exc: BaseException) -> int | None:
    return exc.status_code if isinstance(exc, APIError) else None


def retry_after_seconds(exc: BaseException | None, wall: Callable[[], float] = time_module.time) -> float | None:
    """Seconds the server asked us to wait: ``Retry-After``, else (Alpaca's 429) until ``X-Ratelimit-Reset``."""
    if not isinstance(exc, APIError) or exc.response is None:
        return None
    headers = exc.response.headers
    try:
        if headers.get("Retry-After") is not None:
            return min(float(headers["Retry-After"]), MAX_RETRY_AFTER_SECONDS)
        if exc.status_code == 429 and headers.get("X-Ratelimit-Reset") is not None:
            return min(max(float(headers["X-Ratelimit-Reset"]) - wall(), 0.0), MAX_RETRY_AFTER_SECONDS)
    except ValueError:
        return None
    return None


def error_code(exc: APIError) -> int | None:
    try:
        return int(exc.code)
    except (ValueError, KeyError, TypeError):
        return None


class SipRefused(Exception):
    """The data plan does not serve this SIP request; the caller falls back to IEX."""


def describe(exc: BaseException) -> str:
    status = status_of(exc)
    return f"HTTP {status}" if status is not None else exc.__class__.__name__


class Backoff:
    """Jittered exponential backoff, but never shorter than the server's Retry-After."""

    def __init__(self, max_wait: float) -> None:
        self._exponential = wait_random_exponential(multiplier=0.5, max=max_wait)

    def __call__(self, state: RetryCallState) -> float:
        wait: float = self._exponential(state)
        outcome = state.outcome
        retry_after = retry_after_seconds(outcome.exception() if outcome else None)
        return max(wait, retry_after) if retry_after is not None else wait


def log_retry(operation: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "retry",
            operation=operation,
            attempt=state.attempt_number,
            wait_seconds=round(state.upcoming_sleep, 3),
            cause=describe(exc) if exc else None,
        )

    return before_sleep


def decimal_or_zero(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def parse_order(raw: dict[str, Any]) -> Order:
    avg = raw.get("filled_avg_price")
    return Order(
        id=str(raw["id"]),
        client_order_id=str(raw["client_order_id"]),
        symbol=str(raw.get("symbol") or ""),
        side=Side(str(raw.get("side") or "")),
        qty=decimal_or_zero(raw.get("qty")),
        time_in_force=TimeInForce(str(raw.get("time_in_force") or "")),
        status=OrderStatus(str(raw["status"])),
        filled_qty=decimal_or_zero(raw.get("filled_qty")),
        filled_avg_price=Decimal(str(avg)) if avg not in (None, "") else None,
        submitted_at=parse_time(raw.get("submitted_at") or raw["created_at"]),
        updated_at=parse_time(raw.get("updated_at") or raw["created_at"]),
        filled_at=parse_time(raw["filled_at"]) if raw.get("filled_at") else None,
    )


def none_if_not_found(call: Callable[[], Any]) -> Callable[[], Any]:
    """A lookup whose 404 means "there is none", not an error."""

    def lookup() -> Any:
        try:
            return call()
        except APIError as exc:
            if exc.status_code == 404:
                return None
            raise

    return lookup


def error_message(exc: APIError) -> str:
    try:
        return str(exc.message)
    except (ValueError, KeyError):
        return f"HTTP {exc.status_code}"
