"""The rows the ledger stores, as frozen values, and who is told of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OrderRecord:
    client_order_id: str
    broker_order_id: str
    symbol: str
    side: str
    intent: str
    season: int
    qty: Decimal
    time_in_force: str
    status: str
    filled_qty: Decimal
    reason: str
    submitted_at: datetime
    updated_at: datetime
    rejection: str = ""  # why the broker refused it at submission (RejectionKind), else empty


@dataclass(frozen=True, slots=True)
class OutsideChange:
    """The broker's position differed from the bot's: what was seen, and what the bot adopted (negative: sold)."""

    observed_at: datetime
    symbol: str
    season: int
    broker_qty: Decimal
    ledger_qty: Decimal
    adopted_qty: Decimal


@dataclass(frozen=True, slots=True)
class FillRecord:
    client_order_id: str
    cum_qty: Decimal
    symbol: str
    side: str
    intent: str
    season: int
    qty: Decimal
    price: Decimal
    filled_at: datetime
    session: date
    benchmark_price: Decimal


@dataclass(frozen=True, slots=True)
class Snapshot:
    session: date
    equity: Decimal
    position_qty: Decimal
    position_value: Decimal
    benchmark_value: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerMeta:
    """What the ledger remembers once about its run: each field is written the first time it is known."""

    start_equity: Decimal | None = None  # the account's equity when the bot first ran
    first_session: date | None = None  # the first session the bot scores
    account_id: str | None = None  # the broker account the ledger belongs to
    account_url: str | None = None
    demo: bool = False  # written by `bot demo` against the local exchange


class LedgerListener(Protocol):
    """Told of each record once the ledger has committed it (the portfolio fold)."""

    def order_recorded(self, order: OrderRecord) -> None: ...

    def fill_recorded(self, fill: FillRecord) -> None: ...

    def outside_change_recorded(self, change: OutsideChange) -> None: ...
