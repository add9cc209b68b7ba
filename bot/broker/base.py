"""The broker protocol the run loop depends on (its values are in bot/domain.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from bot.domain import Account, Clock, Order, OrderRequest, Position, Session
from bot.market.dividends import Dividends
from strategies.bars import DailyBar, MinuteBar


class Broker(Protocol):
    def clock(self) -> Clock: ...

    def calendar(self, start: date, end: date) -> list[Session]: ...

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
