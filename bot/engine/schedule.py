"""When the loop should look again: the next decision point of the calendar, or a minute while orders work."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.market import venue
from bot.season_calendar import TradingCalendar
from strategies.params import Trigger

MINUTE = timedelta(minutes=1)


def next_wake(now: datetime, calendar: TradingCalendar, trigger: Trigger, orders_working: bool) -> datetime:
    candidates: list[datetime] = []
    for session in filter(None, (calendar.last_closed(now), calendar.current_or_next(now))):
        candidates += [
            session.opens_at + MINUTE,
            session.closes_at + MINUTE,
            session.closes_at + venue.DATA_SETTLED_AFTER_CLOSE + MINUTE,
            venue.evening_of(session),
        ]
        if trigger is Trigger.INTRADAY and session.opens_at <= now < session.closes_at:
            candidates.append(now + MINUTE)
    if orders_working:
        candidates.append(now + MINUTE)
    future = [moment for moment in candidates if moment > now]
    return min(future) if future else now + timedelta(hours=1)
