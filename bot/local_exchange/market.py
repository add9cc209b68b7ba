"""What the replay knows of the market at a simulated moment; nothing from the future leaks out.

Two feeds, as Alpaca serves them: ``sip`` is the data as given (the consolidated tape, official opens and
closes); ``iex`` is a thinner tape whose opens and closes differ by a few cents (a seeded offset per symbol
and session, moving linearly from the open's to the close's through the day) with about 2.5 % of the volume.
A session in progress has a partial daily bar: the open so far, high and low so far, the last price as close.
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.domain import NEW_YORK, Session
from bot.market.bar_sources import BarSource, daily_bars_of, recorded_minutes
from bot.market.calendar import nyse_sessions, session_for
from bot.market.dividends import Dividends
from bot.market.intraday import MINUTE, minute_path, price_at
from strategies.bars import DailyBar, MinuteBar

IEX_VOLUME_SHARE = 0.025


class Feed(StrEnum):
    SIP = "sip"
    IEX = "iex"


def iex_offsets(symbol: str, day: date) -> tuple[float, float]:
    """The IEX tape's offset from the official open and close, in dollars (never zero)."""
    draw = random.Random(f"iex:{symbol}:{day.isoformat()}")
    cents = [c for c in range(-5, 6) if c]
    return draw.choice(cents) / 100, draw.choice(cents) / 100


def _on_iex(bar: DailyBar, symbol: str) -> DailyBar:
    shift_open, shift_close = iex_offsets(symbol, bar.session)
    opened, closed = round(bar.open + shift_open, 2), round(bar.close + shift_close, 2)
    return DailyBar(
        bar.session,
        opened,
        max(bar.high, opened, closed),
        min(bar.low, opened, closed),
        closed,
        max(round(bar.volume * IEX_VOLUME_SHARE), 1),
    )


def _iex_shift(symbol: str, moment: datetime, session: Session | None) -> float:
    """The IEX tape's offset at ``moment`` of ``session`` (the one started by then)."""
    if session is None:
        return 0.0
    shift_open, shift_close = iex_offsets(symbol, session.day)
    share = min(max((moment - session.opens_at) / (session.closes_at - session.opens_at), 0.0), 1.0)
    return shift_open + (shift_close - shift_open) * share


def _minute_on_iex(symbol: str, minute: MinuteBar, session: Session | None) -> MinuteBar:
    shift = _iex_shift(symbol, minute.start, session)
    moved = [round(value + shift, 2) for value in (minute.open, minute.high, minute.low, minute.close)]
    return replace(
        minute,
        open=moved[0],
        high=max(moved),
        low=min(moved),
        close=moved[3],
        volume=max(round(minute.volume * IEX_VOLUME_SHARE), 1),
    )


