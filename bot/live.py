"""``bot run``, ``bot check``, ``bot report`` and ``bot health``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot import __version__
from bot.broker.alpaca import AlpacaBroker
from bot.chart import write_hold_chart
from bot.config import Settings
from bot.errors import BrokerError, ConfigError
from bot.ledger import Ledger
from bot.logs import configure_logging, get_logger
from bot.report import ledger_scorecard
from bot.runner import StopSignal, heartbeat_age_seconds, run_loop
from bot.scoring import render_table, scorecard_json
from bot.trader import Trader

LEDGER_FILE = "ledger.sqlite"
TRADABLE_ACCOUNT_STATUSES = frozenset({"ACTIVE"})


def ledger_path(settings: Settings) -> Path:
    return settings.runtime.data_dir / LEDGER_FILE


def start_logging(settings: Settings) -> Any:
    configure_logging(
        log_format=settings.runtime.log_format,
        level=settings.runtime.log_level.value,
        secrets=(settings.alpaca.key_id.get_secret_value(), settings.alpaca.secret_key.get_secret_value()),
    )
    return get_logger()


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="evaluate once and exit (for cron-style scheduling)")


def trade(
    settings: Settings,
    *,
    once: bool = False,
    stop: StopSignal | None = None,
    finished: Callable[[], bool] = lambda: False,
) -> int:
    """Trade the rule on the configured account until stopped; the body of ``bot run`` and ``bot demo``."""
    log = get_logger()
    stop = stop or StopSignal()
    log.info("startup", version=__version__, settings=settings.redacted(), once=once)
    if settings.alpaca.is_live:
        log.warning("live_trading_enabled", message="ALLOW_LIVE_TRADING=true: orders go to the LIVE account")
    broker = AlpacaBroker(settings, sleep=stop.sleep_or_raise)
    account = broker.account()
    if account.status not in TRADABLE_ACCOUNT_STATUSES:
        raise BrokerError(f"account status is {account.status}; trading needs ACTIVE")
    ledger = Ledger(ledger_path(settings))
    ledger.remember("account_url", settings.alpaca.base_url)
    try:
        trader = Trader(broker, ledger, settings.strategy.params(), log)
        code = run_loop(
            trader,
            stop=stop,
            data_dir=settings.runtime.data_dir,
            poll_seconds=settings.runtime.poll_seconds,
            log=log,
            once=once,
            finished=finished,
        )
    finally:
        ledger.close()
        log.info("shutdown", reason=stop.reason or ("once" if once else "finished"))
    return code


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    start_logging(settings)
    stop = StopSignal()
    stop.install()
    return trade(settings, once=args.once, stop=stop)


def check_command(args: argparse.Namespace, settings: Settings) -> int:
    broker = AlpacaBroker(settings)
    account = broker.account()
    clock = broker.clock()
    summary = {
        "settings": "ok",
        "trading_url": settings.alpaca.base_url,
        "data_url": settings.alpaca.data_url,
        "account_status": account.status,
        "equity": str(account.equity),
        "market_open": clock.is_open,
        "broker_time": clock.now.isoformat(),
        "next_open": clock.next_open.isoformat(),
    }
    print(json.dumps(summary))
    if account.status not in TRADABLE_ACCOUNT_STATUSES:
        print(f"error: account status is {account.status}; trading needs ACTIVE")
        return 1
    return 0


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--chart", type=Path, help="write a PNG of the hold")


def report_command(args: argparse.Namespace, settings: Settings) -> int:
    path = ledger_path(settings)
    if not path.is_file():
        raise ConfigError(
            f"no ledger at {path} (BOT_DATA_DIR={settings.runtime.data_dir}); run `bot run` or `bot demo`"
        )
    ledger = Ledger(path)
    try:
        card = ledger_scorecard(ledger, settings.strategy.params())
    finally:
        ledger.close()
    if args.chart:
        write_hold_chart(card, args.chart)
    print(json.dumps(scorecard_json(card)) if args.json else render_table(card))
    return 0


def health_command(args: argparse.Namespace, settings: Settings) -> int:
    age = heartbeat_age_seconds(settings.runtime.data_dir)
    limit = settings.runtime.heartbeat_max_age_seconds
    if age is None:
        print(f"unhealthy: no heartbeat in {settings.runtime.data_dir}")
        return 1
    if age > limit:
        print(f"unhealthy: last heartbeat {age:.0f}s ago (limit {limit:.0f}s)")
        return 1
    print(f"healthy: last heartbeat {age:.1f}s ago")
    return 0
