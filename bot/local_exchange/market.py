"""What the replay knows of the market at a simulated moment; nothing from the future leaks out."""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime, timedelta

import pandas as pd

from bot.market.calendar import NEW_YORK, Session, nyse_sessions, session_for
from bot.market.csv_data import daily_bars, daily_from_minutes, is_intraday, minute_bars
from bot.market.intraday import MINUTE, minute_path, price_at
from strategies.bars import DailyBar, MinuteBar


class ReplayMarket:
    def __init__(self, frames: dict[str, pd.DataFrame]) -> None:
        self._bars = {
            symbol: daily_bars(daily_from_minutes(frame) if is_intraday(frame) else frame)
            for symbol, frame in frames.items()
        }
        # Minute data replays as it is; daily data moves along the deterministic intraday path.
        self._recorded_minutes = {
            symbol: _by_session(minute_bars(frame)) for symbol, frame in frames.items() if is_intraday(frame)
        }
        self._by_day = {symbol: {bar.session: bar for bar in bars} for symbol, bars in self._bars.items()}
        days = sorted({bar.session for bars in self._bars.values() for bar in bars})
        self.sessions = [session_for(day) for day in days]
        self._days = days
        self._minute_cache: dict[tuple[str, date], list[MinuteBar]] = {}

    @property
    def symbols(self) -> list[str]:
        return sorted(self._bars)

    def knows(self, symbol: str) -> bool:
        return symbol in self._bars

    def session(self, day: date) -> Session | None:
        index = bisect_right(self._days, day) - 1
        return self.sessions[index] if index >= 0 and self._days[index] == day else None

    def calendar(self, start: date, end: date) -> list[Session]:
        """Sessions in the data, then the NYSE calendar beyond it (so bots can look up future exits)."""
        in_data = [s for s in self.sessions if start <= s.day <= end]
        last = self._days[-1]
        beyond = [session_for(day) for day in nyse_sessions(max(start, last + timedelta(days=1)), end)]
        return in_data + beyond

    def last_session_started(self, now: datetime) -> Session | None:
        """The latest session whose open is at or before ``now``."""
        index = bisect_right(self._days, now.date()) - 1
        while index >= 0:
            if self.sessions[index].opens_at <= now:
                return self.sessions[index]
            index -= 1
        return None

    def next_open_after(self, moment: datetime) -> Session | None:
        index = bisect_right(self._days, moment.date()) - 1
        for session in self.sessions[max(index, 0) :]:
            if session.opens_at > moment:
                return session
        return None

    def bar(self, symbol: str, day: date) -> DailyBar | None:
        return self._by_day.get(symbol, {}).get(day)

    def minutes(self, symbol: str, day: date) -> list[MinuteBar]:
        recorded = self._recorded_minutes.get(symbol)
        if recorded is not None:
            return recorded.get(day, [])
        key = (symbol, day)
        if key not in self._minute_cache:
            bar, session = self.bar(symbol, day), self.session(day)
            self._minute_cache[key] = minute_path(bar, session) if bar and session else []
        return self._minute_cache[key]

    def price(self, symbol: str, moment: datetime) -> float | None:
        """The last traded price at ``moment``: the path price in a session, else the last close."""
        session = self.last_session_started(moment)
        if session is None:
            return None
        bar = self.bar(symbol, session.day)
        if bar is None:
            return None
        if moment >= session.closes_at:
            return bar.close
        if symbol in self._recorded_minutes:
            started = [m for m in self.minutes(symbol, session.day) if m.start <= moment]
            if not started:
                return bar.open
            last = started[-1]
            return last.close if moment >= last.start + MINUTE else last.open
        return price_at(bar, session, (moment - session.opens_at) / MINUTE)

    def completed_daily(self, symbol: str, now: datetime, start: datetime, end: datetime) -> list[DailyBar]:
        bars = []
        for bar in self._bars.get(symbol, []):
            session = self.session(bar.session)
            stamp = _daily_stamp(bar.session)
            if session and session.closes_at <= now and start <= stamp <= end:
                bars.append(bar)
        return bars

    def completed_minutes(self, symbol: str, now: datetime, start: datetime, end: datetime) -> list[MinuteBar]:
        result: list[MinuteBar] = []
        first = max(start, self.sessions[0].opens_at)
        last = min(end, now)
        if last < first:
            return result
        index = max(bisect_right(self._days, first.date()) - 1, 0)
        for session in self.sessions[index:]:
            if session.opens_at > last:
                break
            for minute in self.minutes(symbol, session.day):
                if start <= minute.start <= end and minute.start + MINUTE <= now:
                    result.append(minute)
        return result

    def latest_minute(self, symbol: str, now: datetime) -> MinuteBar | None:
        session = self.last_session_started(now)
        if session is None:
            return None
        done = [minute for minute in self.minutes(symbol, session.day) if minute.start + MINUTE <= now]
        if done:
            return done[-1]
        index = self.sessions.index(session)
        earlier = self.minutes(symbol, self.sessions[index - 1].day) if index > 0 else []
        return earlier[-1] if earlier else None


def _daily_stamp(day: date) -> datetime:
    """Alpaca stamps a daily bar at midnight New York time."""
    return datetime.combine(day, datetime.min.time(), session_for(day).opens_at.tzinfo)


def _by_session(bars: list[MinuteBar]) -> dict[date, list[MinuteBar]]:
    sessions: dict[date, list[MinuteBar]] = {}
    for bar in bars:
        sessions.setdefault(bar.start.astimezone(NEW_YORK).date(), []).append(bar)
    return sessions
