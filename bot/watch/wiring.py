"""Starting and stopping what watches the run loop: health changes, metrics and the page, notifications."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.broker.bounded import RequestObserver
from bot.config import Settings
from bot.runner import PassObserver
from bot.watch.notify import HealthWatch


class Watch:
    """The observers of one ``bot run``; each part is off unless its setting is set."""

    def __init__(self, settings: Settings, ledger_path: Path, log: Any) -> None:
        self.settings, self.ledger_path, self.log = settings, ledger_path, log
        runtime = settings.runtime
        self.observers: list[PassObserver] = [HealthWatch(log, runtime.heartbeat_max_age_seconds)]
        self.observe_request: RequestObserver | None = None
        self._closers: list[Any] = []
        if runtime.metrics_port is not None:
            from bot.watch.metrics import Metrics
            from bot.watch.server import WatchServer

            metrics = Metrics(settings.strategy.params(), runtime.heartbeat_max_age_seconds)
            self._closers.append(metrics.close)
            server = WatchServer(settings, ledger_path, metrics)
            self._closers.append(server.close)
            self.observers.append(metrics)
            self.observe_request = metrics.observe_request
            log.info("watch_port_open", host=runtime.metrics_host, port=server.port, paths=["/", "/metrics"])

    def start_notifications(self) -> None:
        """After the ledger exists (the outbox lives in it), before any order."""
        runtime = self.settings.runtime
        urls, ping = runtime.notification_urls(), runtime.ping_url.get_secret_value()
        if not urls and not ping:
            return
        from bot.watch.notify import Notifier

        notifier = Notifier(self.ledger_path, urls, ping, self.log)
        self._closers.append(notifier.close)
        self.observers.append(notifier)
        self.log.info("notifications_on", services=len(urls), ping=bool(ping))

    def close(self) -> None:
        for close in reversed(self._closers):
            close()
        self._closers.clear()
