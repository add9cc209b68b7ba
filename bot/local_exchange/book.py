"""Paper accounts: cash, positions, orders and fills, advanced along the replayed clock.

Fill rules (the conventions the bot and the backtest share):
- ``opg``: at the open of the next session (sent 09:28-19:00 ET on a session day: rejected);
- ``cls``: at the close of the session it is sent for (sent 15:50-19:00 ET on a session day: rejected;
  after 19:00 it is for the next session);
- market ``day``: at the path price when sent during a session, else at the next session's open;
- limit: when marketable along the daily bars (at the open if it gaps through, else at the limit);
- ``day`` orders still open at their session's close expire.
"""

from __future__ import annotations

import pickle
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from bot.local_exchange.market import ReplayMarket
from bot.market.calendar import NEW_YORK, Session
from bot.money import price as to_price

OPG_CUTOFF = time(9, 28)
CLS_CUTOFF = time(15, 50)
AUCTIONS_REOPEN = time(19, 0)
MARKET_BUY_COLLAR = Decimal("1.03")
MAX_CLIENT_ORDER_ID = 48
FRACTION = Decimal("0.000000001")
PARTIAL_REMAINDER_DELAY = timedelta(minutes=30)  # the rest of a partially filled order fills this much later


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
    filled_qty: Decimal = Decimal(0)
    filled_cost: Decimal = Decimal(0)
    target: Session | None = None  # the session the order executes in
    remainder_at: datetime | None = None  # second half of a partial fill

    @property
    def filled_avg_price(self) -> Decimal | None:
        return to_price(self.filled_cost / self.filled_qty) if self.filled_qty else None

    @property
    def is_open(self) -> bool:
        return self.status in {"new", "accepted", "partially_filled", "pending_new"}


@dataclass
class Account:
    key_id: str
    secret: str
    cash: Decimal
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    number: str = field(default_factory=lambda: "PA" + uuid.uuid4().hex[:10].upper())
    positions: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # symbol -> (qty, cost)
    orders: list[PaperOrder] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)


