"""The run loop: tick, write the heartbeat, sleep until the next decision point, stop cleanly.

Sleeping is in broker time: the loop sleeps until the next decision point the trader names. Against a clock
that keeps wall speed (Alpaca's) it counts down on the machine's clock and only refreshes the heartbeat every
``BOT_POLL_SECONDS``, asking the broker nothing until the next decision point (bot/engine/clock.py); against
the accelerated local exchange it reads the broker's clock every ``BOT_POLL_SECONDS`` instead. Either way the
broker's clock, not the machine's, decides what is due.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from bot.engine.clock import BrokerClock, monotonic, wall_now
from bot.errors import BrokerError, CredentialsRefused, ShutdownRequested
from bot.health import write_heartbeat
from bot.trader import Trader
from bot.watch.next_action import describe

ERROR_BACKOFF_SECONDS = 5.0
FAILED_PASSES_UNHEALTHY = 3  # this many passes in a row failing (broker down, invalid answers) fail bot health


class StopSignal:
    """Set by SIGTERM/SIGINT (or a test); every wait in the loop and in retries watches it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: str | None = None
        self._interruptible = False

    def set(self, reason: str) -> None:
        self.reason = reason
        self._event.set()

    @property
    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        return self._event.wait(max(seconds, 0.0))

    def sleep_or_raise(self, seconds: float) -> None:
        """A sleep for retry backoff that gives way to shutdown."""
        if self._event.wait(max(seconds, 0.0)):
            raise ShutdownRequested(self.reason or "stop requested")

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        """Inside, SIGTERM/SIGINT also raise ShutdownRequested at once, even out of a blocked request.

        Safe because a pass may stop at any point: the ledger writes are transactions and the next start
        reconciles with the broker (the SIGKILL suite proves it).
        """
        self._interruptible = True
        try:
            yield
        finally:
            self._interruptible = False

    def install(self) -> None:
        def handler(signum: int, _: FrameType | None) -> None:
            self.set(signal.Signals(signum).name)
            if self._interruptible:
                self._interruptible = False
                raise ShutdownRequested(self.reason or "stop requested")

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)


class PassObserver(Protocol):
    """Told about every pass (metrics, notifications, the dead-man's-switch ping); must not block.

    ``seconds`` is how long the pass took, or None for a heartbeat refreshed between passes.
    """

    def after_pass(self, beat: dict[str, Any], trader: Trader, seconds: float | None) -> None: ...


def _next_action(trader: Trader) -> dict[str, str | None]:
    view = getattr(trader, "view", None)
    if view is None:
        return {}
    action = describe(view)
    return {"next_action": action.text, "next_action_at": action.at.isoformat() if action.at else None}


def run_loop(
    trader: Trader,
    *,
    stop: StopSignal,
    data_dir: Path,
    poll_seconds: float,
    log: Any,
    once: bool = False,
    finished: Callable[[], bool] = lambda: False,
    observers: Sequence[PassObserver] = (),
    clock: BrokerClock | None = None,
    lockstep: Callable[[datetime], None] | None = None,
) -> int:
    """Run until stopped; return the process exit code.

    With ``clock`` (the one the trader reads), a pass runs only at the decision points the trader names and
    the wakes in between only refresh the heartbeat; without it, every wake is a pass. ``lockstep`` is told the
    next moment a pass must see after each pass (the demo holds its replay there).
    """
    failed = 0
    kept: dict[str, Any] = {}  # what the last good pass said, shown while later passes fail
    wake_at: datetime | None = None

    def beat(state: str, started: float | None, **fields: Any) -> None:
        heartbeat = {"at": wall_now().isoformat(), "state": state, **kept, **fields}
        write_heartbeat(data_dir, heartbeat)
        seconds = None if started is None else monotonic() - started
        for observer in observers:
            try:
                observer.after_pass(heartbeat, trader, seconds)
            except Exception as exc:  # watching must never stop trading
                log.warning("observer_failed", observer=type(observer).__name__, cause=str(exc))

    while not stop.is_set:
        started = monotonic()
        try:
            with stop.interruptible():
                left = _until_due(clock, wake_at)
                if left is not None and left > 0 and clock is not None:
                    # Nothing is due and nothing failed: the loop is well, so say so without a pass.
                    kept |= {"last_ok_at": wall_now().isoformat(), "broker_time": _iso(clock.latest())}
                    beat("ok", None, problems=dict(trader.problems))
                    if finished():
                        break
                    stop.wait(min(left, poll_seconds))
                    continue
                wake_at = trader.tick()
            now = trader.now or wake_at
        except ShutdownRequested:
            break
        except CredentialsRefused as exc:
            log.error("credentials_refused", cause=str(exc), action="stopped")
            beat("stopped", started, problems={"credentials": str(exc)})
            raise
        except BrokerError as exc:
            failed += 1
            log.error("error", cause=str(exc), kind=exc.__class__.__name__, action="will_retry")
            if once:
                return exc.exit_code
            problems = dict(trader.problems)
            if failed >= FAILED_PASSES_UNHEALTHY:
                problems["broker"] = f"{failed} passes in a row failed; the last: {exc}"
            beat("degraded", started, failed_passes=failed, last_error=str(exc), problems=problems)
            stop.wait(min(ERROR_BACKOFF_SECONDS, poll_seconds))
            continue
        failed = 0
        if lockstep is not None and trader.decision_at is not None:
            lockstep(trader.decision_at)
        passed_at = wall_now().isoformat()
        kept = {
            "last_ok_at": passed_at,
            "last_pass_at": passed_at,
            "broker_time": now.isoformat(),
            "next_wake": wake_at.isoformat(),
            **_next_action(trader),
        }
        beat("ok", started, problems=dict(trader.problems))
        if once or finished():
            break
        left = clock.wall_seconds_until(wake_at) if clock is not None else None
        stop.wait(min(max((wake_at - now).total_seconds(), 0.0) if left is None else left, poll_seconds))
    return 0


def _until_due(clock: BrokerClock | None, wake_at: datetime | None) -> float | None:
    """Seconds until the next pass is due (0: now); None when there is no clock to tell by, so always due.

    A wall-speed clock is counted on without the broker, and read only for its hourly re-reading; any other
    clock is read (one request, not a whole pass), and that reading is the next pass's time.
    """
    if clock is None or wake_at is None:
        return None
    if clock.resync_due():
        clock.read()
    left = clock.wall_seconds_until(wake_at)
    if left is None:
        left = max((wake_at - clock.read(for_pass=True)).total_seconds(), 0.0)
    return left


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
