"""Broker values and the protocol the run loop depends on; money is Decimal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from bot.market.dividends import Dividends
from strategies.bars import DailyBar, MinuteBar


class TimeInForce(StrEnum):
    DAY = "day"
    OPG = "opg"
    CLS = "cls"


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


@dataclass(frozen=True, slots=True)
class Clock:
    now: datetime
    is_open: bool
    next_open: datetime
    next_close: datetime


@dataclass(frozen=True, slots=True)
class SessionTimes:
    day: date
    opens_at: datetime
    closes_at: datetime


@dataclass(frozen=True, slots=True)
class Account:
    status: str
    cash: Decimal
    equity: Decimal
    buying_power: Decimal
    id: str = ""
    non_marginable_buying_power: Decimal | None = None
    trading_blocked: bool = False
    account_blocked: bool = False
    trade_suspended_by_user: bool = False

    @property
    def blocked_by(self) -> str | None:
        """The flag that keeps the account from trading, if any."""
        for name in ("account_blocked", "trading_blocked", "trade_suspended_by_user"):
            if getattr(self, name):
                return name
        return None if self.status == "ACTIVE" else f"status_{self.status}"

    @property
    def spendable(self) -> Decimal:
        """What a buy may cost without borrowing: the least of cash, buying power and cash buying power."""
        limits = [self.cash, self.buying_power]
        if self.non_marginable_buying_power is not None:
            limits.append(self.non_marginable_buying_power)
        return max(min(limits), Decimal(0))


@dataclass(frozen=True, slots=True)
class Position:
    symbol: str
    qty: Decimal  # negative for a short position
    avg_entry_price: Decimal

    @property
    def long_qty(self) -> Decimal:
        return max(self.qty, Decimal(0))


@dataclass(frozen=True, slots=True)
class OrderRequest:
    symbol: str
    side: Side
    qty: int
    time_in_force: TimeInForce
    client_order_id: str


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    time_in_force: str
    status: str
    filled_qty: Decimal
    filled_avg_price: Decimal | None
    submitted_at: datetime
    updated_at: datetime
    filled_at: datetime | None


class Broker(Protocol):
    def clock(self) -> Clock: ...

    def calendar(self, start: date, end: date) -> list[SessionTimes]: ...

    def account(self) -> Account: ...

    def position(self, symbol: str) -> Position | None: ...

    def order_by_client_id(self, client_order_id: str) -> Order | None: ...

    def submit(self, request: OrderRequest) -> Order:
        """Place the order exactly once: an order already placed under its id is returned instead."""
        ...

    def cancel(self, order_id: str) -> None: ...

    def forbid_shorting(self) -> bool:
        """Make the account long-only (``no_shorting``); True when it was changed."""
        ...

    def daily_bars(self, symbol: str, start: date, end: date) -> list[DailyBar]:
        """Completed regular-session bars, oldest first."""
        ...

    def minute_bars(self, symbol: str, start: datetime, end: datetime) -> list[MinuteBar]: ...

    def latest_price(self, symbol: str) -> Decimal: ...

    def cash_dividends(self, symbols: Sequence[str], start: date, end: date) -> Dividends:
        """Cash dividends with ex-dates from ``start`` to ``end``, per symbol."""
        ...
