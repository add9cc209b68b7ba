"""Deterministic client order ids: one per intended order, stable across restarts."""

from __future__ import annotations

from enum import StrEnum

STRATEGY_TAG = "brk"


class Intent(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


def client_order_id(symbol: str, season: int, intent: Intent, attempt: int) -> str:
    """``brk-IWM-2024-entry-1``: strategy, symbol, season, action and attempt (a replacement is attempt 2)."""
    return f"{STRATEGY_TAG}-{symbol}-{season}-{intent.value}-{attempt}"
