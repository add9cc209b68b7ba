"""``bot status``: what the bot holds, what it last decided and why, what it will do next, and its health.

Built from the ledger and the heartbeat the run loop leaves, so it works with the broker down; the broker's
own view (its position, the account's state, the bot's orders there) is added when it answers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.engine.clock import wall_now
from bot.engine.portfolio import Portfolio
from bot.errors import BotError, ConfigError
from bot.health import evaluate, problems_of, read_heartbeat
from bot.ledger import LEDGER_FILE, Ledger
from bot.report import ledger_scorecard
from bot.score_output import scorecard_json
from strategies.params import BreakoutParams

RECENT_EVENTS = 12


HEARTBEAT_FIELDS = ("at", "state", "last_ok_at", "last_pass_at", "broker_time", "last_error")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--offline", action="store_true", help="do not ask the broker: the ledger and heartbeat only")


def _recent(ledger: Ledger) -> list[dict[str, str]]:
    """The last decisions, orders and fills, newest first."""
    events = [
        {"at": day.isoformat(), "what": "decision", "detail": reason} for day, reason in ledger.decisions().items()
    ]
    for order in ledger.orders():
        rejected = f", refused ({order.rejection})" if order.rejection else ""
        events.append(
            {
                "at": order.submitted_at.isoformat(),
                "what": f"{order.intent} order",
                "detail": f"{order.client_order_id}: {order.side} {order.qty} {order.symbol} "
                f"({order.time_in_force}), {order.status}{rejected}",
            }
        )
    events.extend(
        {"at": f.filled_at.isoformat(), "what": "fill", "detail": f"{f.side} {f.qty} {f.symbol} @ {f.price}"}
        for f in ledger.fills()
    )
    return sorted(events, key=lambda e: e["at"], reverse=True)[:RECENT_EVENTS]


def ledger_status(ledger: Ledger, params: BreakoutParams) -> dict[str, Any]:
    decisions = ledger.decisions()
    last = max(decisions) if decisions else None
    portfolio = Portfolio(ledger, params)
    return {
        "position_qty": str(portfolio.held),
        "last_decision": {"session": last.isoformat(), "reason": decisions[last]} if last else None,
        "open_orders": [
            {
                "client_order_id": o.client_order_id,
                "side": o.side,
                "qty": str(o.qty),
                "symbol": o.symbol,
                "time_in_force": o.time_in_force,
                "status": o.status,
            }
            for o in portfolio.live_orders()
        ],
        "score": scorecard_json(ledger_scorecard(ledger, params)),
        "recent": _recent(ledger),
        "hold": [
            {
                "session": s.session.isoformat(),
                "position_value": str(s.position_value),
                "benchmark_value": str(s.benchmark_value),
            }
            for s in ledger.snapshots()
            if s.position_qty > 0
        ],
    }


def collect(settings: Settings, ledger_path: Path, *, broker: Any | None = None) -> dict[str, Any]:
    """The status document (``bot status --json``, the status page)."""
    params = settings.strategy.params()
    beat = read_heartbeat(settings.runtime.data_dir)
    health = evaluate(beat, max_age=settings.runtime.heartbeat_max_age_seconds)
    ledger = Ledger(ledger_path)
    try:
        document: dict[str, Any] = {
            "symbol": params.symbol,
            "benchmark": params.benchmark,
            "health": {"ok": health.ok, "cause": health.cause, "problems": problems_of(beat) if beat else {}},
            "heartbeat": {k: (beat or {}).get(k) for k in HEARTBEAT_FIELDS},
            "next_action": {"text": (beat or {}).get("next_action"), "at": (beat or {}).get("next_action_at")},
            "ledger": ledger_status(ledger, params),
        }
    finally:
        ledger.close()
    if broker is not None:
        document["broker"] = broker_status(broker, params, document["ledger"]["open_orders"])
    return document


def broker_status(broker: Any, params: BreakoutParams, orders: list[dict[str, str]]) -> dict[str, Any]:
    try:
        account = broker.account()
        position = broker.position(params.symbol)
        at_broker = [broker.order_by_client_id(o["client_order_id"]) for o in orders]
    except BotError as exc:
        return {"reachable": False, "error": str(exc)}
    return {
        "reachable": True,
        "account_status": account.status,
        "blocked_by": account.blocked_by,
        "equity": str(account.equity),
        "position_qty": str(position.qty if position else 0),
        "open_orders": [
            {"client_order_id": o.client_order_id, "status": o.status, "filled_qty": str(o.filled_qty)}
            for o in at_broker
            if o is not None
        ],
    }


def render(document: dict[str, Any]) -> str:
    symbol, benchmark = document["symbol"], document["benchmark"]
    ledger, health = document["ledger"], document["health"]
    lines = [f"health: {'healthy' if health['ok'] else 'UNHEALTHY'}: {health['cause']}"]
    broker = document.get("broker")
    if broker is None:
        lines.append("broker: not asked (--offline): from the ledger and the heartbeat only")
    elif not broker["reachable"]:
        lines.append(f"broker: unreachable ({broker['error']}): from the ledger and the heartbeat only")
    else:
        blocked = f", blocked ({broker['blocked_by']})" if broker["blocked_by"] else ""
        lines.append(f"broker: account {broker['account_status']}{blocked}, equity {broker['equity']}")
    held = f"position: the bot's orders hold {ledger['position_qty']} {symbol}"
    lines.append(held + (f"; the broker holds {broker['position_qty']}" if broker and broker["reachable"] else ""))
    for trade in ledger["score"]["trades"]:
        if trade["closed"]:
            lines.append(
                f"closed trade: {trade['qty']} {symbol} bought {trade['entry_date']} @ {trade['entry_price']}, sold "
                f"{trade['exit_date']} @ {trade['exit_price']}: {trade['return_pct']} % (P&L {trade['pnl']})"
            )
        else:
            lines.append(
                f"open trade: {trade['qty']} {symbol} bought {trade['entry_date']} @ {trade['entry_price']}, marked "
                f"{trade['exit_date']} @ {trade['exit_price']}: {symbol} {trade['return_pct']} % vs {benchmark} "
                f"{ledger['score']['benchmark']['return_pct']} % (P&L {trade['pnl']})"
            )
    decision = ledger["last_decision"]
    lines.append(
        f"last decision: {decision['session']}: {decision['reason']}" if decision else "last decision: none yet"
    )
    step = document["next_action"]
    as_of = f" (as of the pass at {document['heartbeat']['last_pass_at']})" if step["text"] else ""
    lines.append(f"next: {step['text'] or 'unknown until `bot run` has made a pass'}{as_of}")
    for order in ledger["open_orders"]:
        lines.append(
            f"open order: {order['client_order_id']}: {order['side']} {order['qty']} {order['symbol']} "
            f"({order['time_in_force']}), {order['status']}"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.runtime.data_dir / LEDGER_FILE
    if not path.is_file():
        raise ConfigError(f"no ledger at {path} (BOT_DATA_DIR={settings.runtime.data_dir}); start `bot run` first")
    broker = None
    if not args.offline:
        from bot.broker.alpaca import AlpacaBroker

        quick = settings.runtime.model_copy(update={"retry_max_seconds": 0.0})
        broker = AlpacaBroker(Settings(settings.strategy, settings.alpaca, quick))
    document = collect(settings, path, broker=broker)
    document["generated_at"] = wall_now().isoformat()
    print(json.dumps(document) if args.json else render(document))
    return 0
