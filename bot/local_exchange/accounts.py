"""A paper account's state: cash, positions, orders and fills, and its JSON state file.

Positions are signed: a short position has a negative quantity (and a negative cost basis).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.domain import Session
from bot.market.calendar import session_for
from bot.money import price as to_price

OPEN_STATUSES = frozenset({"new", "accepted", "partially_filled", "pending_new"})


class AccountModel(StrEnum):
    MARGIN = "margin"  # what Alpaca paper accounts are
    CASH = "cash"


class ExchangeError(Exception):
    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


@dataclass
class Fill:
    id: str
    order_id: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    at: datetime
    cum_qty: Decimal
    leaves_qty: Decimal
    order_status: str


@dataclass(frozen=True)
class OrderFate:
    """What the venue will do with an order, drawn once at submission (see faults.py)."""

    auction_unfilled: bool = False
    auction_fraction: Decimal | None = None  # fill this share at the auction, the rest expires
    reject_after_accept: bool = False
    paper_fraction: Decimal | None = None  # fill this share first, the rest later (paper's random partials)


@dataclass
class PaperOrder:
    id: str
    client_order_id: str
    symbol: str
    side: str
    type: str
    time_in_force: str
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    submitted_at: datetime
    status: str = "accepted"
    updated_at: datetime | None = None
    filled_at: datetime | None = None
    expired_at: datetime | None = None
    canceled_at: datetime | None = None
    failed_at: datetime | None = None
    filled_qty: Decimal = Decimal(0)
    filled_cost: Decimal = Decimal(0)
    target_day: str | None = None  # ISO date of the session the order executes in
    remainder_at: datetime | None = None  # when the rest of a paper partial fill executes
    fate: OrderFate = field(default_factory=OrderFate)
    position_intent: str = ""

    @property
    def filled_avg_price(self) -> Decimal | None:
        return to_price(self.filled_cost / self.filled_qty) if self.filled_qty else None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def target(self) -> Session | None:
        return session_for(datetime.fromisoformat(self.target_day).date()) if self.target_day else None

    @property
    def leaves_qty(self) -> Decimal:
        return (self.qty or Decimal(0)) - self.filled_qty


@dataclass
class Configuration:
    no_shorting: bool = False
    suspend_trade: bool = False
    fractional_trading: bool = True
    max_margin_multiplier: str = "4"
    trade_confirm_email: str = "all"
    ptp_no_exception_entry: bool = False


@dataclass
class Account:
    key_id: str
    secret: str
    cash: Decimal
    model: AccountModel = AccountModel.MARGIN
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    number: str = field(default_factory=lambda: "PA" + uuid.uuid4().hex[:10].upper())
    positions: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # symbol -> (signed qty, cost)
    orders: list[PaperOrder] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    configuration: Configuration = field(default_factory=Configuration)
    trading_blocked: bool = False
    account_blocked: bool = False

    def held(self, symbol: str) -> Decimal:
        return self.positions.get(symbol, (Decimal(0), Decimal(0)))[0]

    def find(self, order_id: str) -> PaperOrder:
        for order in self.orders:
            if order.id == order_id:
                return order
        raise ExchangeError(404, 40410000, "order not found")

    def by_client_id(self, client_order_id: str) -> PaperOrder | None:
        return next((o for o in self.orders if o.client_order_id == client_order_id), None)


# The state file: JSON with tagged Decimals and datetimes (never pickle: a state file is not code).


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$d"}:
            return Decimal(value["$d"])
        if set(value) == {"$t"}:
            return datetime.fromisoformat(value["$t"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _build(kind: type[Any], raw: dict[str, Any]) -> Any:
    known = {f.name for f in fields(kind)}
    return kind(**{k: v for k, v in raw.items() if k in known})


def save_accounts(accounts: dict[str, Account], path: Path) -> None:
    payload = json.dumps({key: _encode(asdict(account)) for key, account in accounts.items()})
    temporary = path.with_suffix(path.suffix + f".{uuid.uuid4().hex}.tmp")
    temporary.write_text(payload)
    temporary.replace(path)


def load_accounts(path: Path) -> dict[str, Account]:
    from bot.errors import ConfigError

    try:
        raw = _decode(json.loads(path.read_text()))
        accounts = {}
        for key, entry in raw.items():
            orders = []
            for order in entry.pop("orders"):
                order["fate"] = _build(OrderFate, order.get("fate") or {})
                orders.append(_build(PaperOrder, order))
            account = _build(Account, entry)
            account.orders = orders
            account.fills = [_build(Fill, f) for f in entry["fills"]]
            account.positions = {s: (Decimal(q), Decimal(c)) for s, (q, c) in entry["positions"].items()}
            account.configuration = _build(Configuration, entry.get("configuration") or {})
            account.model = AccountModel(entry.get("model", "margin"))
            accounts[key] = account
        return accounts
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"--state {path}: not an exchange state file ({exc.__class__.__name__}: {exc})") from None
