"""How many whole shares an entry buys, and how many the account can pay for."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from strategies.params import Allocation, FixedNotional, FixedQuantity, Sizing

# Alpaca values a market buy 2.5-4 % above the last price when it checks buying power: size against the top.
MARKET_BUY_COLLAR = Decimal("1.04")


def _whole(value: Decimal) -> int:
    return max(int(value.to_integral_value(rounding=ROUND_FLOOR)), 0)


def order_quantity(sizing: Sizing, *, equity: Decimal, price: Decimal) -> int:
    if price <= 0:
        raise ValueError(f"price must be positive, got {price}")
    match sizing:
        case Allocation(fraction=fraction):
            dollars = equity * fraction
        case FixedNotional(amount=amount):
            dollars = amount
        case FixedQuantity(shares=shares):
            return shares
    return _whole(dollars / price)


def affordable_quantity(spendable: Decimal, price: Decimal) -> int:
    """The most whole shares a market buy may be for without borrowing (the collar included)."""
    if price <= 0:
        raise ValueError(f"price must be positive, got {price}")
    return _whole(spendable / (price * MARKET_BUY_COLLAR))


def entry_quantity(sizing: Sizing, *, equity: Decimal, spendable: Decimal, price: Decimal) -> int:
    """What the rule wants, capped at what the account can pay for: the live bot and the backtest both."""
    return min(order_quantity(sizing, equity=equity, price=price), affordable_quantity(spendable, price))
