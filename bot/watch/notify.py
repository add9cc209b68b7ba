"""Notifications through Apprise (``NOTIFY_URLS``) and the dead-man's-switch ping (``BOT_PING_URL``).

The loop only queues: a listener on the event stream writes each notifiable event to the outbox (keyed, so a
restart never queues it twice), and a background thread sends, so the loop never waits on a slow service.
Each URL is its own delivery: a failure on one is retried there without repeating the others. A crash
between a service accepting a message and the outbox recording it is the one moment one can repeat.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.engine.clock import monotonic
from bot.errors import ConfigError
from bot.health import evaluate
from bot.logs import listen
from bot.watch.messages import notification_for
from bot.watch.outbox import MAX_ATTEMPTS, Outbox

PING_TIMEOUT_SECONDS = 5.0
PING_EVERY_SECONDS = 60.0  # at most one ping a minute, however fast the passes come (the replay's are fast)
IDLE_WAKE_SECONDS = 1.0  # how often the sender looks for retries that came due


def _service(url: str) -> str:
    """What a URL may be called in logs: its scheme only, never a token."""
    return url.split("://", 1)[0] if "://" in url else "?"


def apprise_targets(urls: list[str]) -> list[Any]:
    """One Apprise object per URL, or ConfigError naming the entry that Apprise cannot send to."""
    import apprise

    quiet = logging.getLogger("apprise")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False  # its messages may quote a URL, token and all
    targets = []
    for number, url in enumerate(urls, start=1):
        target = apprise.Apprise()
        if not target.add(url):
            raise ConfigError(
                f"NOTIFY_URLS entry {number} ({_service(url)}://…) is not a URL Apprise can send to "
                "(see https://github.com/caronc/apprise/wiki for the URL of each service)"
            )
        targets.append(target)
    return targets


class HealthWatch:
    """Logs ``health_changed`` on the first pass and whenever ``bot health``'s verdict turns."""

    def __init__(self, log: Any, max_age: float) -> None:
        self.log, self.max_age = log, max_age
        self._healthy: bool | None = None

    def after_pass(self, beat: dict[str, Any], trader: Any, seconds: float | None) -> None:
        health = evaluate(beat, max_age=self.max_age)
        if health.ok != self._healthy:
            self._healthy = health.ok
            say = self.log.info if health.ok else self.log.warning
            say("health_changed", healthy=health.ok, cause=health.cause, at=beat["at"])


class Notifier:
    def __init__(self, ledger_path: Path, urls: list[str], ping_url: str, log: Any) -> None:
        self.log, self._ping_url, self._path = log, ping_url, ledger_path
        self._targets = apprise_targets(urls)
        self._services = [_service(url) for url in urls]
        self._queue = Outbox(ledger_path)
        self._lock = threading.Lock()
        self._wake, self._stop, self._ping_due = threading.Event(), threading.Event(), threading.Event()
        self._ping_failing = False
        self._last_ping = -PING_EVERY_SECONDS
        self._thread = threading.Thread(target=self._send_forever, name="notifier", daemon=True)
        self._unlisten = listen(self._on_event) if self._targets else None
        self._thread.start()

    def close(self, wait_seconds: float = 10.0) -> None:
        """Stop queueing, give the sender one last round, and stop it."""
        if self._unlisten is not None:
            self._unlisten()
        self._stop.set()
        self._wake.set()
        self._thread.join(wait_seconds)
        with self._lock:
            self._queue.close()

    # The loop's side: queue and return.

    def _on_event(self, event: str, fields: Mapping[str, Any]) -> None:
        note = notification_for(event, fields)
        if note is None:
            return
        healthy = bool(fields["healthy"]) if event == "health_changed" else None
        with self._lock:
            if healthy is not None and healthy == self._queue.last_health():
                return  # the services were told this already (a restart repeats the first verdict)
            for number in range(len(self._targets)):
                self._queue.queue(replace(note, key=f"{number + 1}:{note.key}"), healthy=healthy)
        self._wake.set()

    def after_pass(self, beat: dict[str, Any], trader: Any, seconds: float | None) -> None:
        if self._ping_url and beat.get("state") == "ok" and monotonic() - self._last_ping >= PING_EVERY_SECONDS:
            self._last_ping = monotonic()
            self._ping_due.set()
            self._wake.set()

    # The sender's side.

    def _send_forever(self) -> None:
        outbox = Outbox(self._path)
        try:
            while True:
                self._deliver(outbox)
                if self._ping_due.is_set():
                    self._ping_due.clear()
                    self._ping()
                if self._stop.is_set():
                    return
                self._wake.wait(IDLE_WAKE_SECONDS)
                self._wake.clear()
        finally:
            outbox.close()

    def _deliver(self, outbox: Outbox) -> None:
        for note in outbox.due():
            number = int(note.key.split(":", 1)[0])
            target, service = self._targets[number - 1], self._services[number - 1]
            try:
                sent = bool(target.notify(title=note.title, body=note.body))
            except Exception as exc:  # a plug-in's own failure: counted like a refusal
                sent, error = False, exc.__class__.__name__
            else:
                error = "" if sent else "the service did not accept it"
            if sent:
                outbox.mark_sent(note.key)
                self.log.info("notification_sent", key=note.key, service=service)
                continue
            attempts = outbox.mark_failed(note.key, error)
            self.log.warning(
                "notification_failed",
                key=note.key,
                service=service,
                attempts=attempts,
                action="gave_up" if attempts >= MAX_ATTEMPTS else "will_retry",
            )

    def _ping(self) -> None:
        import requests

        try:
            requests.get(self._ping_url, timeout=PING_TIMEOUT_SECONDS).raise_for_status()
        except requests.RequestException as exc:
            if not self._ping_failing:
                status = exc.response.status_code if exc.response is not None else None
                self.log.warning("ping_failed", kind=exc.__class__.__name__, status=status, action="will_retry")
            self._ping_failing = True
            return
        if self._ping_failing:
            self.log.info("ping_recovered")
        self._ping_failing = False
