"""Deterministic client order ids: one per intended order, stable across restarts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

STRATEGY_TAG = "brk"


class Intent(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


@dataclass(frozen=True, slots=True)
class OrderKey:
    """What a client order id says: the season, the round trip within it (a re-entry is trip 2), the intent
    and the attempt."""

    season: int
    trip: int
    intent: Intent
    attempt: int


def client_order_id(symbol: str, season: int, intent: Intent, attempt: int, trip: int = 1) -> str:
    """``brk-IWM-2024-entry-1``: strategy, symbol, season, action and attempt (a replacement is attempt 2); a later
    round trip in the same season (re-entry) carries its number: ``brk-IWM-2024.2-entry-1``."""
    season_key = str(season) if trip == 1 else f"{season}.{trip}"
    return f"{STRATEGY_TAG}-{symbol}-{season_key}-{intent.value}-{attempt}"


def order_key(client_order_id: str) -> OrderKey | None:
    """The parts of one of the bot's client order ids, or None for any other id."""
    parts = client_order_id.rsplit("-", 3)
    if len(parts) != 4 or not parts[0].startswith(f"{STRATEGY_TAG}-"):
        return None
    _, season_key, intent, attempt = parts
    season, _, trip = season_key.partition(".")
    try:
        return OrderKey(int(season), int(trip or 1), Intent(intent), int(attempt))
    except ValueError:
        return None
