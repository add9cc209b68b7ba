"""``bot reconcile --rebuild``: a new ledger from the broker's order history; the old one is kept aside.

For a ledger that is lost or corrupt. Orders come from the broker's history (the bot's client order ids), their
fills are priced as the loop prices them (with the benchmark's official minute bars), and the starting equity
is the account's cash plus what the bot's fills spent less what they brought in.
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from bot.broker.alpaca import AlpacaBroker
from bot.config import Settings
from bot.engine.clock import wall_now
from bot.engine.portfolio import Portfolio
from bot.errors import ConfigError
from bot.instance_lock import InstanceLock
from bot.ledger import Ledger
from bot.live import claim_ledger, ledger_path
from bot.logs import get_logger
from bot.order_desk import OrderDesk
from bot.orders import STRATEGY_TAG, order_key
from bot.season_calendar import TradingCalendar

CALENDAR_MARGIN = timedelta(days=10)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rebuild", action="store_true", help="write a new ledger from the broker's order history (the old is kept)"
    )


def _set_aside(path: Path) -> Path | None:
    if not path.exists():
        return None
    stamp = wall_now().strftime("%Y%m%dT%H%M%SZ")
    kept = path.with_name(f"{path.name}.replaced-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            part.replace(Path(f"{kept}{suffix}"))
    return kept


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not args.rebuild:
        raise ConfigError("bot reconcile needs --rebuild: it writes a new ledger from the broker's order history")
    log = get_logger()
    params = settings.strategy.params()
    with InstanceLock(settings.runtime.data_dir):
        broker = AlpacaBroker(settings)
        account = broker.account()
        now = broker.clock().now
        orders = broker.orders_history(params.symbol, f"{STRATEGY_TAG}-{params.symbol}-")
        first = min((o.submitted_at.date() for o in orders), default=now.date()) - CALENDAR_MARGIN
        calendar = TradingCalendar(broker.calendar(first, now.date() + timedelta(days=400)))
        path = ledger_path(settings)
        kept = _set_aside(path)
        ledger = Ledger(path)
        try:
            claim_ledger(ledger, account.id, settings, demo=False)
            desk = OrderDesk(broker, ledger, params, log)
            for order in orders:
                key = order_key(order.client_order_id)
                if key is not None:
                    desk.record_order(order, key.intent, key.season, reason="rebuilt")
            desk.follow(Portfolio(ledger, params).to_follow(), now, calendar)
            fills = ledger.fills()
            spent = sum((f.qty * f.price * (1 if f.side == "buy" else -1) for f in fills), Decimal(0))
            ledger.remember(start_equity=account.cash + spent, first_session=fills[0].session if fills else now.date())
        finally:
            ledger.close()
    log.info("ledger_rebuilt", orders=len(orders), fills=len(fills), previous_ledger=str(kept) if kept else None)
    print(json.dumps({"ledger": str(path), "previous_ledger": str(kept) if kept else None, "orders": len(orders)}))
    return 0
