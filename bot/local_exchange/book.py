"""Paper accounts as Alpaca paper runs them, advanced along the replayed clock.

Fill rules (the conventions the bot and the backtest share):
- ``opg``: at the open of the next session; ``cls``: at the close of the session it is for (cut-offs in
  bot/market/venue.py, refused with 403 as Alpaca does);
- market ``day``: at the path price when sent during a session, else at the next session's open;
- limit: when marketable along the daily bars (at the open if it gaps through, else at the limit);
- ``day`` orders still open at their session's close expire; ``gtc`` orders roll.
An order's fate (auction orders that expire or fill partly, paper's random partial fills, rejection after
acceptance) is drawn when it is submitted (faults.py). Nothing fills before it was submitted.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.domain import NEW_YORK, Session
from bot.local_exchange.accounts import (
    Account,
    AccountModel,
    ExchangeError,
    OrderFate,
    PaperOrder,
    load_accounts,
    save_accounts,
)
from bot.local_exchange.execution import advance_order, fill, mark_price
from bot.local_exchange.market import ReplayMarket
from bot.local_exchange.orders import validated_order
from bot.local_exchange.wire import AccountFigures
from bot.market import venue

MARKET_BUY_COLLAR = Decimal("1.03")
SHORTING_MIN_EQUITY = Decimal(2000)


def _qty_refused(requested: Decimal, available: Decimal, symbol: str) -> ExchangeError:
    return ExchangeError(
        403,
        40310000,
        f"insufficient qty available for order (requested: {requested.normalize():f}, "
        f"available: {max(available, Decimal(0)).normalize():f})",
        symbol=symbol,
        available=f"{max(available, Decimal(0)).normalize():f}",
        held_for_orders="0",
    )


class Book:
    def __init__(self, market: ReplayMarket, cash: Decimal, *, model: AccountModel = AccountModel.MARGIN) -> None:
        self.market = market
        self.start_cash = cash
        self.model = model
        self.accounts: dict[str, Account] = {}
        self.lock = threading.RLock()

    # Persistence: an exchange restarted with the same state file keeps every account, order and fill.

    def save(self, path: Path) -> None:
        with self.lock:
            save_accounts(self.accounts, path)

    def load(self, path: Path) -> None:
        with self.lock:
            self.accounts = load_accounts(path)

    # Accounts

    def account_for(self, key_id: str, secret: str) -> Account | None:
        with self.lock:
            account = self.accounts.get(key_id)
            if account is None:
                account = self.accounts[key_id] = Account(key_id, secret, self.start_cash, self.model)
            return account if account.secret == secret else None

    def reset(self, account: Account) -> Account:
        """A paper account reset: a new account (new id and number) with the starting cash."""
        with self.lock:
            fresh = Account(account.key_id, account.secret, self.start_cash, account.model)
            self.accounts[account.key_id] = fresh
            return fresh

    def mark(self, symbol: str, now: datetime) -> Decimal:
        return mark_price(self.market, symbol, now)

    def exposure(self, account: Account, now: datetime) -> tuple[Decimal, Decimal]:
        """Long and short market value (the short one negative)."""
        long_value = short_value = Decimal(0)
        for symbol, (qty, _) in account.positions.items():
            value = qty * self.mark(symbol, now)
            if value > 0:
                long_value += value
            else:
                short_value += value
        return long_value, short_value

    def buying_power(self, account: Account, now: datetime) -> Decimal:
        return self.figures(account, now).buying_power

    def figures(self, account: Account, now: datetime) -> AccountFigures:
        """Every balance of the account at ``now``, each worked out once (what GET /v2/account answers)."""
        long_value, short_value = self.exposure(account, now)
        equity = account.cash + long_value + short_value
        reserved = self._reserved_by_buys(account, now)
        margin = account.model is AccountModel.MARGIN and equity >= SHORTING_MIN_EQUITY
        multiplier = 2 if margin else 1
        power = multiplier * equity - long_value + short_value if account.model is AccountModel.MARGIN else account.cash
        return AccountFigures(
            equity=equity,
            buying_power=max(power - reserved, Decimal(0)),
            cash_buying_power=max(account.cash - reserved, Decimal(0)),
            long_value=long_value,
            short_value=short_value,
            multiplier=multiplier,
            shorting_enabled=margin and not account.configuration.no_shorting,
        )

    def _reserved_by_buys(self, account: Account, now: datetime) -> Decimal:
        reserved = Decimal(0)
        for order in account.orders:
            if order.side == "buy" and order.is_open:
                reserved += self._reserved(order, now)
        return reserved

    def _reserved(self, order: PaperOrder, now: datetime) -> Decimal:
        if order.notional is not None:
            return order.notional
        unit = order.limit_price or self.mark(order.symbol, now) * MARKET_BUY_COLLAR
        return order.leaves_qty * unit

    # Orders

    def submit(
        self, account: Account, request: dict[str, Any], now: datetime, fate: OrderFate | None = None
    ) -> PaperOrder:
        with self.lock:
            self.advance(account, now)
            order = validated_order(request, now, self.market.knows, account.by_client_id)
            self._check_tradable(account)
            self._check_cutoffs(order, now)
            self._check_funds(account, order, now)
            order.fate = fate or OrderFate()
            target = self._target_session(order, now)
            order.target_day = target.day.isoformat() if target else None
            if target is not None and target.opens_at <= now < target.closes_at:
                order.status = "new"
            account.orders.append(order)
            return order

    @staticmethod
    def _check_tradable(account: Account) -> None:
        if account.account_blocked:
            raise ExchangeError(403, 40310000, "account is blocked")
        if account.trading_blocked:
            raise ExchangeError(403, 40310000, "trading is blocked for this account")
        if account.configuration.suspend_trade:
            raise ExchangeError(403, 40310000, "trading is suspended by the account owner (suspend_trade)")

    def _check_cutoffs(self, order: PaperOrder, now: datetime) -> None:
        today = self.market.session(now.astimezone(NEW_YORK).date())
        if order.time_in_force == "opg" and venue.opg_refused(now, today):
            raise ExchangeError(403, 40310000, venue.OPG_REJECTED)
        if order.time_in_force == "cls" and today is not None and venue.cls_refused(now, today):
            raise ExchangeError(403, 40310000, venue.cls_refused_text(today))

    def _check_funds(self, account: Account, order: PaperOrder, now: datetime) -> None:
        if order.side == "buy":
            held = account.held(order.symbol)
            order.position_intent = "buy_to_close" if held < 0 else "buy_to_open"
            cost = self._reserved(order, now)
            available = self.buying_power(account, now)
            if cost > available:
                raise ExchangeError(
                    403, 40310000, "insufficient buying power", buying_power=str(available), cost_basis=str(cost)
                )
            return
        unit = self.mark(order.symbol, now) or Decimal(1)
        requested = order.qty if order.qty is not None else (order.notional or Decimal(0)) / unit
        held = account.held(order.symbol)
        pending = sum(
            (o.leaves_qty for o in account.orders if o.is_open and o.side == "sell" and o.symbol == order.symbol),
            Decimal(0),
        )
        available = held - pending
        if held > 0:
            if requested > available:
                raise _qty_refused(requested, available, order.symbol)  # one order may not flip long to short
            order.position_intent = "sell_to_close"
            return
        if not self.figures(account, now).shorting_enabled or order.notional is not None:
            raise _qty_refused(requested, Decimal(0), order.symbol)
        cost = requested * self.mark(order.symbol, now)
        if cost > self.buying_power(account, now):
            raise ExchangeError(
                403, 40310000, "insufficient buying power", buying_power=str(self.buying_power(account, now))
            )
        order.position_intent = "sell_to_open"

    def _target_session(self, order: PaperOrder, now: datetime) -> Session | None:
        today = self.market.session(now.astimezone(NEW_YORK).date())
        in_session = today is not None and today.opens_at <= now < today.closes_at
        if order.time_in_force == "cls":
            if today is not None and now < venue.cls_cutoff(today):
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

    def set_position(self, account: Account, symbol: str, qty: Decimal, now: datetime) -> None:
        """Alpaca itself (or a person in the dashboard) moves the position to ``qty`` at the mark, now."""
        with self.lock:
            self.advance(account, now)
            change = qty - account.held(symbol)
            if not change:
                return
            order = PaperOrder(
                id=str(uuid.uuid4()),
                client_order_id=f"dashboard-{uuid.uuid4().hex[:12]}",
                symbol=symbol,
                side="buy" if change > 0 else "sell",
                type="market",
                time_in_force="day",
                qty=abs(change),
                notional=None,
                limit_price=None,
                submitted_at=now,
                updated_at=now,
                status="new",
            )
            account.orders.append(order)
            fill(account, order, None, self.mark(symbol, now), now)

    # The replay

    def advance_all(self, now: datetime) -> None:
        with self.lock:
            for account in self.accounts.values():
                self.advance(account, now)

    def advance(self, account: Account, now: datetime) -> None:
        """Apply every fill, expiry and rejection that has happened by ``now``."""
        with self.lock:
            for order in account.orders:
                if order.is_open:
                    advance_order(self.market, account, order, now)
