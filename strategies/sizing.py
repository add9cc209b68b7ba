"""How many whole shares an entry buys."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from strategies.params import Allocation, FixedNotional, FixedQuantity, Sizing


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
    return max(int((dollars / price).to_integral_value(rounding=ROUND_FLOOR)), 0)
