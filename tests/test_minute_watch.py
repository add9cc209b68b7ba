"""The intraday trigger's minute cursor: each look asks only from the last minute it has, and loses none."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.domain import NEW_YORK
from bot.minute_watch import MinuteWatch
from strategies.bars import DailyBar, MinuteBar

OPEN = datetime(2023, 12, 13, 9, 30, tzinfo=NEW_YORK)
DAY = OPEN.date()


def minute(index: int, close: float) -> MinuteBar:
    return MinuteBar(OPEN + timedelta(minutes=index), close, close, close, close, 100.0)


class Tape:
    """A broker's minute bars as a test sets them, and the windows it was asked for."""

    def minute_bars(self, symbol: str, start: datetime, end: datetime) -> list[MinuteBar]:
        self.asked.append((start, end))
        return [b for b in self.bars if start <= b.start <= end]

    def __init__(self) -> None:
        self.bars: list[MinuteBar] = []
        self.asked: list[tuple[datetime, datetime]] = []
        self.daily: list[DailyBar] = []
        self.daily_asked = 0

    def daily_bars(self, symbol: str, start: date, end: date) -> list[DailyBar]:
        self.daily_asked += 1
        return [b for b in self.daily if start <= b.session <= end]


def test_each_look_asks_from_the_last_minute_it_has_and_refreshes_it() -> None:
    tape = Tape()
    watch = MinuteWatch(tape, "IWM", lambda day: day)  # type: ignore[arg-type]
    tape.bars = [minute(0, 199.0), minute(1, 199.5)]
    assert [b.close for b in watch.minutes(DAY, OPEN, OPEN + timedelta(minutes=2))] == [199.0, 199.5]
    tape.bars = [minute(0, 199.0), minute(1, 199.7), minute(2, 200.4)]  # minute 1 was still forming
    seen = watch.minutes(DAY, OPEN, OPEN + timedelta(minutes=3))
    assert [b.close for b in seen] == [199.0, 199.7, 200.4]
    assert tape.asked[1][0] == OPEN + timedelta(minutes=1)  # not from the open again
    tape.bars = []  # an empty answer (a data delay) keeps what it had
    assert [b.close for b in watch.minutes(DAY, OPEN, OPEN + timedelta(minutes=4))] == [199.0, 199.7, 200.4]
    tomorrow = OPEN + timedelta(days=1)
    assert watch.minutes(tomorrow.date(), tomorrow, tomorrow + timedelta(minutes=1)) == []
    assert tape.asked[-1][0] == tomorrow  # a new session starts from its open


def test_the_daily_bars_before_the_session_are_kept_only_once_they_hold_the_previous_session() -> None:
    tape = Tape()
    watch = MinuteWatch(tape, "IWM", lambda day: day - timedelta(days=10))  # type: ignore[arg-type]
    previous = date(2023, 12, 12)
    tape.daily = [DailyBar(date(2023, 12, 11), 198, 198, 198, 198, 1.0)]  # the 12th's bar is not there yet
    assert [b.session for b in watch.prior(previous)] == [date(2023, 12, 11)]
    tape.daily.append(DailyBar(previous, 199, 199, 199, 199, 1.0))
    assert [b.session for b in watch.prior(previous)] == [date(2023, 12, 11), previous]  # asked again
    assert watch.prior(previous)[-1].session == previous and tape.daily_asked == 2  # now kept
