"""The broker's trading calendar, cached, with the lookups the loop needs."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime

from bot.broker.base import SessionTimes
from bot.market.calendar import NEW_YORK


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
