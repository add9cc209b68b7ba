"""The backtest's live engine: the live Trader, pass for pass, on the in-process venue, at the times it asks for.

Nothing here decides anything: the Trader plans and sends orders exactly as `bot run` does, the local exchange's
venue model (auctions, cut-offs, margin, and with a fault spec its unfilled or partial auctions) fills them, and
the ledger records them. The clock moves to each wake time the Trader returns, so a replay steps only to the
decision points and to the moments a working order can have changed.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import structlog

from bot.app import assemble
from bot.ledger import FillRecord, OrderRecord
from bot.local_exchange.book import Book
from bot.local_exchange.clock import ManualClock
from bot.local_exchange.faults import FaultSpec, FaultState
from bot.local_exchange.in_process import SimulatedBroker
from bot.local_exchange.market import ReplayMarket
from bot.market import venue
from bot.market.dividends import Dividends
from bot.report import ledger_scorecard
from bot.scoring import Scorecard
from strategies.bars import DailyBar
from strategies.breakout import Action, Decision, Reason
from strategies.params import BreakoutParams, Trigger

STEP = timedelta(minutes=1)  # the least a replay moves between passes


@dataclass(frozen=True, slots=True, kw_only=True)
class CycleResult:
    scorecard: Scorecard
    orders: tuple[OrderRecord, ...]
    fills: tuple[FillRecord, ...]
    decisions: tuple[Decision, ...]  # the entry decisions the ledger recorded, one per session decided
    passes: int
    requests: dict[date, int]  # what the Trader asked the venue per New York day, as it would ask Alpaca


def _silent(_logger: Any, _name: str, _event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    raise structlog.DropEvent


def _decision(session: date, reason: str, bar: DailyBar | None) -> Decision:
    """The ledger's record of a decision as the replay states one, with the close it was made on."""
    why = Reason(reason)
    close = bar.close if bar is not None else None
    return Decision(Action.BUY if why is Reason.BREAKOUT_CONFIRMED else Action.HOLD, why, session, close)


def run_cycle(
    frames: dict[str, pd.DataFrame],
    params: BreakoutParams,
    *,
    cash: Decimal,
    start: date | None = None,
    end: date | None = None,
    dividends: Dividends | None = None,
    faults: FaultSpec | None = None,
    seed: int = 0,
    log: Any = None,
) -> CycleResult:
    """Replay the sessions from ``start`` to ``end`` through the live loop; the score is the ledger's."""
    market = ReplayMarket(frames, dividends, calendar_beyond_data=False)
    sessions = [s for s in market.sessions if (start is None or s.day >= start) and (end is None or s.day <= end)]
    if not sessions:
        raise ValueError("no sessions of the data fall between the replay's start and end")
    # The first pass is at the first session's open for the intraday trigger, at its close for the close trigger:
    # the backtest's first decision is on that session, never on the close before it.
    first = sessions[0]
    clock = ManualClock(first.opens_at if params.trigger is Trigger.INTRADAY else first.closes_at)
    broker = SimulatedBroker(Book(market, cash), clock, FaultState(faults or FaultSpec(), seed), real_time_sip=True)
    # Up to the 19:00 pass after the last close: the decision on that close is made, as the replay makes it, and an
    # entry it sends is for a session past the replay, left working as the replay leaves its pending entry.
    stop_at = venue.evening_of(sessions[-1]) + STEP
    log = log or structlog.wrap_logger(None, processors=[_silent])
    bot = assemble(broker, None, params, log, now=clock.now)  # the replay's time is the driver's
    ledger, trader = bot.ledger, bot.trader
    if True:
        try:
            broker.forbid_shorting()  # as `bot run` configures the account (BOT_FORBID_SHORTING's default)
            passes = 0
            now = clock.now()
            while now < stop_at:
                wake = trader.tick()
                passes += 1
                now = max(wake, now + STEP)
                clock.set(min(now, stop_at))
            return CycleResult(
                scorecard=ledger_scorecard(ledger, params),
                orders=tuple(ledger.orders()),
                fills=tuple(ledger.fills()),
                decisions=tuple(
                    _decision(day, reason, market.bar(params.symbol, day)) for day, reason in ledger.decisions().items()
                ),
                passes=passes,
                requests=dict(broker.requests),
            )
        finally:
            bot.close()
