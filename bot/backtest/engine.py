"""The backtest: the live loop's cycle, pass for pass, on the in-process venue, at the times it asks for.

Nothing here decides anything: the Trader plans and sends orders exactly as `bot run` does (one engine, so the
backtest is what the live bot would have done), the local exchange's venue model (auctions, cut-offs, margin,
and with a fault spec Alpaca paper's unfilled or partial auctions) fills them, and an in-memory ledger records
them. The clock moves to each wake time the Trader returns, so a replay steps only to the decision points and
to the moments a working order can have changed.

Fill conventions, the venue's: a close-trigger entry is an ``opg`` order filled at the next session's open; an
intraday entry a market order filled at the open of the minute after the breakout minute (minute data when given,
else the exchange's intraday path through the day's bar); the exit a ``cls`` order filled at the exit session's
close. Sizing uses the account's equity and spendable cash and the last price known when the order is sent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.app import assemble
from bot.backtest.quiet import step_over_quiet_passes
from bot.engine.policy import FINAL
from bot.ledger import OrderRecord, Snapshot
from bot.local_exchange.book import Book
from bot.local_exchange.clock import ManualClock
from bot.local_exchange.faults import FaultSpec, FaultState
from bot.local_exchange.in_process import SimulatedBroker
from bot.local_exchange.market import ReplayMarket
from bot.market import venue
from bot.market.bar_sources import BarSource, regular_session
from bot.market.dividends import Dividends
from bot.report import ledger_scorecard
from bot.round_trips import Fill, fills_by_order
from bot.scoring import Scorecard
from strategies.bars import DailyBar
from strategies.breakout import Action, Decision, Reason
from strategies.params import BreakoutParams, Trigger

STEP = timedelta(minutes=1)  # the least a replay moves between passes


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestResult:
    scorecard: Scorecard
    orders: tuple[OrderRecord, ...]
    fills: tuple[Fill, ...]
    decisions: tuple[Decision, ...]  # the entry decisions the ledger recorded, one per session decided
    marks: tuple[Snapshot, ...]  # the ledger's daily marks, one per session after the first
    pending_entry_qty: int  # an entry still working at the end (decided on the last close)
    sessions: int  # sessions replayed
    passes: int
    # What the passes asked the venue per New York day, as they would ask Alpaca (with ``every_pass``: a stepped-over
    # pass's asks count on the day of the pass before it).
    requests: dict[date, int]


class Quiet:
    """The backtest's log: the cycle's events are not printed (the score says what happened)."""

    def info(self, *_: Any, **__: Any) -> None:
        pass

    warning = error = debug = info


REASONS = {reason.value: reason for reason in Reason}


def _decision(session: date, reason: str, bar: DailyBar | None) -> Decision:
    """The ledger's record of a decision as the replay states one, with the close it was made on."""
    why = REASONS[reason]
    close = bar.close if bar is not None else None
    return Decision(Action.BUY if why is Reason.BREAKOUT_CONFIRMED else Action.HOLD, why, session, close)


def _first_look_that_can_buy(
    market: ReplayMarket, symbol: str, now: datetime, until: datetime, level: float
) -> datetime:
    """The first look at which a minute closing above ``level`` is complete (a minute after it starts), or ``until``
    (the next decision point) when none before it does; the look at ``now`` saw every minute that started before."""
    found = market.first_close_above(symbol, now, until, level) if math.isfinite(level) else None
    return min(found + STEP, until) if found is not None else until


def run_backtest(
    frames: Mapping[str, BarSource],
    params: BreakoutParams,
    *,
    cash: Decimal,
    start: date | None = None,
    end: date | None = None,
    dividends: Dividends | None = None,
    faults: FaultSpec | None = None,
    seed: int = 0,
    log: Any = None,
    every_pass: bool = False,
) -> BacktestResult:
    """Replay the sessions from ``start`` to ``end`` through the live loop; the score is the ledger's.

    While the intraday trigger waits for a breakout with nothing working, the loop looks each minute and each look
    but the one that sees a close above the threshold does nothing; the replay steps straight to that look (or to
    the next decision point when no minute of the session gets there), as the data shows it. Passes the plan says
    can only repeat the last one's records (bot/backtest/quiet.py) are recorded without being made, unless a
    ``log`` listens to them. ``every_pass`` makes every look and every pass instead (the tests hold that both
    record alike).
    """
    # Regular-session minutes only: pre- and post-market trading would make wrong daily opens and closes.
    regular = {symbol: regular_session(source) for symbol, source in frames.items()}
    market = ReplayMarket(regular, dividends)
    sessions = [
        s
        for s in market.sessions
        if (start is None or s.day >= start) and (end is None or s.day <= end) and market.bar(params.symbol, s.day)
    ]  # the symbol's sessions: the benchmark's history may reach further back
    if not sessions:
        card = Scorecard(symbol=params.symbol, benchmark=params.benchmark, trades=(), start_equity=cash,
                         end_equity=cash, max_drawdown_pct=Decimal(0), hold_curve=())  # fmt: skip
        return BacktestResult(scorecard=card, orders=(), fills=(), decisions=(), marks=(), pending_entry_qty=0,
                              sessions=0, passes=0, requests={})  # fmt: skip
    # The first pass is at the first session's open for the intraday trigger, at its close for the close trigger:
    # the backtest's first decision is on that session, never on the close before it.
    first = sessions[0]
    clock = ManualClock(first.opens_at if params.trigger is Trigger.INTRADAY else first.closes_at)
    broker = SimulatedBroker(Book(market, cash), clock, FaultState(faults or FaultSpec(), seed), real_time_sip=True)
    # Up to the 19:00 pass after the last close: the decision on that close is made, as the replay makes it, and an
    # entry it sends is for a session past the replay, left working as the replay leaves its pending entry.
    stop_at = venue.evening_of(sessions[-1]) + STEP
    bot = assemble(broker, None, params, log or Quiet(), now=clock.now)  # the replay's time is the driver's
    ledger, trader = bot.ledger, bot.trader
    broker.forbid_shorting()  # as `bot run` configures the account (BOT_FORBID_SHORTING's default)
    passes = 0
    now = clock.now()
    while now < stop_at:
        wake = trader.tick()
        passes += 1
        if not every_pass and trader.watching_minutes and trader.awaiting is not None:
            wake = _first_look_that_can_buy(market, params.symbol, now, trader.decision_at or wake, trader.awaiting)
        elif not every_pass and log is None:
            wake = step_over_quiet_passes(trader, market, now, stop_at) or wake
        now = max(wake, now + STEP)
        clock.set(min(now, stop_at))
    orders = tuple(ledger.orders())
    return BacktestResult(
        scorecard=ledger_scorecard(ledger, params),
        orders=orders,
        fills=tuple(fills_by_order(ledger.fills())),
        decisions=tuple(
            _decision(day, reason, market.bar(params.symbol, day)) for day, reason in ledger.decisions().items()
        ),
        marks=tuple(ledger.snapshots()),
        pending_entry_qty=int(
            sum((o.qty - o.filled_qty for o in orders if o.side == "buy" and o.status not in FINAL), Decimal(0))
        ),
        sessions=len(sessions),
        passes=passes,
        requests=dict(broker.requests),
    )
