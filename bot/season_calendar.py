"""The broker's trading calendar, cached, with the lookups the loop needs."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import date, datetime, timedelta

from bot.domain import NEW_YORK, Session


class TradingCalendar:
    def __init__(self, sessions: list[Session]) -> None:
        self.sessions = tuple(sorted(sessions, key=lambda s: s.day))
        self.days = [s.day for s in self.sessions]
        # A pass asks about the same moment several times (what is due, the mark, the next wake): the last answers.
        self._last_closed: tuple[datetime, Session | None] | None = None
        self._current: tuple[datetime, Session | None] | None = None

    def session(self, day: date) -> Session | None:
        index = bisect_left(self.days, day)
        if index < len(self.days) and self.days[index] == day:
            return self.sessions[index]
        return None

    def last_closed(self, now: datetime) -> Session | None:
        """The latest session whose close is at or before ``now``."""
        if self._last_closed is not None and self._last_closed[0] == now:
            return self._last_closed[1]
        index = bisect_right(self.days, now.astimezone(NEW_YORK).date())
        found = next((s for s in reversed(self.sessions[max(index - 3, 0) : index]) if s.closes_at <= now), None)
        self._last_closed = (now, found)
        return found

    def next_after(self, day: date) -> Session | None:
        index = bisect_right(self.days, day)
        return self.sessions[index] if index < len(self.sessions) else None

    def previous_before(self, day: date) -> Session | None:
        index = bisect_left(self.days, day)
        return self.sessions[index - 1] if index > 0 else None

    def between(self, first: date, last: date) -> list[Session]:
        return list(self.sessions[bisect_left(self.days, first) : bisect_right(self.days, last)])

    def current_or_next(self, now: datetime) -> Session | None:
        """The session in progress, or the next one to open."""
        if self._current is not None and self._current[0] == now:
            return self._current[1]
        index = bisect_left(self.days, now.astimezone(NEW_YORK).date())
        sessions = self.sessions
        found = next((sessions[i] for i in range(index, len(sessions)) if sessions[i].closes_at > now), None)
        self._current = (now, found)
        return found


BACK_DAYS = 400  # sessions behind today the loop reads (a season, the rule's history, reconciliation)
REFRESH_AHEAD = timedelta(days=30)  # re-read every day: Alpaca adds unscheduled closures at short notice
EXTEND_WITHIN = timedelta(days=60)  # load the next stretch once the calendar ends this close to today


class CalendarCache:
    """The broker's calendar, loaded once and kept current with one small request a day.

    Loaded from ``BACK_DAYS`` before today to the end of next year; each new day re-reads only the next
    ``REFRESH_AHEAD`` (a closure announced days ahead is seen), and the whole span is read again once its end
    comes within ``EXTEND_WITHIN``.
    """

    def __init__(self, fetch: Callable[[date, date], list[Session]]) -> None:
        self._fetch = fetch
        self._calendar: TradingCalendar | None = None
        self._span: tuple[date, date] | None = None
        self._day: date | None = None

    def at(self, now: datetime) -> TradingCalendar:
        today = now.astimezone(NEW_YORK).date()
        if self._calendar is None or self._span is None or today + EXTEND_WITHIN > self._span[1]:
            start, end = today - timedelta(days=BACK_DAYS), date(today.year + 2, 1, 31)
            self._calendar, self._span = TradingCalendar(self._fetch(start, end)), (start, end)
        elif today != self._day:
            end = min(today + REFRESH_AHEAD, self._span[1])
            fresh = self._fetch(today, end)
            known = self._calendar.between(today, end)
            if fresh and fresh != known:  # thirty days without a session is no answer to believe
                kept = [s for s in self._calendar.sessions if not today <= s.day <= end]
                self._calendar = TradingCalendar([*kept, *fresh])
        self._day = today
        return self._calendar
