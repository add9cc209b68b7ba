"""The broker protocol served in-process by the local exchange's venue model, at a time its driver sets.

The same Book (orders, auctions, fills, margin, cut-offs) and replay market that `bot exchange` serves over HTTP,
called directly: what the alpaca-py adapter would turn the HTTP answers into, without the HTTP. The backtest's
live engine (bot/backtest/cycle.py) runs the live Trader on it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from bot.domain import NEW_YORK, Account, Clock, Order, OrderRequest, OrderStatus, Position, Session, Side, TimeInForce
from bot.errors import BrokerUnavailable, OrderRejected, rejection_kind
from bot.local_exchange.accounts import Account as PaperAccount
from bot.local_exchange.accounts import ExchangeError, PaperOrder
from bot.local_exchange.book import Book
from bot.local_exchange.clock import ManualClock
from bot.local_exchange.faults import FaultState
from bot.local_exchange.market import Feed, ReplayMarket
from bot.market import venue
from bot.market.dividends import Dividends
from strategies.bars import DailyBar, MinuteBar

KEY_ID = "in-process"


def clock_at(market: ReplayMarket, now: datetime) -> tuple[bool, datetime, datetime]:
    """Whether the market is open at ``now``, and its next open and close (as /v2/clock answers)."""
    today = now.astimezone(NEW_YORK).date()
    ahead = market.calendar(today, today + timedelta(days=20))
    is_open = any(s.opens_at <= now < s.closes_at for s in ahead)
    next_open = next(s.opens_at for s in ahead if s.opens_at > now)
    next_close = next(s.closes_at for s in ahead if s.closes_at > now)
    return is_open, next_open, next_close


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment is not None else None


def as_order(o: PaperOrder) -> Order:
    return Order(
        id=o.id,
        client_order_id=o.client_order_id,
        symbol=o.symbol,
        side=Side(o.side),
        qty=o.qty or Decimal(0),
        time_in_force=TimeInForce(o.time_in_force),
        status=OrderStatus(o.status),
        filled_qty=o.filled_qty,
        filled_avg_price=o.filled_avg_price,
        submitted_at=o.submitted_at.astimezone(UTC),
        updated_at=(o.updated_at or o.submitted_at).astimezone(UTC),
        filled_at=_utc(o.filled_at),
    )


class SimulatedBroker:
    """``real_time_sip``: minutes and latest prices from the SIP tape as they print (Alpaca's paid plan), where the
    free plan's are IEX's; the backtest decides on the data it is given, not on the exchange's stand-in IEX tape."""

    def __init__(self, book: Book, clock: ManualClock, faults: FaultState, *, real_time_sip: bool = False) -> None:
        self.real_time_sip = real_time_sip
        self.book, self.market, self.time, self.faults = book, book.market, clock, faults
        account = book.account_for(KEY_ID, KEY_ID)
        assert account is not None  # a new key opens an account
        self.paper: PaperAccount = account
        self.requests: Counter[date] = Counter()  # per New York day, as Alpaca would count them
        self._advanced_to: datetime | None = None  # the book has applied every fill up to this moment
        self._day = date.min  # the New York day of that moment (requests are counted per day)

    def _now(self) -> datetime:
        now = self.time.now()
        if now != self._advanced_to:
            self.book.advance(self.paper, now)
            self._advanced_to, self._day = now, now.astimezone(NEW_YORK).date()
        self.requests[self._day] += 1
        return now

    def clock(self) -> Clock:
        now = self._now()
        try:
            is_open, next_open, next_close = clock_at(self.market, now)
        except StopIteration:
            raise BrokerUnavailable("clock: the replay has no session ahead") from None
        return Clock(now=now, is_open=is_open, next_open=next_open, next_close=next_close)

    def calendar(self, start: date, end: date) -> list[Session]:
        self._now()
        return self.market.calendar(start, end)

    def account(self) -> Account:
        now, paper = self._now(), self.paper
        figures = self.book.figures(paper, now)
        return Account(
            status="ACTIVE",
            cash=paper.cash,
            equity=figures.equity,
            buying_power=figures.buying_power,
            id=paper.id,
            non_marginable_buying_power=figures.cash_buying_power,
            trading_blocked=paper.trading_blocked,
            account_blocked=paper.account_blocked,
            trade_suspended_by_user=paper.configuration.suspend_trade,
        )

    def position(self, symbol: str) -> Position | None:
        self._now()
        if symbol not in self.paper.positions:
            return None
        qty, cost = self.paper.positions[symbol]
        return Position(symbol=symbol, qty=qty, avg_entry_price=cost / qty)

    def order_by_client_id(self, client_order_id: str) -> Order | None:
        self._now()
        found = self.paper.by_client_id(client_order_id)
        return as_order(found) if found is not None else None

    def orders_history(self, symbol: str, prefix: str) -> list[Order]:
        self._now()
        mine = [o for o in self.paper.orders if o.symbol == symbol and o.client_order_id.startswith(prefix)]
        return sorted((as_order(o) for o in mine), key=lambda o: o.submitted_at)

    def submit(self, request: OrderRequest) -> Order:
        now = self._now()
        existing = self.paper.by_client_id(request.client_order_id)
        if existing is not None:
            return as_order(existing)
        body: dict[str, Any] = {
            "symbol": request.symbol,
            "qty": str(request.qty),
            "side": request.side.value,
            "type": "market",
            "time_in_force": request.time_in_force.value,
            "client_order_id": request.client_order_id,
        }
        fate = self.faults.order_fate(request.time_in_force.value, request.side.value)
        self._advanced_to = None  # a new order may fill at once
        try:
            return as_order(self.book.submit(self.paper, body, now, fate))
        except ExchangeError as exc:
            raise OrderRejected(
                f"{request.client_order_id}: broker rejected the order (HTTP {exc.status}): {exc.message}",
                rejection_kind(exc.status, exc.message),
            ) from None

    def cancel(self, order_id: str) -> None:
        now = self._now()
        order = next((o for o in self.paper.orders if o.id == order_id), None)
        if order is not None and order.is_open:
            self.book.cancel(self.paper, order, now)
            self._advanced_to = None

    def forbid_shorting(self) -> bool:
        self._now()
        changed = not self.paper.configuration.no_shorting
        self.paper.configuration.no_shorting = True
        return changed

    # Market data, as the adapter asks for it on the free plan: SIP up to 16 minutes ago, IEX for anything later
    # (or SIP throughout, with ``real_time_sip``).

    def daily_bars(self, symbol: str, start: date, end: date) -> list[DailyBar]:
        now = self._now()
        horizon = now - venue.SIP_DELAY
        session = self.market.last_session_started(horizon)
        if session is None or horizon >= session.closes_at or not start <= session.day <= end:
            # No session's bar is partial on the delayed tape: the closed sessions' bars (what the next lines give).
            return self.market.closed_daily(symbol, start, min(end, now.astimezone(NEW_YORK).date()), horizon)
        first = datetime.combine(start, time(0), NEW_YORK)
        last = max(min(datetime.combine(end, time(23, 59), NEW_YORK), now - venue.DATA_SETTLED_AFTER_CLOSE), first)
        horizon = now - venue.SIP_DELAY
        bars = self.market.daily(symbol, horizon, first, min(last, horizon), Feed.SIP)
        upto = min(end, now.astimezone(NEW_YORK).date())
        return [bar for bar in bars if start <= bar.session <= upto]

    def minute_bars(self, symbol: str, start: datetime, end: datetime) -> list[MinuteBar]:
        now = self._now()
        if self.real_time_sip:
            return self.market.feed_minutes(symbol, now, start, min(end, now), Feed.SIP)
        if end > now - venue.DATA_SETTLED_AFTER_CLOSE:
            return self.market.feed_minutes(symbol, now, start, min(end, now), Feed.IEX)
        horizon = now - venue.SIP_DELAY
        return self.market.feed_minutes(symbol, horizon, start, min(end, horizon), Feed.SIP)

    def latest_price(self, symbol: str) -> Decimal:
        now = self._now()
        last = self.market.feed_price(symbol, now, Feed.SIP if self.real_time_sip else Feed.IEX)
        if last is None:
            raise BrokerUnavailable(f"no latest trade for {symbol}")
        return Decimal(str(last))

    def cash_dividends(self, symbols: Sequence[str], start: date, end: date) -> Dividends:
        self._now()
        return {
            symbol: tuple(d for d in self.market.dividends.get(symbol, ()) if start <= d.ex_date <= end)
            for symbol in symbols
        }
