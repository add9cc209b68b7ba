"""What the ledger's orders, fills and outside changes add up to for the bot's symbol: folded once from the
ledger and, once subscribed to it (the trader's is), updated as each record is committed, so a pass asks
questions of a few sums instead of rescanning every row.

- ``held``: the shares the bot's own orders hold (from the order records, ahead of the priced fills) plus what
  it adopted from changes made outside it;
- ``open_trade``: the season whose priced entries are not yet sold, with its average prices and planned exit;
- ``season_entered``, ``attempts``, ``live_orders``, ``fills_pending``: what the planner needs to decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from bot.engine.policy import FINAL
from bot.ledger import FillRecord, Ledger, OrderRecord, OutsideChange
from bot.money import price
from bot.orders import Intent, order_key
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
    trip: int = 1  # the round trip within the season (re-entry opens trip 2, 3, ...)


Trip = tuple[int, int]  # (season, trip within it)
ENTRY = Intent.ENTRY.value  # an enum member's value is a property lookup: the fold asks on every pass


@dataclass(slots=True)
class Leg:
    """The priced fills of one side of a season's trade, summed."""

    fills: list[FillRecord] = field(default_factory=list)
    qty: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    benchmark_cost: Decimal = Decimal(0)

    def add(self, fill: FillRecord) -> None:
        self.fills.append(fill)
        self.qty += fill.qty
        self.cost += fill.qty * fill.price
        self.benchmark_cost += fill.qty * fill.benchmark_price

    @property
    def average_price(self) -> Decimal:
        return price(self.cost / self.qty)

    @property
    def average_benchmark_price(self) -> Decimal:
        return price(self.benchmark_cost / self.qty)


def attempt_number(record: OrderRecord) -> int:
    return int(record.client_order_id.rsplit("-", 1)[-1])


def trip_of(client_order_id: str, season: int) -> Trip:
    key = order_key(client_order_id)
    return (season, key.trip if key is not None else 1)