class Book:
    def __init__(self, market: ReplayMarket, cash: Decimal, *, partial_fills: bool = False) -> None:
        self.market = market
        self.start_cash = cash
        self.partial_fills = partial_fills
        self.accounts: dict[str, Account] = {}
        self.lock = threading.RLock()

    # Persistence: an exchange restarted with the same state file keeps every account, order and fill.

    def save(self, path: Path) -> None:
        with self.lock:
            payload = pickle.dumps(self.accounts)
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_bytes(payload)
        temporary.replace(path)

    def load(self, path: Path) -> None:
        # The state file is this exchange's own, written by save(); it is not an input from elsewhere.
        with self.lock:
            self.accounts = pickle.loads(path.read_bytes())

    # Accounts

    def account_for(self, key_id: str, secret: str) -> Account | None:
        with self.lock:
            account = self.accounts.get(key_id)
            if account is None:
                account = self.accounts[key_id] = Account(key_id, secret, self.start_cash)
            return account if account.secret == secret else None

    def equity(self, account: Account, now: datetime) -> Decimal:
        return account.cash + sum(
            (qty * self.mark(symbol, now) for symbol, (qty, _) in account.positions.items()), Decimal(0)
        )

    def mark(self, symbol: str, now: datetime) -> Decimal:
        last = self.market.price(symbol, now)
        return to_price(last) if last is not None else Decimal(0)

    def buying_power(self, account: Account, now: datetime) -> Decimal:
        reserved = sum(
            (self._reserved(order, now) for order in account.orders if order.is_open and order.side == "buy"),
            Decimal(0),
        )
        return max(account.cash - reserved, Decimal(0))

    def _reserved(self, order: PaperOrder, now: datetime) -> Decimal:
        if order.notional is not None:
            return order.notional
        remaining = (order.qty or Decimal(0)) - order.filled_qty
        unit = order.limit_price or self.mark(order.symbol, now) * MARKET_BUY_COLLAR
        return remaining * unit

    # Orders

    def submit(self, account: Account, request: dict[str, Any], now: datetime) -> PaperOrder:
        with self.lock:
            self.advance(account, now)
            order = self._validated(account, request, now)
            self._check_cutoffs(order, now)
            self._check_funds(account, order, now)
            order.target = self._target_session(order, now)
            account.orders.append(order)
            self.advance(account, now)
            return order

    def _validated(self, account: Account, request: dict[str, Any], now: datetime) -> PaperOrder:
        symbol = str(request.get("symbol") or "").upper()
        if not self.market.knows(symbol):
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
        if notional is not None and (kind != "market" or tif != "day"):
            raise ExchangeError(422, 40010001, "notional orders must be market orders with time_in_force day")
        limit = _decimal_or_none(request.get("limit_price"))
        if kind == "limit" and (limit is None or limit <= 0):
            raise ExchangeError(422, 40010001, "limit orders need a positive limit_price")
        client_order_id = str(request.get("client_order_id") or uuid.uuid4())
        if len(client_order_id) > MAX_CLIENT_ORDER_ID:
            raise ExchangeError(422, 40010001, "client_order_id must be no more than 48 characters")
        if any(o.client_order_id == client_order_id for o in account.orders):
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

    def _check_cutoffs(self, order: PaperOrder, now: datetime) -> None:
        local = now.astimezone(NEW_YORK)
        if self.market.session(local.date()) is None:
            return
        clock = local.time()
        if order.time_in_force == "opg" and OPG_CUTOFF <= clock < AUCTIONS_REOPEN:
            raise ExchangeError(422, 42210000, "opg orders are accepted before 09:28 or after 19:00 ET")
        if order.time_in_force == "cls" and CLS_CUTOFF <= clock < AUCTIONS_REOPEN:
            raise ExchangeError(422, 42210000, "cls orders are accepted before 15:50 or after 19:00 ET")

    def _check_funds(self, account: Account, order: PaperOrder, now: datetime) -> None:
        if order.side == "buy":
            cost = self._reserved(order, now)
            available = self.buying_power(account, now)
            if cost > available:
                raise ExchangeError(
                    403, 40310000, "insufficient buying power", buying_power=str(available), cost_basis=str(cost)
                )
            return
        held = account.positions.get(order.symbol, (Decimal(0), Decimal(0)))[0]
        pending = sum(
            (
                (o.qty or Decimal(0)) - o.filled_qty
                for o in account.orders
                if o.is_open and o.side == "sell" and o.symbol == order.symbol
            ),
            Decimal(0),
        )
        if (order.qty or Decimal(0)) > held - pending:
            raise ExchangeError(
                403,
                40310000,
                "insufficient qty available for order",
                available=str(held - pending),
                symbol=order.symbol,
            )

    def _target_session(self, order: PaperOrder, now: datetime) -> Session | None:
        local = now.astimezone(NEW_YORK)
        today = self.market.session(local.date())
        in_session = today is not None and today.opens_at <= now < today.closes_at
        if order.time_in_force == "cls":
            if today is not None and local.time() < CLS_CUTOFF:
                return today
            return self.market.next_open_after(now)
        if order.time_in_force in ("day", "gtc") and in_session:
            return today
        return self.market.next_open_after(now)

    def cancel(self, account: Account, order: PaperOrder, now: datetime) -> None:
        with self.lock:
            self.advance(account, now)
            if not order.is_open:
                raise ExchangeError(422, 42210000, f"order is already {order.status}")
            order.status, order.canceled_at, order.updated_at = "canceled", now, now

    # The replay

    def advance_all(self, now: datetime) -> None:
        with self.lock:
            for account in self.accounts.values():
                self.advance(account, now)

    def advance(self, account: Account, now: datetime) -> None:
        """Apply every fill and expiry that has happened by ``now``, in time order."""
        with self.lock:
            for order in account.orders:
                if order.is_open:
                    self._advance_order(account, order, now)

    def _advance_order(self, account: Account, order: PaperOrder, now: datetime) -> None:
        session = order.target
        if session is None:
            return
        if order.remainder_at is not None:
            if now >= order.remainder_at:
                self._fill_rest(account, order, order.remainder_at)
            return
        execution = self._execution(order, session)
        if execution is not None and now >= execution[0]:
            at, fill_price = execution
            if self.partial_fills and order.qty is not None and order.qty > 1:
                first = (order.qty / 2).to_integral_value(rounding=ROUND_DOWN)
                self._fill(account, order, first, fill_price, at)
                order.remainder_at = at if order.time_in_force == "cls" else at + PARTIAL_REMAINDER_DELAY
                if now >= order.remainder_at:
                    self._fill_rest(account, order, order.remainder_at)
            else:
                self._fill(account, order, None, fill_price, at)
            return
        if execution is None and now >= session.closes_at:
            if order.time_in_force == "gtc":
                following = self.market.next_open_after(session.closes_at)
                order.target = following
                if following is not None:
                    self._advance_order(account, order, now)
                return
            order.status, order.expired_at, order.updated_at = "expired", session.closes_at, session.closes_at

    def _execution(self, order: PaperOrder, session: Session) -> tuple[datetime, Decimal] | None:
        bar = self.market.bar(order.symbol, session.day)
        if bar is None:
            return None
        if order.time_in_force == "cls":
            at, reference = session.closes_at, bar.close
        elif order.submitted_at > session.opens_at:
            at = order.submitted_at
            reference = self.market.price(order.symbol, at) or bar.open
        else:
            at, reference = session.opens_at, bar.open
        if order.type == "market":
            return at, to_price(reference)
        limit = order.limit_price or Decimal(0)
        marketable = to_price(reference) <= limit if order.side == "buy" else to_price(reference) >= limit
        if marketable:
            return at, to_price(reference)
        touched = to_price(bar.low) <= limit if order.side == "buy" else to_price(bar.high) >= limit
        return (session.closes_at, limit) if touched and order.time_in_force != "opg" else None

    def _fill_rest(self, account: Account, order: PaperOrder, at: datetime) -> None:
        order.remainder_at = None
        self._fill(account, order, None, self.mark(order.symbol, at), at)

    def _fill(
        self, account: Account, order: PaperOrder, qty: Decimal | None, fill_price: Decimal, at: datetime
    ) -> None:
        if qty is None:
            total = order.qty if order.qty is not None else (order.notional or Decimal(0)) / fill_price
            qty = (total - order.filled_qty).quantize(FRACTION, rounding=ROUND_DOWN).normalize()
        held, cost = account.positions.get(order.symbol, (Decimal(0), Decimal(0)))
        if order.side == "buy":
            account.cash -= qty * fill_price
            held, cost = held + qty, cost + qty * fill_price
        else:
            account.cash += qty * fill_price
            cost = cost * (held - qty) / held if held else Decimal(0)
            held -= qty
        if held:
            account.positions[order.symbol] = (held, cost)
        else:
            account.positions.pop(order.symbol, None)
        order.filled_qty += qty
        order.filled_cost += qty * fill_price
        complete = order.qty is None or order.filled_qty >= order.qty
        order.status = "filled" if complete else "partially_filled"
        order.updated_at = at
        if complete:
            order.filled_at = at
        leaves = Decimal(0) if complete else (order.qty or Decimal(0)) - order.filled_qty
        account.fills.append(
            Fill(
                f"{at.strftime('%Y%m%d%H%M%S%f')[:17]}::{uuid.uuid4()}",
                order.id,
                order.symbol,
                order.side,
                qty,
                fill_price,
                at,
                order.filled_qty,
                leaves,
                order.status,
            )
        )


def _decimal_or_none(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise ExchangeError(422, 40010001, f"{value!r} is not a number") from None
