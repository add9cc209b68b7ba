"""The values the bot trades with, stated once: frozen and keyword-only, money and quantities in Decimal, times
timezone-aware. The rule's own inputs (daily and minute bars) are in strategies/bars.py, which imports nothing
but the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
REGULAR_OPEN = time(9, 30)
REGULAR_CLOSE = time(16, 0)


class TimeInForce(StrEnum):
    """Alpaca's times in force; the bot sends only day, opg and cls, and reads the others on orders placed by hand."""

    DAY = "day"
    OPG = "opg"
    CLS = "cls"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderStatus(StrEnum):
    """Every status Alpaca gives an order; any other value is an answer the bot does not act on."""

    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    DONE_FOR_DAY = "done_for_day"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REPLACED = "replaced"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    PENDING_REVIEW = "pending_review"
    ACCEPTED = "accepted"
    PENDING_NEW = "pending_new"
    ACCEPTED_FOR_BIDDING = "accepted_for_bidding"
    STOPPED = "stopped"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    CALCULATED = "calculated"
    HELD = "held"


@dataclass(frozen=True, slots=True, kw_only=True)
class Clock:
    now: datetime
    is_open: bool
    next_open: datetime
    next_close: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """One trading session; the times are timezone-aware (the close is early on half days)."""

    day: date
    opens_at: datetime
    closes_at: datetime

    @property
    def early_close(self) -> bool:
        return self.closes_at.astimezone(NEW_YORK).time() < REGULAR_CLOSE


@dataclass(frozen=True, slots=True, kw_only=True)
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
        if self.account_blocked:
            return "account_blocked"
        if self.trading_blocked:
            return "trading_blocked"
        if self.trade_suspended_by_user:
            return "trade_suspended_by_user"
        return None if self.status == "ACTIVE" else f"status_{self.status}"

    @property
    def spendable(self) -> Decimal:
        """What a buy may cost without borrowing: the least of cash, buying power and cash buying power."""
        limits = [self.cash, self.buying_power]
        if self.non_marginable_buying_power is not None:
            limits.append(self.non_marginable_buying_power)
        return max(min(limits), Decimal(0))


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    symbol: str
    qty: Decimal  # negative for a short position
    avg_entry_price: Decimal

    @property
    def long_qty(self) -> Decimal:
        return max(self.qty, Decimal(0))


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    symbol: str
    side: Side
    qty: int
    time_in_force: TimeInForce
    client_order_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    id: str
    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    time_in_force: TimeInForce
    status: OrderStatus
    filled_qty: Decimal
    filled_avg_price: Decimal | None
    submitted_at: datetime
    updated_at: datetime
    filled_at: datetime | None
