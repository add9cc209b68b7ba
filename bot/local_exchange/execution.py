"""How an open order executes along the replay: fills, partial fills, expiries, rejection after acceptance."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from bot.domain import Session
from bot.local_exchange.accounts import Account, Fill, PaperOrder
from bot.local_exchange.market import ReplayMarket
from bot.money import price as to_price

FRACTION = Decimal("0.000000001")
PAPER_REMAINDER_DELAY = timedelta(minutes=30)  # the rest of a paper partial fill executes this much later
REJECTION_DELAY = timedelta(seconds=1)
AUCTIONS = frozenset({"opg", "cls"})


def mark_price(market: ReplayMarket, symbol: str, at: datetime) -> Decimal:
    """The last price at ``at`` in cents (0 before the symbol's first session)."""
    last = market.price(symbol, at)
    return to_price(last) if last is not None else Decimal(0)


def advance_order(market: ReplayMarket, account: Account, order: PaperOrder, now: datetime) -> None:
    """Apply the fill, expiry or rejection of one open order that has happened by ``now``."""
    session = order.target
    if order.fate.reject_after_accept:
        if now >= order.submitted_at + REJECTION_DELAY:
            at = order.submitted_at + REJECTION_DELAY
            order.status, order.failed_at, order.updated_at = "rejected", at, at
        return
    if session is None:
        return
    if order.status == "accepted" and now >= session.opens_at:
        order.status, order.updated_at = "new", session.opens_at
    if order.remainder_at is not None:
        if now >= order.remainder_at:
            _fill_rest(market, account, order, order.remainder_at)
        return
    execution = _execution(market, order, session)
    if execution is not None and now >= execution[0]:
        _execute(market, account, order, session, *execution)
        if order.remainder_at is not None and now >= order.remainder_at:
            _fill_rest(market, account, order, order.remainder_at)
        return
    if execution is None and now >= session.closes_at:
        if order.time_in_force == "gtc":
            following = market.next_open_after(session.closes_at)
            order.target_day = following.day.isoformat() if following else None
            if following is not None:
                advance_order(market, account, order, now)
            return
        _expire(order, session.closes_at)


def _execute(
    market: ReplayMarket, account: Account, order: PaperOrder, session: Session, at: datetime, price: Decimal
) -> None:
    fate, whole = order.fate, order.qty
    if order.time_in_force in AUCTIONS and fate.auction_unfilled:
        _expire(order, at)
    elif order.time_in_force in AUCTIONS and fate.auction_fraction is not None and whole is not None:
        part = (whole * fate.auction_fraction).to_integral_value(rounding=ROUND_DOWN)
        if 0 < part < whole:
            fill(account, order, part, price, at)
        _expire(order, at)  # paper never fills an auction remainder later
    elif fate.paper_fraction is not None and whole is not None and whole > 1:
        part = max((whole * fate.paper_fraction).to_integral_value(rounding=ROUND_DOWN), Decimal(1))
        fill(account, order, min(part, whole - 1), price, at)
        order.remainder_at = min(at + PAPER_REMAINDER_DELAY, session.closes_at)
    else:
        fill(account, order, None, price, at)


def _expire(order: PaperOrder, at: datetime) -> None:
    order.status, order.expired_at, order.updated_at = "expired", at, at


def _execution(market: ReplayMarket, order: PaperOrder, session: Session) -> tuple[datetime, Decimal] | None:
    bar = market.bar(order.symbol, session.day)
    if bar is None:
        return None
    if order.time_in_force == "cls":
        at, reference = session.closes_at, bar.close
    elif order.submitted_at > session.opens_at:
        at = order.submitted_at
        reference = market.price(order.symbol, at) or bar.open
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


def _fill_rest(market: ReplayMarket, account: Account, order: PaperOrder, at: datetime) -> None:
    order.remainder_at = None
    fill(account, order, None, mark_price(market, order.symbol, at), at)


def fill(account: Account, order: PaperOrder, qty: Decimal | None, fill_price: Decimal, at: datetime) -> None:
    if qty is None:
        total = order.qty if order.qty is not None else (order.notional or Decimal(0)) / fill_price
        qty = (total - order.filled_qty).quantize(FRACTION, rounding=ROUND_DOWN).normalize()
    held, cost = account.positions.get(order.symbol, (Decimal(0), Decimal(0)))
    signed = qty if order.side == "buy" else -qty
    account.cash -= signed * fill_price
    after = held + signed
    if held == 0 or (held > 0) == (signed > 0):
        cost += signed * fill_price
    elif abs(signed) <= abs(held):
        cost = cost * after / held
    else:
        cost = after * fill_price
    if after:
        account.positions[order.symbol] = (after, cost)
    else:
        account.positions.pop(order.symbol, None)
    order.filled_qty += qty
    order.filled_cost += qty * fill_price
    complete = order.qty is None or order.filled_qty >= order.qty
    order.status = "filled" if complete else "partially_filled"
    order.updated_at = at
    if complete:
        order.filled_at = at
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
            Decimal(0) if complete else order.leaves_qty,
            order.status,
        )
    )
