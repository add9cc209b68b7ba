"""JSON in the shapes alpaca-py's models accept (see docs/alpaca-api.md §4.2 and §5.4)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.domain import NEW_YORK, Session
from bot.local_exchange.accounts import Account, Configuration, Fill, PaperOrder
from strategies.bars import DailyBar, MinuteBar

EXCHANGE_OF = {"IWM": "ARCA", "SPY": "ARCA"}


def stamp(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def money(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def asset_id(symbol: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"asset.{symbol}"))


@dataclass(frozen=True)
class AccountFigures:
    equity: Decimal
    buying_power: Decimal
    cash_buying_power: Decimal
    long_value: Decimal
    short_value: Decimal
    multiplier: int
    shorting_enabled: bool


def account(acct: Account, figures: AccountFigures) -> dict[str, Any]:
    return {
        "id": acct.id,
        "account_number": acct.number,
        "status": "ACTIVE",
        "crypto_status": "INACTIVE",
        "currency": "USD",
        "cash": money(acct.cash),
        "equity": money(figures.equity),
        "last_equity": money(figures.equity),
        "portfolio_value": money(figures.equity),
        "long_market_value": money(figures.long_value),
        "short_market_value": money(figures.short_value),
        "buying_power": money(figures.buying_power),
        "regt_buying_power": money(figures.buying_power),
        "daytrading_buying_power": "0",
        "non_marginable_buying_power": money(figures.cash_buying_power),
        "initial_margin": money((figures.long_value - figures.short_value) / 2),
        "maintenance_margin": money((figures.long_value - figures.short_value) * Decimal("0.3")),
        "multiplier": str(figures.multiplier),
        "shorting_enabled": figures.shorting_enabled,
        "trading_blocked": acct.trading_blocked,
        "transfers_blocked": False,
        "account_blocked": acct.account_blocked,
        "trade_suspended_by_user": acct.configuration.suspend_trade,
        "pattern_day_trader": None,  # retired by Alpaca on 2026-07-06
        "daytrade_count": 0,
        "accrued_fees": "0",
    }


def configuration(config: Configuration) -> dict[str, Any]:
    return {
        "dtbp_check": None,
        "pdt_check": None,
        "no_shorting": config.no_shorting,
        "suspend_trade": config.suspend_trade,
        "fractional_trading": config.fractional_trading,
        "max_margin_multiplier": config.max_margin_multiplier,
        "trade_confirm_email": config.trade_confirm_email,
        "ptp_no_exception_entry": config.ptp_no_exception_entry,
        "max_options_trading_level": None,
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
        "failed_at": stamp(o.failed_at),
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
        "position_intent": o.position_intent or ("buy_to_open" if o.side == "buy" else "sell_to_close"),
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
        "side": "long" if qty > 0 else "short",
        "market_value": money(value),
        "cost_basis": money(cost),
        "unrealized_pl": money(value - cost),
        "unrealized_plpc": money((value - cost) / abs(cost)) if cost else "0",
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
