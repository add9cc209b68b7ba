"""Decimal money from the floats that bar data and the SDK hand out."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
PRICE_QUANTUM = Decimal("0.0001")


def price(value: float | str | Decimal) -> Decimal:
    """A price to four decimals, the precision the exchange and the replay use."""
    exact = Decimal(str(value)).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_EVEN).normalize()
    # normalize() writes 480 as 4.8E+2; keep whole numbers whole.
    return exact.quantize(Decimal(1)) if exact.as_tuple().exponent > 0 else exact  # type: ignore[operator]


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def pct(value: Decimal) -> Decimal:
    """A ratio (0.015) as a percentage with four decimals (1.5)."""
    return (value * 100).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_EVEN)
