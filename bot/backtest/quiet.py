"""Stepping over the passes that can only repeat the last one's records, as the replay's closes show them.

Most of a replay's passes decide nothing new: flat under a fixed level, every close at or below the threshold is
decided ``below_level`` and marked at the cash; holding before the exit is due, a pass only marks the day. The
planner says so (Plan.quiet: until when, and on which side of the threshold the closes must stay); the live loop
makes those passes all the same, as it cannot know the closes ahead. The replay knows them: it records each such
pass's mark and decision through the Trader's own recording, and moves the clock to the last pass of the stretch,
which the loop makes as any other (so what follows it is planned and scheduled by the cycle itself).
"""

from __future__ import annotations

from datetime import datetime

from bot.domain import NEW_YORK, Session
from bot.engine.plan_types import Market
from bot.local_exchange.market import ReplayMarket
from bot.market import venue
from bot.trader import Trader

FLAT = Market()  # flat at a close, the mark is the cash: no closes read


def step_over_quiet_passes(trader: Trader, market: ReplayMarket, now: datetime, stop_at: datetime) -> datetime | None:
    """Record the passes after ``now`` that the last plan said would repeat its records, all but the stretch's last,
    and return the time of that last one (None: no pass to step over)."""
    quiet = trader.quiet
    if quiet is None:
        return None
    symbol, benchmark = trader.params.symbol, trader.params.benchmark
    holding = quiet.reason is None  # a held position's mark reads both closes
    stretch: list[tuple[Session, Market]] = []
    sessions = market.sessions
    for index in range(market.first_on_or_after(now.astimezone(NEW_YORK).date()), len(sessions)):
        session = sessions[index]
        at = venue.evening_of(session)  # the pass that marks it (and decides on its close)
        if at <= now:
            continue
        if at >= stop_at or (quiet.until is not None and at >= quiet.until):
            break
        bar = market.bar(symbol, session.day)
        if bar is None or not quiet.repeats(bar.close):
            break
        if not holding:
            stretch.append((session, FLAT))
            continue
        held_against = market.bar(benchmark, session.day)
        if held_against is None:
            break
        stretch.append((session, Market(bars=(bar,), benchmark_bars=(held_against,))))
    if len(stretch) < 2:
        return None
    trader.record_quiet(stretch[:-1], quiet.reason)
    return venue.evening_of(stretch[-1][0])
