"""The watch port (``BOT_METRICS_PORT``): ``/metrics`` for Prometheus, ``/`` the read-only status page.

Served from a background thread with the standard library's WSGI server, as prometheus_client's own
``start_http_server`` does, with the page beside the metrics. Bound to 127.0.0.1 unless
``BOT_METRICS_HOST`` says otherwise. Only GET; nothing on it changes anything.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from bot.chart import card_points, hold_chart_svg
from bot.config import Settings
from bot.engine.clock import wall_now
from bot.errors import BotError, ConfigError
from bot.ledger import Ledger
from bot.report import ledger_scorecard
from bot.watch.metrics import Metrics
from bot.watch.page import render_page
from bot.watch.status import collect

StartResponse = Callable[..., Any]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged: the bot's output is its JSON events."""


class WatchServer:
    def __init__(self, settings: Settings, ledger_path: Path, metrics: Metrics) -> None:
        self.settings, self.ledger_path = settings, ledger_path
        self._metrics_app = make_wsgi_app(metrics.registry)
        host, port = settings.runtime.metrics_host, settings.runtime.metrics_port or 0
        try:
            self._server = make_server(host, port, self._app, ThreadingWSGIServer, handler_class=_QuietHandler)
        except OSError as exc:
            raise ConfigError(
                f"BOT_METRICS_PORT={port} on BOT_METRICS_HOST={host}: cannot listen ({exc.strerror or exc}); "
                "pick a free port"
            ) from None
        self.port = int(self._server.server_port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="watch-server", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", "/"), environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return self._answer(start_response, "405 Method Not Allowed", "text/plain", b"read-only\n")
        if path == "/metrics":
            return self._metrics_app(environ, start_response)  # type: ignore[no-any-return]
        try:
            if path == "/":
                document = collect(self.settings, self.ledger_path)
                document["generated_at"] = wall_now().isoformat()
                page = render_page(document).encode()
                return self._answer(start_response, "200 OK", "text/html; charset=utf-8", page)
            if path == "/chart.svg":
                return self._answer(start_response, "200 OK", "image/svg+xml", self._chart())
        except (BotError, OSError, sqlite3.Error) as exc:  # the ledger busy or unreadable: say so, stay up
            text = f"status unavailable: {exc}\n".encode()
            return self._answer(start_response, "503 Service Unavailable", "text/plain", text)
        return self._answer(start_response, "404 Not Found", "text/plain", b"not found: try / or /metrics\n")

    def _chart(self) -> bytes:
        params = self.settings.strategy.params()
        ledger = Ledger(self.ledger_path)
        try:
            card = ledger_scorecard(ledger, params)
        finally:
            ledger.close()
        points, spans = card_points(card)
        return hold_chart_svg(points, spans, params.symbol, params.benchmark)

    @staticmethod
    def _answer(start_response: StartResponse, status: str, kind: str, body: bytes) -> list[bytes]:
        start_response(
            status,
            [("Content-Type", kind), ("Content-Length", str(len(body))), ("Cache-Control", "no-store"),
             ("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'")],
        )  # fmt: skip
        return [body]