class ReplayMarket:
    def __init__(self, frames: Mapping[str, BarSource], dividends: Dividends | None = None) -> None:
        self.dividends: Dividends = dict(dividends or {})  # served by /v1/corporate-actions
        self._bars = {symbol: daily_bars_of(source) for symbol, source in frames.items()}
        # Minute data replays as it is; daily data moves along the deterministic intraday path.
        self._recorded_minutes = {
            symbol: minutes for symbol, source in frames.items() if (minutes := recorded_minutes(source)) is not None
        }
        self._by_day = {symbol: {bar.session: bar for bar in bars} for symbol, bars in self._bars.items()}
        days = sorted({bar.session for bars in self._bars.values() for bar in bars})
        self.sessions = [session_for(day) for day in days]
        self._days = days
        self._minute_cache: dict[tuple[str, date], list[MinuteBar]] = {}
        self._starts_cache: dict[tuple[str, date], list[datetime]] = {}
        self._stamps: dict[str, list[datetime]] = {}
        self._bar_days: dict[str, list[date]] = {}

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
        in_data = self.sessions[bisect_left(self._days, start) : bisect_right(self._days, end)]
        last = self._days[-1]
        if end <= last:
            return in_data
        return in_data + [session_for(day) for day in nyse_sessions(max(start, last + timedelta(days=1)), end)]

    def first_on_or_after(self, day: date) -> int:
        """The index in ``sessions`` of the first session on or after ``day``."""
        return bisect_left(self._days, day)

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

    def closed_daily(self, symbol: str, first: date, last: date, now: datetime) -> list[DailyBar]:
        """The bars of the sessions from ``first`` to ``last`` that closed by ``now``."""
        bars = self._bars.get(symbol, [])
        days = self._bar_days.get(symbol)
        if days is None:
            days = self._bar_days[symbol] = [bar.session for bar in bars]
        found = bars[bisect_left(days, first) : bisect_right(days, last)]
        while found and not self._closed_by(found[-1].session, now):
            found.pop()
        return found

    def completed_daily(self, symbol: str, now: datetime, start: datetime, end: datetime) -> list[DailyBar]:
        bars = self._bars.get(symbol, [])
        stamps = self._stamps.get(symbol)
        if stamps is None:  # each bar's midnight stamp, computed once: the bars are sorted, so a range is a bisect
            stamps = self._stamps[symbol] = [_daily_stamp(bar.session) for bar in bars]
        found = bars[bisect_left(stamps, start) : bisect_right(stamps, end)]
        # Sorted bars: only the last few can be of sessions not closed by ``now``.
        while found and not self._closed_by(found[-1].session, now):
            found.pop()
        return found

    def _closed_by(self, day: date, now: datetime) -> bool:
        session = self.session(day)
        return session is not None and session.closes_at <= now

    def daily(self, symbol: str, visible: datetime, start: datetime, end: datetime, feed: Feed) -> list[DailyBar]:
        """Daily bars stamped in [start, end] as the feed knows them at ``visible`` (today's bar partial)."""
        bars = self.completed_daily(symbol, visible, start, end)
        if feed is Feed.IEX:
            bars = [_on_iex(bar, symbol) for bar in bars]
        session = self.last_session_started(visible)
        if session is not None and visible < session.closes_at and start <= _daily_stamp(session.day) <= end:
            minutes = self.feed_minutes(symbol, visible, session.opens_at, visible, feed)
            if minutes:
                bars.append(
                    DailyBar(
                        session.day,
                        minutes[0].open,
                        max(m.high for m in minutes),
                        min(m.low for m in minutes),
                        minutes[-1].close,
                        sum(m.volume for m in minutes),
                    )
                )
        return bars

    def feed_minutes(
        self, symbol: str, visible: datetime, start: datetime, end: datetime, feed: Feed
    ) -> list[MinuteBar]:
        minutes = self.completed_minutes(symbol, visible, start, end)
        if feed is Feed.SIP:
            return minutes
        return [_minute_on_iex(symbol, m, self.last_session_started(m.start)) for m in minutes]

    def feed_price(self, symbol: str, moment: datetime, feed: Feed) -> float | None:
        last = self.price(symbol, moment)
        if last is None or feed is Feed.SIP:
            return last
        return round(last + _iex_shift(symbol, moment, self.last_session_started(moment)), 2)

    def completed_minutes(self, symbol: str, now: datetime, start: datetime, end: datetime) -> list[MinuteBar]:
        """The minute bars starting in [start, end] that have ended by ``now``."""
        last = min(end, now - MINUTE)
        result: list[MinuteBar] = []
        if last < start:
            return result
        index = max(bisect_right(self._days, start.astimezone(NEW_YORK).date()) - 1, 0)
        for session in self.sessions[index:]:
            if session.opens_at > last:
                break
            result += self._minutes_between(symbol, session, start, last)
        return result

    def _minutes_between(self, symbol: str, session: Session, start: datetime, last: datetime) -> list[MinuteBar]:
        """The session's minute bars starting in [start, last], made for those minutes only (a fill's benchmark
        price reads five of them)."""
        recorded = self._recorded_minutes.get(symbol)
        if recorded is not None:
            return recorded.between(session.day, start, last)
        bar = self.bar(symbol, session.day)
        if (symbol, session.day) in self._minute_cache or bar is None:
            minutes = self.minutes(symbol, session.day)
            starts = self._minute_starts(symbol, session.day, minutes)
            return minutes[bisect_left(starts, start) : bisect_right(starts, last)]
        first = -((session.opens_at - start) // MINUTE)  # the first minute starting at or after ``start``
        return minute_path(bar, session, first, (last - session.opens_at) // MINUTE + 1)

    def first_close_above(self, symbol: str, start: datetime, end: datetime, level: float) -> datetime | None:
        """The start of the first minute bar starting in [start, end) that closes above ``level``."""
        index = max(bisect_right(self._days, start.astimezone(NEW_YORK).date()) - 1, 0)
        recorded = self._recorded_minutes.get(symbol)
        for session in self.sessions[index:]:
            if session.opens_at >= end:
                break
            if recorded is not None:
                found = recorded.first_close_above(session.day, start, end, level)
                if found is not None:
                    return found
                continue
            minutes = self.minutes(symbol, session.day)
            starts = self._minute_starts(symbol, session.day, minutes)
            for minute in minutes[bisect_left(starts, start) : bisect_left(starts, end)]:
                if minute.close > level:
                    return minute.start
        return None

    def _minute_starts(self, symbol: str, day: date, minutes: list[MinuteBar]) -> list[datetime]:
        key = (symbol, day)
        starts = self._starts_cache.get(key)
        if starts is None or len(starts) != len(minutes):
            starts = self._starts_cache[key] = [minute.start for minute in minutes]
        return starts

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
    return datetime.combine(day, datetime.min.time(), NEW_YORK)
