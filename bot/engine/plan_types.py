"""What the planner takes and gives (bot/engine/planner.py): the facts a pass gathered, what is due, the market
data read for it, and the plan: frozen values, so that the planner is a function of them alone."""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.domain import Account, OrderRequest, Session
from bot.engine.portfolio import OpenTrade, Portfolio
from bot.orders import Intent
from bot.season_calendar import TradingCalendar
from strategies.bars import DailyBar, MinuteBar
from strategies.params import BreakoutParams


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """What a pass saw before deciding. ``account`` is None on a light look between passes (read only to buy)."""

    now: datetime
    calendar: TradingCalendar
    params: BreakoutParams
    portfolio: Portfolio
    account: Account | None
    broker_long: Decimal
    decided: Container[date]  # the sessions whose decision is recorded
    start_equity: Decimal = Decimal(0)  # the account's equity when the bot first ran (the marks start from it)


class Step(StrEnum):
    NOTHING = "nothing"
    BLOCKED = "blocked"  # the account may not trade: no orders
    PRICING = "pricing"  # a fill's priced record waits for the benchmark's official prices: nothing to decide yet
    EXIT = "exit"
    ENTRY = "entry"  # the close trigger: a decision after a close, and/or a retry of today's unfilled entry
    LOOK = "look"  # the intraday trigger: today's minutes


@dataclass(frozen=True, slots=True, kw_only=True)
class Due:
    step: Step
    trade: OpenTrade | None = None
    closed: Session | None = None  # ENTRY: the close to decide on; LOOK: the session before today's
    upcoming: Session | None = None  # ENTRY: the session the decision buys in; LOOK: today's
    retry: tuple[Session, str] | None = None  # ENTRY: today's session and why its entry is tried again

    @property
    def bars_through(self) -> date | None:
        """The last session whose daily bar the plan reads."""
        return self.closed.day if self.closed is not None else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Market:
    """What the pass read: the symbol's daily bars (through ``Due.bars_through`` and the session marked), the
    benchmark's bar of the session marked, today's minutes, the last price."""

    bars: Sequence[DailyBar] = ()
    benchmark_bars: Sequence[DailyBar] = ()
    minutes: Sequence[MinuteBar] = ()
    latest: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderIntent:
    request: OrderRequest
    intent: Intent
    season: int
    reason: str


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    fields: Mapping[str, Any]
    level: str = "info"
    once: str | None = None  # logged once per run for this key


@dataclass(frozen=True, slots=True, kw_only=True)
class Quiet:
    """The passes after this one that can only repeat its records while nothing else changes: those before
    ``until`` (None: no end), and with a ``threshold`` only while each close stays on this one's side of it
    (``above``: a close over it), each deciding for ``reason`` (None: no decision, as while holding). The loop makes
    them all; a backtest, which knows the closes ahead, records them without making them (bot/backtest/quiet.py)."""

    until: datetime | None = None
    threshold: float | None = None
    above: bool = False
    reason: str | None = None

    def repeats(self, close: float) -> bool:
        return self.threshold is None or (close > self.threshold) is self.above


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    order: OrderIntent | None = None
    decision: tuple[date, str] | None = None  # the session decided, and why
    events: tuple[Event, ...] = ()
    problems: Mapping[str, str | None] = field(default_factory=dict)  # set, or cleared with None
    needs_account: bool = False  # a look found a breakout: read the account and plan again
    # A look found no breakout: the close a later minute of the session must exceed (inf: none can this session).
    # The loop looks each minute all the same; a backtest may step straight to the minute that can buy.
    awaiting: float | None = None
    quiet: Quiet | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Wake:
    at: datetime  # the next look
    decision_at: datetime  # the next decision point (the demo's lockstep holds its replay there)
    watching_minutes: bool  # between decision points, only the intraday trigger's minutes are read
    settled: bool = False  # nothing working, no fill waiting for its price, no retry due, the account not blocked
