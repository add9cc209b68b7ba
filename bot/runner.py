"""The run loop: tick, write the heartbeat, sleep until the next decision point, stop cleanly.

Sleeping is in broker time: the loop sleeps until the next decision point the trader names, but never
longer than ``BOT_POLL_SECONDS`` of wall time before it asks the broker's clock again. Against Alpaca
that is just a long sleep; against the accelerated local exchange it is a short poll. Either way the
broker's clock, not the machine's, decides what is due.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from bot.errors import BrokerError, CredentialsRefused, ShutdownRequested
from bot.trader import Trader

HEARTBEAT_FILE = "heartbeat.json"
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


def write_heartbeat(data_dir: Path, **fields: Any) -> None:
    """Atomically replace the heartbeat file that ``bot health`` reads."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = data_dir / HEARTBEAT_FILE
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(json.dumps({"at": datetime.now(UTC).isoformat(), **fields}))
    try:
        temporary.replace(target)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


def run_loop(
    trader: Trader,
    *,
    stop: StopSignal,
    data_dir: Path,
    poll_seconds: float,
    log: Any,
    once: bool = False,
    finished: Callable[[], bool] = lambda: False,
) -> int:
    """Run until stopped; return the process exit code."""
    failed = 0
    while not stop.is_set:
        try:
            with stop.interruptible():
                wake_at = trader.tick()
            now = trader.now or wake_at
        except ShutdownRequested:
            break
        except CredentialsRefused as exc:
            log.error("credentials_refused", cause=str(exc), action="stopped")
            write_heartbeat(data_dir, state="stopped", problems={"credentials": str(exc)})
            raise
        except BrokerError as exc:
            failed += 1
            log.error("error", cause=str(exc), kind=exc.__class__.__name__, action="will_retry")
            if once:
                return exc.exit_code
            problems = dict(trader.problems)
            if failed >= FAILED_PASSES_UNHEALTHY:
                problems["broker"] = f"{failed} passes in a row failed; the last: {exc}"
            write_heartbeat(data_dir, state="degraded", failed_passes=failed, problems=problems)
            stop.wait(min(ERROR_BACKOFF_SECONDS, poll_seconds))
            continue
        failed = 0
        write_heartbeat(
            data_dir,
            state="ok",
            broker_time=now.isoformat(),
            next_wake=wake_at.isoformat(),
            problems=trader.problems,
        )
        if once or finished():
            break
        stop.wait(min(max((wake_at - now).total_seconds(), 0.0), poll_seconds))
    return 0


def read_heartbeat(data_dir: Path) -> tuple[float, dict[str, str]] | None:
    """The heartbeat's age in seconds and the problems it reports, or None without a readable one."""
    target = data_dir / HEARTBEAT_FILE
    try:
        beat = json.loads(target.read_text())
        stamp = datetime.fromisoformat(beat["at"])
        problems = {str(k): str(v) for k, v in (beat.get("problems") or {}).items()}
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return None
    return (datetime.now(UTC) - stamp).total_seconds(), problems
