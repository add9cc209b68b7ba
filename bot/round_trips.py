"""What the ledger's fills add up to: the open position, closed round trips, and holdings at a moment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from weakref import WeakKeyDictionary

from bot.engine.policy import FINAL
from bot.ledger import FillRecord, Ledger, OrderRecord
from bot.money import price
from bot.orders import Intent
from bot.scoring import RoundTrip
from strategies.breakout import exit_session
from strategies.params import BreakoutParams


@dataclass(frozen=True, slots=True)
class OpenTrade:
    season: int
    qty: Decimal
    entry_session: date
    entry_price: Decimal
    benchmark_entry_price: Decimal
    planned_exit: date


def _quantity(fills: Sequence[FillRecord]) -> Decimal:
    return sum((f.qty for f in fills), Decimal(0))


def average_price(fills: Sequence[FillRecord]) -> Decimal:
    return price(sum((f.qty * f.price for f in fills), Decimal(0)) / _quantity(fills))


def average_benchmark_price(fills: Sequence[FillRecord]) -> Decimal:
    return price(sum((f.qty * f.benchmark_price for f in fills), Decimal(0)) / _quantity(fills))


Seasons = dict[int, tuple[tuple[FillRecord, ...], tuple[FillRecord, ...]]]
_FOLDS: WeakKeyDictionary[Ledger, tuple[int, str, Seasons, dict[int, Decimal]]] = WeakKeyDictionary()


def _fold(ledger: Ledger, symbol: str) -> tuple[Seasons, dict[int, Decimal]]:
    """Entry and exit fills of each season in the order they happened, and the shares adopted from outside
    changes (negative: sold outside the bot); folded again only after the ledger has changed."""
    known = _FOLDS.get(ledger)
    if known is not None and known[:2] == (ledger.version, symbol):
        return known[2], known[3]
    seasons: dict[int, tuple[list[FillRecord], list[FillRecord]]] = {}
    for fill in ledger.fills():
        if fill.symbol == symbol:
            entries, exits = seasons.setdefault(fill.season, ([], []))
            (entries if fill.intent == Intent.ENTRY.value else exits).append(fill)
    folded = {season: (tuple(entries), tuple(exits)) for season, (entries, exits) in sorted(seasons.items())}
    adopted: dict[int, Decimal] = {}
    for change in ledger.outside_changes():
        if change.symbol == symbol:
            adopted[change.season] = adopted.get(change.season, Decimal(0)) + change.adopted_qty
    _FOLDS[ledger] = (ledger.version, symbol, folded, adopted)
    return folded, adopted


def _by_season(ledger: Ledger, symbol: str) -> Seasons:
    return _fold(ledger, symbol)[0]


def adopted_outside(ledger: Ledger, symbol: str) -> dict[int, Decimal]:
    """Per season, the shares sold outside the bot that the bot adopted (negative)."""
    return dict(_fold(ledger, symbol)[1])


def open_trade(ledger: Ledger, params: BreakoutParams, sessions: Sequence[date]) -> OpenTrade | None:
    adopted = adopted_outside(ledger, params.symbol)
    for season, (entries, exits) in _by_season(ledger, params.symbol).items():
        remaining = _quantity(entries) - _quantity(exits) + adopted.get(season, Decimal(0))
        if remaining > 0:
            first = entries[0].session
            return OpenTrade(
                season=season,
                qty=remaining,
                entry_session=first,
                entry_price=average_price(entries),
                benchmark_entry_price=average_benchmark_price(entries),
                planned_exit=exit_session(first, sessions, params),
            )
    return None


def season_traded(ledger: Ledger, params: BreakoutParams, season: int) -> bool:
    return bool(_by_season(ledger, params.symbol).get(season, ((), ()))[0])


def closed_round_trips(ledger: Ledger, params: BreakoutParams) -> list[tuple[int, RoundTrip]]:
    """Round trips whose exit has fills, per season."""
    trips = []
    for season, (entries, exits) in _by_season(ledger, params.symbol).items():
        if entries and exits:
            trip = RoundTrip(
                symbol=params.symbol,
                qty=int(_quantity(exits)),
                entry_session=entries[0].session,
                entry_price=average_price(entries),
                exit_session=exits[-1].session,
                exit_price=average_price(exits),
                benchmark_entry_price=average_benchmark_price(entries),
                benchmark_exit_price=average_benchmark_price(exits),
                season=season,
            )
            trips.append((season, trip))
    return trips


def holdings_at(ledger: Ledger, symbol: str, moment: datetime) -> tuple[Decimal, Decimal]:
    """Shares held and net cash spent (negative) or received by ``moment``, from the fills."""
    held = Decimal(0)
    cash_flow = Decimal(0)
    for fill in ledger.fills():
        if fill.symbol != symbol or fill.filled_at > moment:
            continue
        sign = 1 if fill.side == "buy" else -1
        held += sign * fill.qty
        cash_flow -= sign * fill.qty * fill.price
    return held, cash_flow


def bot_held(ledger: Ledger, symbol: str) -> Decimal:
    """Shares the bot's own orders hold, from the order records (ahead of the priced fill records)."""
    held = sum((o.filled_qty if o.side == "buy" else -o.filled_qty for o in ledger.orders() if o.symbol == symbol),
               Decimal(0))  # fmt: skip
    return held + sum((c.adopted_qty for c in ledger.outside_changes() if c.symbol == symbol), Decimal(0))


def live_orders(ledger: Ledger) -> list[OrderRecord]:
    """The bot's orders still working at the broker."""
    return [o for o in ledger.orders() if o.status not in FINAL]