class Portfolio:
    def __init__(self, ledger: Ledger, params: BreakoutParams) -> None:
        self.symbol, self.params = params.symbol, params
        self._orders: dict[str, OrderRecord] = {}
        self._by_intent: dict[tuple[int, int, str], dict[str, OrderRecord]] = {}
        self._entry_trips: dict[int, int] = {}  # the latest trip an entry was sent for, per season
        self._live: dict[str, OrderRecord] = {}
        self._order_held = Decimal(0)
        self._recorded: dict[str, Decimal] = {}  # priced fill quantity per order
        self._unpriced: set[str] = set()  # orders that filled more than their priced fills say
        self.entries: dict[Trip, Leg] = {}
        self.exits: dict[Trip, Leg] = {}
        self.exit_sessions: set[date] = set()  # the sessions an exit filled in
        self.adopted: dict[Trip, Decimal] = {}  # per trip, shares sold outside the bot that it adopted (negative)
        self._adopted_total = Decimal(0)
        self._open: tuple[Sequence[date], OpenTrade | None] | None = None
        self._held_by_fills, self._cash_flow = Decimal(0), Decimal(0)  # from every priced fill so far
        self._last_fill_at: datetime | None = None
        for order in ledger.orders():
            self.order_recorded(order)
        for fill in ledger.fills():
            self.fill_recorded(fill)
        for change in ledger.outside_changes():
            self.outside_change_recorded(change)

    # Folding

    def order_recorded(self, order: OrderRecord) -> None:
        # Every order is followed, whatever its symbol; only the bot's symbol counts toward what it holds.
        known = self._orders.get(order.client_order_id)
        self._orders[order.client_order_id] = order
        if order.status in FINAL:
            self._live.pop(order.client_order_id, None)
        else:
            self._live[order.client_order_id] = order
        self._priced(order.client_order_id)
        if order.symbol != self.symbol:
            return
        if known is not None:
            self._order_held -= _signed(known.side, known.filled_qty)
        self._order_held += _signed(order.side, order.filled_qty)
        season, trip = trip_of(order.client_order_id, order.season)
        self._by_intent.setdefault((season, trip, order.intent), {})[order.client_order_id] = order
        if order.intent == ENTRY:
            self._entry_trips[season] = max(self._entry_trips.get(season, 1), trip)

    def fill_recorded(self, fill: FillRecord) -> None:
        self._recorded[fill.client_order_id] = self._recorded.get(fill.client_order_id, Decimal(0)) + fill.qty
        self._priced(fill.client_order_id)
        if fill.symbol != self.symbol:
            return
        legs = self.entries if fill.intent == ENTRY else self.exits
        legs.setdefault(trip_of(fill.client_order_id, fill.season), Leg()).add(fill)
        if fill.intent != ENTRY:
            self.exit_sessions.add(fill.session)
        sign = 1 if fill.intent == ENTRY else -1
        self._held_by_fills += sign * fill.qty
        self._cash_flow -= sign * fill.qty * fill.price
        self._last_fill_at = max(self._last_fill_at or fill.filled_at, fill.filled_at)
        self._open = None

    def outside_change_recorded(self, change: OutsideChange) -> None:
        if change.symbol != self.symbol:
            return
        # The trip open when it was seen: the season's latest whose first entry filled by then.
        started = [
            t
            for (s, t), leg in self.entries.items()
            if s == change.season and leg.fills[0].filled_at <= change.observed_at
        ]
        trip = (change.season, max(started, default=1))
        self.adopted[trip] = self.adopted.get(trip, Decimal(0)) + change.adopted_qty
        self._adopted_total += change.adopted_qty
        self._open = None

    def _priced(self, client_order_id: str) -> None:
        order = self._orders.get(client_order_id)
        if order is not None and self._recorded.get(client_order_id, Decimal(0)) < order.filled_qty:
            self._unpriced.add(client_order_id)
        else:
            self._unpriced.discard(client_order_id)

    # Questions

    @property
    def held(self) -> Decimal:
        """Shares the bot's own orders hold, from the order records (ahead of the priced fill records)."""
        return self._order_held + self._adopted_total

    def holdings_at(self, moment: datetime) -> tuple[Decimal, Decimal]:
        """Shares held and net cash spent (negative) or received by ``moment``, from the priced fills."""
        if self._last_fill_at is None or moment >= self._last_fill_at:
            return self._held_by_fills, self._cash_flow
        held, cash_flow = Decimal(0), Decimal(0)
        for sign, legs in ((1, self.entries), (-1, self.exits)):
            for leg in legs.values():
                for fill in leg.fills:
                    if fill.filled_at <= moment:
                        held += sign * fill.qty
                        cash_flow -= sign * fill.qty * fill.price
        return held, cash_flow

    def open_trade(self, sessions: Sequence[date]) -> OpenTrade | None:
        if self._open is not None and self._open[0] is sessions:
            return self._open[1]
        found = None
        for trip in sorted(self.entries):
            entries = self.entries[trip]
            remaining = entries.qty - self.exits.get(trip, Leg()).qty + self.adopted.get(trip, Decimal(0))
            if remaining > 0:
                first = entries.fills[0].session
                found = OpenTrade(
                    season=trip[0],
                    trip=trip[1],
                    qty=remaining,
                    entry_session=first,
                    entry_price=entries.average_price,
                    benchmark_entry_price=entries.average_benchmark_price,
                    planned_exit=exit_session(first, sessions, self.params),
                )
                break
        self._open = (sessions, found)
        return found

    def season_entered(self, season: int) -> bool:
        """An entry of the season filled, in any of its trips."""
        return any(self.trip_entered(season, trip) for trip in range(1, self._last_trip(season) + 1))

    def trip_entered(self, season: int, trip: int) -> bool:
        """An entry of the trip filled: its priced fill, or an order record that already says so."""
        if (season, trip) in self.entries:
            return True
        entries = self._by_intent.get((season, trip, ENTRY))
        return entries is not None and any(o.filled_qty > 0 for o in entries.values())

    def entry_trip(self, season: int) -> int:
        """The trip a new entry in the season belongs to: the latest, until one of its entries filled."""
        last = self._last_trip(season)
        return last + 1 if self.trip_entered(season, last) else last

    def _last_trip(self, season: int) -> int:
        return self._entry_trips.get(season, 1)

    def tried_entry(self) -> bool:
        """Whether any entry was sent, in any season."""
        return bool(self._entry_trips)

    def attempts(self, season: int, intent: Intent, trip: int = 1) -> list[OrderRecord]:
        """The orders tried for an intent in a season's trip, by attempt number."""
        return sorted(self._by_intent.get((season, trip, intent.value), {}).values(), key=attempt_number)

    def live_orders(self) -> list[OrderRecord]:
        """The bot's orders still working at the broker, oldest first."""
        return sorted(self._live.values(), key=lambda o: (o.submitted_at, o.client_order_id))

    def fills_pending(self) -> bool:
        """Whether an order has filled more than its priced fill records say (they wait for the benchmark)."""
        return bool(self._unpriced)

    def unpriced_updates(self) -> list[datetime]:
        """When each order with fills not yet recorded last changed: its fills are from then or before."""
        return [self._orders[i].updated_at for i in self._unpriced]

    def to_follow(self) -> list[OrderRecord]:
        """The orders that may still change at the broker or have fills not yet recorded, oldest first."""
        ids = self._live.keys() | self._unpriced
        return sorted((self._orders[i] for i in ids), key=lambda o: (o.submitted_at, o.client_order_id))


def _signed(side: str, qty: Decimal) -> Decimal:
    return qty if side == "buy" else -qty
