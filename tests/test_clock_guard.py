"""The broker's clock: a jump is refused once and believed when the next reading confirms it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.broker.clock_guard import ClockGuard
from bot.domain import NEW_YORK
from bot.errors import BrokerDataInvalid

T0 = datetime(2024, 1, 2, 10, 0, tzinfo=NEW_YORK)


def guard_at(wall: list[float]) -> ClockGuard:
    return ClockGuard(monotonic=lambda: wall[0])


@pytest.mark.parametrize(
    ("wall_seconds", "reading", "accepted"),
    [
        (60, T0 + timedelta(minutes=1), True),  # at wall speed
        (60, T0 + timedelta(days=6), True),  # a replay running fast, inside the bound
        (60, T0 + timedelta(days=200), False),  # one answer 200 days ahead
        (60, T0 - timedelta(minutes=5), False),  # a step back
        (10 * 86400, T0 + timedelta(days=12), True),  # ten days of wall time later: plausible
    ],
    ids=["wall-speed", "fast-replay", "200-days", "step-back", "after-a-long-pause"],
)
def test_a_reading_after_an_accepted_one(wall_seconds: float, reading: datetime, accepted: bool) -> None:
    wall = [0.0]
    guard = guard_at(wall)
    guard.check(T0)
    wall[0] = wall_seconds
    if accepted:
        assert guard.check(reading) == reading
    else:
        with pytest.raises(BrokerDataInvalid, match="jumped"):
            guard.check(reading)


def test_a_jump_confirmed_by_the_next_reading_is_believed_and_a_lone_one_is_not() -> None:
    wall = [0.0]
    guard = guard_at(wall)
    guard.check(T0)
    with pytest.raises(BrokerDataInvalid):
        guard.check(T0 + timedelta(days=200))
    assert guard.check(T0 + timedelta(minutes=1)) == T0 + timedelta(minutes=1)  # the lone jump is forgotten
    with pytest.raises(BrokerDataInvalid):
        guard.check(T0 + timedelta(days=30))
    assert guard.check(T0 + timedelta(days=30, seconds=5)) == T0 + timedelta(days=30, seconds=5)
