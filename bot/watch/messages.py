"""Which events become notifications, the key that makes each one unique, and its words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.watch.outbox import Notification

NOTIFIED_EVENTS = (
    "fill",
    "trade_closed",
    "order_rejected",
    "order_attempts_exhausted",
    "position_changed_outside",
    "health_changed",
)


def _fill(f: Mapping[str, Any]) -> Notification:
    return Notification(
        key=f"fill:{f['client_order_id']}:{f['cum_qty']}",
        event="fill",
        title=f"Filled: {f['side']} {f['qty']} {f['symbol']} @ {f['price']}",
        body=f"Order {f['client_order_id']}: {f['cum_qty']} of {f['order_qty']} filled by {f['filled_at']}; "
        f"{f['benchmark']} was {f['benchmark_price']}.",
    )


def _trip(f: Mapping[str, Any]) -> str:
    """A re-entry's round trip (2, 3, ...) in keys and words; the season's first trip keeps the plain ones."""
    trip = int(f.get("trip", 1))
    return f":{trip}" if trip > 1 else ""


def _season(f: Mapping[str, Any]) -> str:
    trip = _trip(f)
    return f"season {f['season']}" + (f", round trip {trip[1:]}" if trip else "")


def _trade_closed(f: Mapping[str, Any]) -> Notification:
    verdict = "holds" if f["claim_holds"] else "fails"
    return Notification(
        key=f"trade_closed:{f['symbol']}:{f['season']}{_trip(f)}",
        event="trade_closed",
        title=f"Trade closed: {f['symbol']} {f['return_pct']} % vs {f['benchmark']} {f['benchmark_return_pct']} %",
        body=f"{_season(f).capitalize()}: bought {f['qty']} on {f['entry_date']} @ {f['entry_price']}, sold on "
        f"{f['exit_date']} @ {f['exit_price']}; P&L {f['realized_pnl']}, excess {f['excess_return_pct']} %. "
        f"The claim (at least double the benchmark's return) {verdict}.",
    )


def _rejected(f: Mapping[str, Any]) -> Notification:
    return Notification(
        key=f"order_rejected:{f['client_order_id']}",
        event="order_rejected",
        title=f"Order rejected: {f['client_order_id']}",
        body=f"The broker refused it ({f['rejection']}): {f['cause']}",
    )


def _exhausted(f: Mapping[str, Any]) -> Notification:
    return Notification(
        key=f"exhausted:{f['season']}:{f['intent']}{_trip(f)}",
        event="order_attempts_exhausted",
        title=f"Order attempts exhausted: {f['intent']} of {_season(f)}",
        body=f"{f['attempts']} attempts used; the bot stopped trying. `bot status` shows the orders.",
    )


def _outside(f: Mapping[str, Any]) -> Notification:
    return Notification(
        key=f"outside:{f['symbol']}:{f['observed_at']}",
        event="position_changed_outside",
        title=f"Position changed outside the bot: {f['symbol']}",
        body=f"The broker holds {f['broker_qty']}, the bot's orders {f['ledger_qty']} ({f['action']}).",
    )


def _health(f: Mapping[str, Any]) -> Notification:
    state = "healthy again" if f["healthy"] else "unhealthy"
    return Notification(key=f"health:{f['at']}", event="health_changed", title=f"Bot {state}", body=str(f["cause"]))


_BUILDERS = {
    "fill": _fill,
    "trade_closed": _trade_closed,
    "order_rejected": _rejected,
    "order_attempts_exhausted": _exhausted,
    "position_changed_outside": _outside,
    "health_changed": _health,
}


def notification_for(event: str, fields: Mapping[str, Any]) -> Notification | None:
    builder = _BUILDERS.get(event)
    return builder(fields) if builder else None
