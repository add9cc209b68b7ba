"""The intraday trigger's data, fetched once a minute at most: the session's minute bars from a cursor, and the
daily bars before the session once a session.

A look asks only for the minutes since the last one it has (that last one again, in case it was still forming),
so a minute of the session costs one request, not a download of every minute since the open.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from bot.broker.base import Broker
from strategies.bars import DailyBar, MinuteBar


class MinuteWatch:
    def __init__(self, broker: Broker, symbol: str, history_from: Callable[[date], date]) -> None:
        self._broker, self._symbol, self._history_from = broker, symbol, history_from
        self._prior: tuple[date, list[DailyBar]] | None = None
        self._minutes: tuple[date, list[MinuteBar]] | None = None

    def prior(self, previous: date) -> list[DailyBar]:
        """The completed daily bars up to ``previous`` (the session before today's), read once a session.

        An answer without ``previous``'s own bar is used but not kept: the next look asks again.
        """
        if self._prior is not None and self._prior[0] == previous:
            return self._prior[1]
        bars = self._broker.daily_bars(self._symbol, self._history_from(previous), previous)
        kept = [b for b in bars if b.session <= previous]
        self._prior = (previous, kept) if kept and kept[-1].session == previous else None
        return kept

    def minutes(self, session: date, opens_at: datetime, now: datetime) -> list[MinuteBar]:
        """Today's minute bars from the open to ``now``."""
        if self._minutes is None or self._minutes[0] != session:
            self._minutes = (session, [])
        known = self._minutes[1]
        since = known[-1].start if known else opens_at
        fresh = self._broker.minute_bars(self._symbol, since, now)
        if fresh:  # an empty answer drops nothing
            while known and known[-1].start >= since:
                known.pop()
            known += fresh
        return known
