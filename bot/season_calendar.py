"""The broker's trading calendar, cached, with the lookups the loop needs."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime, time, timedelta

from bot.broker.base import SessionTimes
from bot.market.calendar import NEW_YORK

OPG_ACCEPTED_FROM = time(19, 0)  # Alpaca queues opg/cls orders sent after 19:00 ET for the next session
OPG_CUTOFF_BEFORE_OPEN = timedelta(minutes=2)  # opg is rejected from 09:28
CLS_CUTOFF_BEFORE_CLOSE = timedelta(minutes=10)  # cls is rejected from 15:50


class TradingCalendar:
    def __init__(self, sessions: list[SessionTimes]) -> None:
        self.sessions = tuple(sorted(sessions, key=lambda s: s.day))
        self.days = [s.day for s in self.sessions]

    def session(self, day: date) -> SessionTimes | None:
        index = bisect_left(self.days, day)
        if index < len(self.days) and self.days[index] == day:
            return self.sessions[index]
        return None

    def last_closed(self, now: datetime) -> SessionTimes | None:
        """The latest session whose close is at or before ``now``."""
        index = bisect_right(self.days, now.astimezone(NEW_YORK).date())
        for candidate in reversed(self.sessions[max(index - 3, 0) : index]):
            if candidate.closes_at <= now:
                return candidate
        return None

    def next_after(self, day: date) -> SessionTimes | None:
        index = bisect_right(self.days, day)
        return self.sessions[index] if index < len(self.sessions) else None

    def previous_before(self, day: date) -> SessionTimes | None:
        index = bisect_left(self.days, day)
        return self.sessions[index - 1] if index > 0 else None

    def current_or_next(self, now: datetime) -> SessionTimes | None:
        """The session in progress, or the next one to open."""
        index = bisect_left(self.days, now.astimezone(NEW_YORK).date())
        for candidate in self.sessions[index:]:
            if candidate.closes_at > now:
                return candidate
        return None


def evening_of(session: SessionTimes) -> datetime:
    """When opg and cls orders for the following session start being accepted."""
    return datetime.combine(session.day, OPG_ACCEPTED_FROM, NEW_YORK)
