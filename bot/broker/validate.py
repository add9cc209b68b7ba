"""What the broker says is checked before anything is recorded or acted on: one bad answer never reaches the ledger.

A violation is a BrokerDataInvalid naming the field and the value; the loop treats it like a transient failure
(logs an ``error`` and asks again on the next pass), so nothing invalid is ever persisted or traded on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from itertools import pairwise
from typing import Any, TypeVar

from bot.domain import NEW_YORK, Order, OrderRequest
from bot.errors import BrokerDataInvalid
from bot.market.dividends import Dividend, Dividends
from strategies.bars import DailyBar, MinuteBar

T = TypeVar("T")


def parsed(what: str, build: Callable[[], T]) -> T:
    """Build a value from a raw answer; a missing field or unreadable value is BrokerDataInvalid."""
    try:
        return build()
    except KeyError as exc:
        raise BrokerDataInvalid(f"{what}: field {exc.args[0]!r} is missing") from None
    except (ValueError, TypeError, InvalidOperation, AttributeError) as exc:
        raise BrokerDataInvalid(f"{what}: unreadable answer ({exc.__class__.__name__}: {exc})") from None


def number(what: str, field: str, value: Any, *, positive: bool = False, signed: bool = False) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise BrokerDataInvalid(f"{what}: {field}={value!r} is not a number") from None
    if not result.is_finite() or (positive and result <= 0) or (not signed and result < 0):
        allowed = "a positive number" if positive else "a number" if signed else "a number of at least 0"
        raise BrokerDataInvalid(f"{what}: {field}={value!r} is not {allowed}")
    return result


def required_number(
    what: str, raw: dict[str, Any], field: str, *, positive: bool = False, signed: bool = False
) -> Decimal:
    if raw.get(field) in (None, ""):
        raise BrokerDataInvalid(f"{what}: field {field!r} is missing")
    return number(what, field, raw[field], positive=positive, signed=signed)


def checked_order(order: Order) -> Order:
    what = f"order {order.client_order_id}"
    if order.qty <= 0:
        raise BrokerDataInvalid(f"{what}: qty={order.qty} is not positive")
    if not 0 <= order.filled_qty <= order.qty:
        raise BrokerDataInvalid(f"{what}: filled_qty={order.filled_qty} is outside 0..{order.qty}")
    if order.filled_qty > 0:
        avg = order.filled_avg_price
        if avg is None or not avg.is_finite() or avg <= 0:
            raise BrokerDataInvalid(f"{what}: filled_avg_price={avg} for a filled quantity of {order.filled_qty}")
    if order.qty == order.qty.to_integral_value() and order.filled_qty != order.filled_qty.to_integral_value():
        raise BrokerDataInvalid(f"{what}: filled_qty={order.filled_qty} is fractional for a whole-share order")
    return order


def same_order(order: Order, symbol: str, side: str, qty: Decimal, time_in_force: str) -> Order:
    """The broker's answer is for the order the bot sent (symbol, side, quantity, time in force)."""
    sent = {"symbol": symbol, "side": side, "qty": qty, "time_in_force": time_in_force}
    got = {"symbol": order.symbol, "side": order.side.value, "qty": order.qty}
    got["time_in_force"] = order.time_in_force.value
    for field, value in sent.items():
        if got[field] != value:
            raise BrokerDataInvalid(
                f"order {order.client_order_id}: {field}={got[field]!r}, but the bot sent {field}={value!r}"
            )
    return checked_order(order)


def as_requested(order: Order, request: OrderRequest) -> Order:
    return same_order(order, request.symbol, request.side.value, Decimal(request.qty), request.time_in_force.value)


def checked_prices(what: str, prices: dict[str, Any]) -> None:
    for field, value in prices.items():
        number(what, field, value, positive=True)


def checked_sessions(symbol: str, sessions: list[date], first: date, last: date) -> None:
    """Bars for the requested sessions only, oldest first, each once."""
    for previous, current in pairwise(sessions):
        if current <= previous:
            raise BrokerDataInvalid(f"{symbol} bars: {current} comes after {previous}")
    outside = [day for day in sessions if not first <= day <= last]
    if outside:
        raise BrokerDataInvalid(f"{symbol} bars: session {outside[0]} is outside the requested {first}..{last}")


def _bar_prices(what: str, raw: dict[str, Any]) -> tuple[float, float, float, float, float]:
    prices = [float(number(what, field, raw[field], positive=True)) for field in ("o", "h", "l", "c")]
    return prices[0], prices[1], prices[2], prices[3], float(number(what, "v", raw.get("v", 0)))


def _daily_bar(symbol: str, raw: dict[str, Any]) -> DailyBar:
    return DailyBar(bar_session(raw["t"]), *_bar_prices(f"{symbol} bar", raw))


def _minute_bar(symbol: str, raw: dict[str, Any]) -> MinuteBar:
    return MinuteBar(parse_time(raw["t"]), *_bar_prices(f"{symbol} minute", raw))


def daily_bars_from(symbol: str, rows: list[dict[str, Any]], first: date, last: date) -> list[DailyBar]:
    """Daily bars of the requested sessions only (none after ``last``, the broker's today at the latest)."""
    bars = [parsed(f"{symbol} daily bar", partial(_daily_bar, symbol, r)) for r in rows]
    checked_sessions(symbol, [b.session for b in bars], first, last)
    return bars


def minute_bars_from(symbol: str, rows: list[dict[str, Any]], start: datetime, end: datetime) -> list[MinuteBar]:
    minutes = [parsed(f"{symbol} minute bar", partial(_minute_bar, symbol, r)) for r in rows]
    for minute in minutes:
        if not start <= minute.start <= end:
            raise BrokerDataInvalid(f"{symbol} minute {minute.start.isoformat()} is outside the requested window")
    return minutes


def parse_time(value: Any) -> datetime:
    """An RFC 3339 time as Alpaca writes it (``Z``, up to nanoseconds: kept to the microsecond)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a time")
    return datetime.fromisoformat(value)


def bar_session(raw_time: Any) -> date:
    stamp = parse_time(raw_time)
    return stamp.astimezone(NEW_YORK).date() if stamp.tzinfo else stamp.date()


def _symbol_and_ex_date(row: Any) -> tuple[str, date]:
    return str(row["symbol"]), date.fromisoformat(str(row["ex_date"]))


def dividends_from(raw: Any, symbols: Sequence[str], start: date, end: date) -> Dividends:
    """Cash dividends from a corporate-actions answer: asked-for symbols, ex-dates in range, amounts of 0 or more."""
    rows = raw.get("cash_dividends", []) if isinstance(raw, dict) else None
    if not isinstance(rows, list):
        raise BrokerDataInvalid("corporate_actions: the answer holds no list of cash_dividends")
    found: dict[str, list[Dividend]] = {symbol: [] for symbol in symbols}
    for row in rows:
        what = f"corporate_actions: {row.get('symbol') if isinstance(row, dict) else row!r}"
        symbol, ex_date = parsed(what, partial(_symbol_and_ex_date, row))
        if symbol not in found:
            raise BrokerDataInvalid(f"{what}: a dividend of a symbol that was not asked for")
        if not start <= ex_date <= end:
            raise BrokerDataInvalid(f"{what}: ex_date {ex_date} is outside {start}..{end}")
        found[symbol].append(Dividend(ex_date, number(what, "rate", row["rate"])))
    return {symbol: tuple(sorted(set(rows_), key=lambda d: d.ex_date)) for symbol, rows_ in found.items()}
