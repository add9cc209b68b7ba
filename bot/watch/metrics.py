"""Prometheus metrics (``BOT_METRICS_PORT``): what the bot holds, how its passes and requests go, and its health.

Names and units follow Prometheus' conventions (``_seconds``, ``_dollars``, ``_ratio``, ``_total`` for
counters). Values come from each pass's heartbeat, what the trader saw, the ledger, the adapter's requests and
the ``retry`` events, all updated on the loop's thread; a scrape only reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

from bot.health import evaluate
from bot.logs import listen
from strategies.params import BreakoutParams

# Path segments kept as they are; anything else (a symbol, an order id) becomes "{}" so that routes stay few.
ROUTE_WORDS = frozenset(
    {"v1", "v1beta1", "v2", "clock", "account", "configurations", "calendar", "positions", "orders",
     "orders:by_client_order_id", "stocks", "bars", "trades", "quotes", "latest", "snapshots", "corporate-actions"}
)  # fmt: skip
CYCLE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)


def route_of(url: str) -> str:
    parts = urlsplit(url).path.strip("/").split("/")
    return "/" + "/".join(part if part in ROUTE_WORDS else "{}" for part in parts if part)


def _timestamp(value: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(value)).timestamp() if value else None
    except ValueError:
        return None


class Metrics:
    def __init__(self, params: BreakoutParams, max_age: float) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # the *_created series only double the output
        self.params, self.max_age = params, max_age
        self.registry = CollectorRegistry()
        r, symbol = self.registry, params.symbol
        self.position_shares = Gauge("bot_position_shares", "Shares the broker holds", ["symbol"], registry=r)
        self.position_value = Gauge(
            "bot_position_value_dollars", "The bot's position at the last settled close", ["symbol"], registry=r
        )
        self.equity = Gauge("bot_account_equity_dollars", "Account equity as the broker reports it", registry=r)
        self.trade_return = Gauge(
            "bot_open_trade_return_ratio",
            "Return of the open trade at the last settled close: leg=symbol, benchmark or excess",
            ["leg"],
            registry=r,
        )
        self.orders = Gauge("bot_orders", "The bot's orders in the ledger", ["intent", "status"], registry=r)
        self.fills = Gauge("bot_fills", "Fills recorded in the ledger", ["intent"], registry=r)
        self.requests = Counter(
            "bot_broker_requests_total", "HTTP requests to the broker", ["method", "route", "code"], registry=r
        )
        self.request_errors = Counter(
            "bot_broker_request_errors_total",
            "Failed requests: an HTTP error other than 404 (found nothing), or code none for no answer",
            ["method", "route", "code"],
            registry=r,
        )
        self.retries = Counter("bot_broker_retries_total", "Retried broker operations", ["operation"], registry=r)
        self.cycle = Histogram("bot_cycle_duration_seconds", "Wall time of one pass", buckets=CYCLE_BUCKETS, registry=r)
        self.last_ok = Gauge(
            "bot_last_successful_cycle_timestamp_seconds", "Unix time of the last successful pass", registry=r
        )
        self.next_decision = Gauge(
            "bot_next_decision_timestamp_seconds", "Unix time (broker clock) of the next decision point", registry=r
        )
        self.healthy = Gauge("bot_healthy", "1 while `bot health` passes, else 0", registry=r)
        self.position_shares.labels(symbol).set(0)
        self._unlisten = listen(self._on_event)

    def close(self) -> None:
        self._unlisten()

    def observe_request(self, method: str, url: str, status: int | None) -> None:
        route, code = route_of(url), str(status) if status is not None else "none"
        self.requests.labels(method, route, code).inc()
        if status is None or (status >= 400 and status != 404):  # 404: a lookup that found nothing
            self.request_errors.labels(method, route, code).inc()

    def _on_event(self, event: str, fields: Mapping[str, Any]) -> None:
        if event == "retry":
            self.retries.labels(str(fields.get("operation", "?"))).inc()

    def after_pass(self, beat: dict[str, Any], trader: Any, seconds: float | None) -> None:
        if seconds is not None:
            self.cycle.observe(seconds)
        self.healthy.set(1 if evaluate(beat, max_age=self.max_age).ok else 0)
        for gauge, field in ((self.last_ok, "last_ok_at"), (self.next_decision, "next_action_at")):
            stamp = _timestamp(beat.get(field))
            if stamp is not None:
                gauge.set(stamp)
        if beat.get("state") != "ok" or trader.view is None:
            return
        view, symbol = trader.view, self.params.symbol
        self.position_shares.labels(symbol).set(float(view.broker_qty))
        self.equity.set(float(view.equity))
        self._from_ledger(trader.ledger, view.trade)

    def _from_ledger(self, ledger: Any, trade: Any) -> None:
        self.orders.clear()
        for order in ledger.orders():
            self.orders.labels(order.intent, order.status).inc()
        self.fills.clear()
        for fill in ledger.fills():
            self.fills.labels(fill.intent).inc()
        snapshots = ledger.snapshots()
        last = snapshots[-1] if snapshots else None
        self.position_value.labels(self.params.symbol).set(float(last.position_value) if last else 0.0)
        self.trade_return.clear()
        if trade is not None and last is not None and last.position_qty > 0:
            cost = last.position_qty * trade.entry_price
            mine, theirs = last.position_value / cost - 1, last.benchmark_value / cost - 1
            for leg, value in (("symbol", mine), ("benchmark", theirs), ("excess", mine - theirs)):
                self.trade_return.labels(leg).set(float(value))
