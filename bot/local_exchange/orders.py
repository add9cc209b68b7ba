"""An order request's body checked as Alpaca checks it, before any account rule applies."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.local_exchange.accounts import ExchangeError, PaperOrder

MAX_CLIENT_ORDER_ID = 128


def _decimal_or_none(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ExchangeError(422, 40010001, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ExchangeError(422, 40010001, f"{value!r} is not a number")
    return number


def validated_order(
    request: dict[str, Any],
    now: datetime,
    knows: Callable[[str], bool],
    existing: Callable[[str], PaperOrder | None],
) -> PaperOrder:
    symbol = str(request.get("symbol") or "").upper()
    if not knows(symbol):
        raise ExchangeError(422, 40010001, f"asset {symbol or '(none)'} not found")
    side = request.get("side")
    kind = request.get("type") or "market"
    tif = request.get("time_in_force")
    if side not in ("buy", "sell"):
        raise ExchangeError(422, 40010001, "side must be buy or sell")
    if kind not in ("market", "limit"):
        raise ExchangeError(422, 40010001, f"order type {kind} is not supported here")
    if tif not in ("day", "gtc", "opg", "cls"):
        raise ExchangeError(422, 40010001, f"time_in_force {tif} is not supported here")
    qty, notional = _decimal_or_none(request.get("qty")), _decimal_or_none(request.get("notional"))
    if (qty is None) == (notional is None):
        raise ExchangeError(400, 40010001, "qty or notional is required, not both")
    if (qty is not None and qty <= 0) or (notional is not None and notional <= 0):
        raise ExchangeError(422, 40010001, "qty and notional must be positive")
    fractional = notional is not None or (qty is not None and qty != qty.to_integral_value())
    if fractional and (kind != "market" or tif != "day"):
        raise ExchangeError(422, 40010001, "fractional orders must be market orders with time_in_force day")
    limit = _decimal_or_none(request.get("limit_price"))
    if kind == "limit" and (limit is None or limit <= 0):
        raise ExchangeError(422, 40010001, "limit orders need a positive limit_price")
    client_order_id = str(request.get("client_order_id") or uuid.uuid4())
    if len(client_order_id) > MAX_CLIENT_ORDER_ID:
        raise ExchangeError(422, 40010001, f"client_order_id must be no more than {MAX_CLIENT_ORDER_ID} characters")
    if existing(client_order_id) is not None:
        raise ExchangeError(422, 40010001, "client_order_id must be unique")
    return PaperOrder(
        id=str(uuid.uuid4()),
        client_order_id=client_order_id,
        symbol=symbol,
        side=side,
        type=kind,
        time_in_force=tif,
        qty=qty,
        notional=notional,
        limit_price=limit,
        submitted_at=now,
        updated_at=now,
    )
