"""The live loop's time: one clock counted at wall speed between readings, and wakes only when something is due."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.domain import NEW_YORK, Session
from bot.engine.clock import RESYNC_SECONDS, BrokerClock
from bot.engine.schedule import FOLLOW_CLOSELY, FOLLOW_SLOWLY, next_wake, order_wake
from bot.local_exchange.clock import AcceleratedClock
from bot.market.calendar import nyse_sessions, session_for
from bot.season_calendar import CalendarCache, TradingCalendar
from strategies.params import Trigger

T0 = datetime(2024, 6, 27, 10, 0, tzinfo=NEW_YORK)
MINUTE = timedelta(minutes=1)


def et(day: int, hour: int, minute: int = 0, month: int = 6) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=NEW_YORK)


def sessions(start: date, end: date) -> list[Session]:
    return [session_for(day) for day in nyse_sessions(start, end)]


CALENDAR = TradingCalendar(sessions(date(2024, 6, 1), date(2024, 7, 31)))


class Readings:
    """A broker clock and the machine's monotonic clock, both moved by the test."""

    def __init__(self) -> None:
        self.broker, self.wall, self.asked = T0, 0.0, 0

    def read(self) -> datetime:
        self.asked += 1
        return self.broker

    def clock(self) -> BrokerClock:
        return BrokerClock(self.read, monotonic=lambda: self.wall)


@pytest.mark.parametrize(
    ("wall_seconds", "broker_seconds", "wall_speed"),
    [
        (60, 60, True),  # Alpaca
        (60, 61.5, True),  # request latency, coarse timestamps
        (60, 70, False),  # a replay running a little fast
        (60, 3600, False),  # the accelerated local exchange
        (60, 0, False),  # a manual clock that has not moved
        (0.5, 0.5, False),  # too close together to tell
        (1.5, 0, False),  # a clock held for a second and a half (the demo's lockstep) is not "within 2 s"
        (29, 29, False),  # under WALL_SPEED_MIN_SPAN: not yet known
    ],
    ids=["alpaca", "latency", "fast", "accelerated", "manual", "too-soon", "held", "under-the-span"],
)
def test_two_readings_tell_whether_the_clock_keeps_wall_speed(
    wall_seconds: float, broker_seconds: float, wall_speed: bool
) -> None:
    readings = Readings()
    clock = readings.clock()
    clock.read()
    readings.wall += wall_seconds
    readings.broker += timedelta(seconds=broker_seconds)
    clock.read()
    assert clock.at_wall_speed is wall_speed
    assert (clock.now() is not None) is wall_speed


def test_a_wall_speed_clock_is_counted_on_and_read_again_only_hourly() -> None:
    readings = Readings()
    clock = readings.clock()
    clock.read()
    readings.wall, readings.broker = 60.0, T0 + timedelta(seconds=60)
    clock.read()
    readings.wall += 1800  # half an hour on the machine, nobody asks the broker
    assert clock.now() == T0 + timedelta(seconds=1860) and readings.asked == 2
    wake = T0 + timedelta(hours=6)
    assert clock.wall_seconds_until(wake) == RESYNC_SECONDS - 1800  # sleep no longer than the next re-reading
    assert not clock.resync_due()
    readings.wall += 1800
    assert clock.resync_due()
    readings.broker = T0 + timedelta(seconds=60 + 3600)
    clock.read()
    assert clock.at_wall_speed and not clock.resync_due()
    assert clock.wall_seconds_until(T0 + timedelta(seconds=60 + 3600 + 90)) == 90


def test_readings_close_together_at_wall_speed_keep_the_counting() -> None:
    readings = Readings()
    clock = readings.clock()
    clock.read()
    readings.wall, readings.broker = 60.0, T0 + timedelta(seconds=60)
    clock.read()
    readings.wall, readings.broker = 65.0, T0 + timedelta(seconds=65)  # a pass retried five seconds later
    clock.read()
    assert clock.at_wall_speed and clock.now() == T0 + timedelta(seconds=65)


def test_a_jump_ends_the_counting_and_a_reading_taken_for_a_pass_is_used_once() -> None:
    readings = Readings()
    clock = readings.clock()
    clock.read()
    readings.wall, readings.broker = 60.0, T0 + timedelta(seconds=60)
    clock.read()
    readings.wall, readings.broker = 60.2, T0 + timedelta(days=3)  # the host slept, or a test moved the clock
    clock.read(for_pass=True)
    assert not clock.at_wall_speed and clock.wall_seconds_until(T0 + timedelta(days=4)) is None
    assert clock.for_pass() == T0 + timedelta(days=3) and readings.asked == 3  # the loop's reading, not a new one
    clock.for_pass()
    assert readings.asked == 4


