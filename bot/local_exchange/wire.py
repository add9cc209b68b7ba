"""JSON in the shapes alpaca-py's models accept (see docs/alpaca-api.md §4.2 and §5.4)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.local_exchange.book import Account, Fill, PaperOrder
from bot.market.calendar import NEW_YORK, Session
from strategies.bars import DailyBar, MinuteBar

EXCHANGE_OF = {"IWM": "ARCA", "SPY": "ARCA"}


def stamp(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def money(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def asset_id(symbol: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"asset.{symbol}"))


def account(acct: Account, equity: Decimal, buying_power: Decimal) -> dict[str, Any]:
    return {
        "id": acct.id,
        "account_number": acct.number,
        "status": "ACTIVE",
        "currency": "USD",
        "cash": money(acct.cash),
        "equity": money(equity),
        "last_equity": money(equity),
        "portfolio_value": money(equity),
        "buying_power": money(buying_power),
        "regt_buying_power": money(buying_power),
        "non_marginable_buying_power": money(buying_power),
        "multiplier": "1",
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
        "shorting_enabled": False,
        "pattern_day_trader": False,
        "crypto_status": "INACTIVE",
    }


def order(o: PaperOrder) -> dict[str, Any]:
    return {
        "id": o.id,
        "client_order_id": o.client_order_id,
        "created_at": stamp(o.submitted_at),
        "updated_at": stamp(o.updated_at or o.submitted_at),
        "submitted_at": stamp(o.submitted_at),
        "filled_at": stamp(o.filled_at),
        "expired_at": stamp(o.expired_at),
        "canceled_at": stamp(o.canceled_at),
        "failed_at": None,
        "replaced_at": None,
        "replaced_by": None,
        "replaces": None,
        "asset_id": asset_id(o.symbol),
        "symbol": o.symbol,
        "asset_class": "us_equity",
        "notional": money(o.notional),
        "qty": money(o.qty),
        "filled_qty": money(o.filled_qty),
        "filled_avg_price": money(o.filled_avg_price),
        "order_class": "",
        "order_type": o.type,
        "type": o.type,
        "side": o.side,
        "time_in_force": o.time_in_force,
        "limit_price": money(o.limit_price),
        "stop_price": None,
        "status": o.status,
        "extended_hours": False,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
        "position_intent": "buy_to_open" if o.side == "buy" else "sell_to_close",
    }


def position(symbol: str, qty: Decimal, cost: Decimal, mark: Decimal) -> dict[str, Any]:
    value = qty * mark
    return {
        "asset_id": asset_id(symbol),
        "symbol": symbol,
        "exchange": EXCHANGE_OF.get(symbol, "NYSE"),
        "asset_class": "us_equity",
        "asset_marginable": True,
        "avg_entry_price": money(cost / qty),
        "qty": money(qty),
        "qty_available": money(qty),
        "side": "long",
        "market_value": money(value),
        "cost_basis": money(cost),
        "unrealized_pl": money(value - cost),
        "unrealized_plpc": money((value - cost) / cost) if cost else "0",
        "current_price": money(mark),
        "lastday_price": money(mark),
        "change_today": "0",
    }


def fill_activity(f: Fill) -> dict[str, Any]:
    return {
        "id": f.id,
        "activity_type": "FILL",
        "transaction_time": stamp(f.at),
        "type": "fill" if f.order_status == "filled" else "partial_fill",
        "price": money(f.price),
        "qty": money(f.qty),
        "side": f.side,
        "symbol": f.symbol,
        "leaves_qty": money(f.leaves_qty),
        "order_id": f.order_id,
        "cum_qty": money(f.cum_qty),
        "order_status": f.order_status,
    }


def clock(now: datetime, is_open: bool, next_open: datetime, next_close: datetime) -> dict[str, Any]:
    def local(moment: datetime) -> str:
        return moment.astimezone(NEW_YORK).isoformat()

    return {"timestamp": local(now), "is_open": is_open, "next_open": local(next_open), "next_close": local(next_close)}


def calendar_day(session: Session) -> dict[str, Any]:
    return {
        "date": session.day.isoformat(),
        "open": session.opens_at.strftime("%H:%M"),
        "close": session.closes_at.astimezone(NEW_YORK).strftime("%H:%M"),
        "session_open": "0400",
        "session_close": "2000",
        "settlement_date": session.day.isoformat(),
    }


def daily_bar(bar: DailyBar) -> dict[str, Any]:
    midnight = datetime.combine(bar.session, datetime.min.time(), NEW_YORK)
    return _bar(stamp(midnight), bar.open, bar.high, bar.low, bar.close, bar.volume)


def minute_bar(bar: MinuteBar) -> dict[str, Any]:
    return _bar(stamp(bar.start), bar.open, bar.high, bar.low, bar.close, bar.volume)


def _bar(at: str | None, o: float, h: float, lo: float, c: float, v: float) -> dict[str, Any]:
    return {
        "t": at,
        "o": o,
        "h": h,
        "l": lo,
        "c": c,
        "v": int(v),
        "n": max(int(v // 100), 1),
        "vw": round((h + lo + c) / 3, 4),
    }


def trade(at: datetime, price: float) -> dict[str, Any]:
    return {"t": stamp(at), "x": "V", "p": price, "s": 100, "c": ["@"], "i": 1, "z": "B"}


def quote(at: datetime, price: float) -> dict[str, Any]:
    return {
        "t": stamp(at),
        "ax": "V",
        "ap": round(price + 0.01, 4),
        "as": 1,
        "bx": "V",
        "bp": round(price - 0.01, 4),
        "bs": 1,
        "c": ["R"],
        "z": "B",
    }
