"""When the loop should look again: the calendar's next decision point, or sooner for an order that can change.

The decision point of every session is 19:00 ET after its close: its daily bar is settled (the day's mark), the
close trigger decides on it, and an exit due the next session is sent. The intraday trigger also looks from a
minute after the open, every minute while it waits for a breakout; an entry that ended unfilled or refused is
tried again a minute after its session opens.

An auction order cannot fill before its auction, and no order fills outside its session, so a working order
asks for a look only when it can next change: an ``opg`` order a minute after its session opens, a ``cls``
order a minute after its close, a ``day`` order every minute of its session. An order still working after
that is followed every minute for ``FOLLOW_CLOSELY`` and then every ``FOLLOW_SLOWLY``, so a broker that never
finishes an order costs a bounded number of requests. A fill is recorded with the benchmark's price at it, from
official minute bars that are out about 16 minutes later: the loop looks again then.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from bot.engine import policy
from bot.engine.plan import fill_priced_at, order_session
from bot.engine.plan_types import Wake
from bot.engine.portfolio import Portfolio
from bot.market import venue
from bot.orders import Intent
from bot.season_calendar import TradingCalendar
from strategies.breakout import season_for
from strategies.params import BreakoutParams, Trigger

MINUTE = timedelta(minutes=1)
FOLLOW_CLOSELY = timedelta(minutes=15)
FOLLOW_SLOWLY = timedelta(minutes=15)
FILLS_PRICED_EVERY = timedelta(minutes=5)  # a fill not priced when it could be (its prices late) is tried again
BLOCKED_RECHECK = timedelta(minutes=15)  # a blocked account is looked at again this often, to see it cleared

WorkingOrder = tuple[str, date | None]  # (time in force, the session it is for)


def next_wake(
    now: datetime,
    calendar: TradingCalendar,
    trigger: Trigger,
    working: Sequence[WorkingOrder] = (),
    fills_priced_at: datetime | None = None,
    blocked: bool = False,
    entry_retry: bool = False,
) -> datetime:
    """``fills_priced_at``: when the fills not yet recorded can be priced (None: there are none); ``entry_retry``:
    the last entry ended unfilled or refused, so the next open is a decision point too."""
    candidates: list[datetime] = []
    for session in filter(None, (calendar.last_closed(now), calendar.current_or_next(now))):
        candidates.append(venue.evening_of(session))
        if trigger is Trigger.INTRADAY or entry_retry:
            candidates.append(session.opens_at + MINUTE)
        if trigger is Trigger.INTRADAY and session.opens_at <= now < session.closes_at:
            candidates.append(now + MINUTE)
    candidates += [order_wake(now, calendar, tif, day) for tif, day in working]
    if fills_priced_at is not None:  # once they can be, a fill still unpriced is tried again every few minutes
        candidates.append(fills_priced_at if fills_priced_at > now else now + FILLS_PRICED_EVERY)
    if blocked:
        candidates.append(now + BLOCKED_RECHECK)
    future = [moment for moment in candidates if moment > now]
    return min(future) if future else now + timedelta(hours=1)


def order_wake(now: datetime, calendar: TradingCalendar, time_in_force: str, day: date | None) -> datetime:
    """The next moment a working order can have changed."""
    session = calendar.session(day) if day is not None else None
    if session is None:
        return now + MINUTE
    if time_in_force == "opg":
        expected = session.opens_at + MINUTE
    elif time_in_force == "cls":
        expected = session.closes_at + MINUTE
    elif now < session.opens_at:
        expected = session.opens_at + MINUTE
    elif now < session.closes_at:
        return now + MINUTE
    else:
        expected = session.closes_at + MINUTE
    if now < expected:
        return expected
    return now + (MINUTE if now < expected + FOLLOW_CLOSELY else FOLLOW_SLOWLY)


def wake(
    now: datetime, calendar: TradingCalendar, params: BreakoutParams, portfolio: Portfolio, *, blocked: bool
) -> Wake:
    """The next look, from what the portfolio holds and has working after the pass."""
    working = [(o.time_in_force, order_session(o.time_in_force, o.submitted_at, calendar))
               for o in portfolio.live_orders()]  # fmt: skip
    pending = portfolio.fills_pending()
    priced_at = min((fill_priced_at(at, calendar) for at in portfolio.unpriced_updates()), default=None)
    busy = bool(working or pending or blocked)
    idle = not (busy or portfolio.held or portfolio.open_trade(calendar.days))
    retry = idle and _entry_unfilled(now, calendar, params, portfolio)
    settled = not (busy or retry)
    decision_at = next_wake(now, calendar, Trigger.CLOSE, working, priced_at, blocked, retry)
    # Only a flat bot with nothing working looks each minute for the intraday trigger's breakout; holding, it
    # waits for the decision points like the close trigger. Minute looks can be skipped (the first breakout
    # minute is found later); the decision points not.
    if params.trigger is not Trigger.INTRADAY or not idle:
        return Wake(at=decision_at, decision_at=decision_at, watching_minutes=False, settled=settled)
    at = next_wake(now, calendar, Trigger.INTRADAY, working, priced_at, blocked, retry)
    return Wake(at=at, decision_at=decision_at, watching_minutes=True, settled=settled)


def _entry_unfilled(now: datetime, calendar: TradingCalendar, params: BreakoutParams, portfolio: Portfolio) -> bool:
    """Whether the season's last entry ended unfilled or refused (so that a retry may be due at the next open)."""
    session = calendar.current_or_next(now)
    if session is None or not portfolio.tried_entry():
        return False
    season = season_for(session.day, calendar.days, params)
    trip = portfolio.entry_trip(season)
    tried = portfolio.attempts(season, Intent.ENTRY, trip)
    return bool(tried) and tried[-1].status in policy.UNFILLED_FINAL