@pytest.mark.parametrize(
    ("now", "trigger", "working", "fills_priced_at", "blocked", "retry", "wake"),
    [
        (et(27, 10), Trigger.CLOSE, [], None, False, False, et(27, 19)),  # flat or holding: the evening's decision
        (et(27, 16, 1), Trigger.CLOSE, [], None, False, False, et(27, 19)),  # the bar settles before: one pass a day
        (et(27, 19), Trigger.CLOSE, [], None, False, False, et(28, 19)),  # the next evening
        (et(28, 19), Trigger.CLOSE, [], None, False, False, et(1, 19, month=7)),  # over the weekend
        (et(27, 19), Trigger.CLOSE, [], None, False, True, et(28, 9, 31)),  # an unfilled entry: the next open
        (et(27, 10), Trigger.INTRADAY, [], None, False, False, et(27, 10, 1)),  # intraday: each minute of the session
        (et(27, 19, 5), Trigger.INTRADAY, [], None, False, False, et(28, 9, 31)),  # not overnight
        (et(27, 19, 1), Trigger.CLOSE, [("opg", date(2024, 6, 28))], None, False, False, et(28, 9, 31)),  # opg
        (et(27, 15, 45), Trigger.CLOSE, [("cls", date(2024, 6, 27))], None, False, False, et(27, 16, 1)),
        (et(27, 10), Trigger.CLOSE, [("day", date(2024, 6, 27))], None, False, False, et(27, 10, 1)),
        (et(27, 10, 1), Trigger.CLOSE, [], et(27, 10, 21), False, False, et(27, 10, 21)),  # a fill: when priced
        (et(27, 16, 20), Trigger.CLOSE, [], et(27, 16, 15), False, False, et(27, 16, 25)),  # prices late: 5 min on
        (et(27, 17), Trigger.CLOSE, [], None, True, False, et(27, 17, 15)),  # blocked: look again for the clearing
        (et(3, 12, 30, month=7), Trigger.CLOSE, [], None, False, False, et(3, 19, month=7)),  # an early close
    ],
    ids=[
        "session",
        "close",
        "evening",
        "weekend",
        "entry-retry",
        "intraday",
        "intraday-night",
        "opg",
        "cls",
        "day",
        "fill-pricing",
        "fill-prices-late",
        "blocked",
        "early-close",
    ],
)
def test_the_next_wake(
    now: datetime,
    trigger: Trigger,
    working: list[tuple[str, date]],
    fills_priced_at: datetime | None,
    blocked: bool,
    retry: bool,
    wake: datetime,
) -> None:
    assert next_wake(now, CALENDAR, trigger, working, fills_priced_at, blocked, retry) == wake


@pytest.mark.parametrize(
    ("now", "tif", "day", "wake"),
    [
        (et(27, 19, 1), "opg", date(2024, 6, 28), et(28, 9, 31)),
        (et(28, 9, 31), "opg", date(2024, 6, 28), et(28, 9, 32)),  # overdue: followed closely
        (et(28, 9, 31) + FOLLOW_CLOSELY, "opg", date(2024, 6, 28), et(28, 9, 31) + FOLLOW_CLOSELY + FOLLOW_SLOWLY),
        (et(27, 19, 1), "day", date(2024, 6, 28), et(28, 9, 31)),  # a day order sent after the close
        (et(28, 16, 5), "day", date(2024, 6, 28), et(28, 16, 6)),
        (et(28, 12), "cls", None, et(28, 12, 1)),  # a session the calendar does not know
    ],
    ids=["opg-overnight", "opg-overdue", "opg-slow", "day-next-session", "day-after-close", "unknown-session"],
)
def test_a_working_order_is_looked_at_when_it_can_have_changed(
    now: datetime, tif: str, day: date | None, wake: datetime
) -> None:
    assert order_wake(now, CALENDAR, tif, day) == wake


def test_the_calendar_is_loaded_once_and_only_its_next_month_reread_each_day() -> None:
    asked: list[tuple[date, date]] = []
    closed = {date(2024, 7, 5)}  # an unscheduled closure announced after the first load

    def fetch(start: date, end: date) -> list[Session]:
        asked.append((start, end))
        every = sessions(start, end)
        return every if len(asked) == 1 else [s for s in every if s.day not in closed]

    cache = CalendarCache(fetch)
    first = cache.at(et(27, 10))
    assert first.session(date(2024, 7, 5)) is not None
    assert cache.at(et(27, 18)) is first and len(asked) == 1  # the same day: nothing asked
    later = cache.at(et(28, 10))
    assert asked[1] == (date(2024, 6, 28), date(2024, 7, 28))
    assert later.session(date(2024, 7, 5)) is None and later.session(date(2024, 7, 3)) is not None
    assert later.session(date(2024, 6, 3)) is not None  # the past is kept
    cache.at(datetime(2025, 12, 5, 10, tzinfo=NEW_YORK))  # within two months of the span's end: all again
    assert asked[2] == (date(2024, 10, 31), date(2027, 1, 31))


def test_the_demo_replay_in_lockstep_never_passes_a_moment_the_bot_named() -> None:
    days = [date(2024, 6, 27), date(2024, 6, 28), date(2024, 7, 1)]
    wall = [0.0]
    replay = AcceleratedClock([session_for(d) for d in days], 1.0, lambda: wall[0], lockstep=True)
    start = datetime(2024, 6, 27, 0, 0, tzinfo=NEW_YORK)
    wall[0] = 0.5  # half a session cycle of wall time, before the bot's first pass
    assert replay.now() == start and not replay.finished  # held where the replay starts
    replay.hold_at(et(27, 16, 17))
    # moved on, it catches up with its pace: 0.5 of a cycle is 35 % of the way from the open (0.15) to the close
    assert replay.now() == et(27, 9, 30) + (et(27, 16) - et(27, 9, 30)) * ((0.5 - 0.15) / 0.40)
    wall[0] = 10.0  # far past the end of the replay in wall time: still held at the bot's decision point
    assert replay.now() == et(27, 16, 17) and not replay.finished
    replay.hold_at(et(28, 9, 31))
    assert replay.now() == et(28, 9, 31)  # on to the next decision point, and no further
    replay.hold_at(et(28, 9, 0))  # a hold behind what it has shown never takes the time back
    assert replay.now() == et(28, 9, 31)
    replay.hold_at(None)
    assert replay.finished and replay.now() > et(1, 19, month=7)
