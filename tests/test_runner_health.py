"""Passes that keep failing (broker down, invalid answers) fail `bot health` with the cause; one good pass clears it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import structlog

from bot.domain import NEW_YORK
from bot.engine.clock import BrokerClock
from bot.errors import BrokerDataInvalid
from bot.health import evaluate, problems_of, read_heartbeat
from bot.runner import FAILED_PASSES_UNHEALTHY, StopSignal, run_loop
from tests.processes import clean_environment, run_bot


class FlakyTrader:
    """A stand-in for Trader: its passes fail, and then succeed, as a script says."""

    def __init__(self, outcomes: list[bool], stop: StopSignal, data_dir: Path) -> None:
        self.outcomes, self.stop, self.data_dir = outcomes, stop, data_dir
        self.problems: dict[str, str] = {}
        self.now: datetime | None = None
        self.view = None  # what `bot status` describes: nothing here
        self.beats: list[dict[str, str]] = []

    def tick(self) -> datetime:
        beat = read_heartbeat(self.data_dir)
        self.beats.append(problems_of(beat) if beat else {})
        good = self.outcomes.pop(0)
        if not self.outcomes:
            self.stop.set("script done")  # this is the last pass
        if not good:
            raise BrokerDataInvalid("order brk-IWM-2024-entry-1: filled_qty=940 is outside 0..470")
        self.now = datetime(2024, 1, 2, 12, tzinfo=NEW_YORK)
        return self.now + timedelta(minutes=1)


def test_failing_passes_turn_health_bad_with_the_cause_and_a_good_pass_clears_it(tmp_path: Path) -> None:
    stop, data = StopSignal(), tmp_path / "data"
    failing = FAILED_PASSES_UNHEALTHY
    trader = FlakyTrader([False] * failing + [True], stop, data)
    run_loop(trader, stop=stop, data_dir=data, poll_seconds=0.001, log=structlog.get_logger())  # type: ignore[arg-type]
    # What each pass found in the heartbeat the one before it left, then what the good last pass left.
    assert [("broker" in beat) for beat in trader.beats[1:]] == [False] * (failing - 1) + [True]
    assert "filled_qty=940" in trader.beats[failing]["broker"]
    last = read_heartbeat(data)
    assert last is not None and problems_of(last) == {} and last["state"] == "ok"
    trader = FlakyTrader([False] * (failing + 1), stop := StopSignal(), data)
    run_loop(trader, stop=stop, data_dir=data, poll_seconds=0.001, log=structlog.get_logger())  # type: ignore[arg-type]
    health = run_bot("health", env=clean_environment(BOT_DATA_DIR=str(data)))
    assert health.returncode == 1
    assert f"broker: {failing + 1} passes in a row failed" in health.stdout and "filled_qty=940" in health.stdout


def test_bot_health_reads_its_two_settings_and_refuses_a_bad_one(tmp_path: Path) -> None:
    """`bot health` runs without the settings model; its settings still get a clear error."""
    data = tmp_path / "data"
    for bad in ("abc", "0", "-5", "nan", "86401"):
        refused = run_bot("health", env=clean_environment(BOT_DATA_DIR=str(data), BOT_HEARTBEAT_MAX_AGE_SECONDS=bad))
        assert refused.returncode == 2 and refused.stdout == ""
        assert refused.stderr.strip() == (
            f"error: BOT_HEARTBEAT_MAX_AGE_SECONDS={bad!r}: expected seconds, above 0 and at most 86400"
        )
    missing = run_bot("health", env=clean_environment(BOT_DATA_DIR=str(data), BOT_HEARTBEAT_MAX_AGE_SECONDS="60"))
    assert missing.returncode == 1 and "no heartbeat" in missing.stdout and str(data) in missing.stdout
    assert not data.exists()


class SleepyTrader:
    """A stand-in for Trader whose every pass names a decision point half an hour ahead on the broker's clock."""

    def __init__(self, clock: BrokerClock) -> None:
        self.clock, self.passes = clock, 0
        self.problems: dict[str, str] = {}
        self.now: datetime | None = None
        self.view = None
        self.decision_at: datetime | None = None

    def tick(self) -> datetime:
        self.passes += 1
        self.now = self.clock.for_pass()
        return self.now + timedelta(minutes=30)


class Beats:
    """An observer that stops the loop after a number of heartbeats refreshed between passes."""

    def __init__(self, stop: StopSignal, wall: list[float], advance_after: int, stop_after: int) -> None:
        self.stop, self.wall, self.idle = stop, wall, 0
        self.advance_after, self.stop_after = advance_after, stop_after

    def after_pass(self, beat: dict[str, str], trader: object, seconds: float | None) -> None:
        if seconds is None:
            self.idle += 1
            if self.idle == self.advance_after:
                self.wall[0] += 1800  # half an hour on the machine: the decision point is due
            if self.idle == self.stop_after:
                self.stop.set("enough")


def test_between_decision_points_the_loop_keeps_its_heartbeat_fresh_without_asking_the_broker(tmp_path: Path) -> None:
    wall, readings = [0.0], []
    start = datetime(2024, 1, 2, 10, tzinfo=NEW_YORK)

    def read() -> datetime:
        readings.append(wall[0])
        return start + timedelta(seconds=wall[0])

    clock = BrokerClock(read, monotonic=lambda: wall[0])
    clock.read()
    wall[0] = 60.0
    clock.read()  # two readings a minute apart at wall speed: the loop may count the time itself
    stop, data = StopSignal(), tmp_path / "data"
    trader = SleepyTrader(clock)
    beats = Beats(stop, wall, advance_after=5, stop_after=10)
    run_loop(trader, stop=stop, data_dir=data, poll_seconds=0.001, log=structlog.get_logger(), clock=clock,  # type: ignore[arg-type]
             observers=[beats])  # fmt: skip
    # One pass at the start, one when the half hour had passed; the wakes in between asked the broker nothing.
    assert trader.passes == 2 and len(readings) == 2 + 2
    last = read_heartbeat(data)
    assert last is not None and last["state"] == "ok" and last["last_ok_at"] > last["last_pass_at"]
    assert evaluate(last, max_age=300).ok
