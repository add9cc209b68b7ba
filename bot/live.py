"""``bot run``, ``bot check``, ``bot report`` and ``bot health``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import __version__
from bot.app import assemble
from bot.broker.alpaca import AlpacaBroker
from bot.chart import write_hold_chart
from bot.config import Settings
from bot.engine.clock import wall_now
from bot.errors import BrokerError, ConfigError, ShutdownRequested
from bot.health import write_heartbeat
from bot.instance_lock import InstanceLock
from bot.ledger import LEDGER_FILE, Ledger
from bot.logs import get_logger
from bot.report import ledger_scorecard
from bot.runner import StopSignal, run_loop
from bot.score_output import render_table, scorecard_json
from bot.vs_backtest import comparison_json, render_comparison, replay_against_ledger
from bot.watch.wiring import Watch

DEMO_DIR = "demo"
TRADABLE_ACCOUNT_STATUSES = frozenset({"ACTIVE"})


def ledger_path(settings: Settings) -> Path:
    return settings.runtime.data_dir / LEDGER_FILE


def demo_ledger_path(settings: Settings) -> Path:
    """The demo keeps its own ledger, so that ``make demo`` never touches a real bot's."""
    return settings.runtime.data_dir / DEMO_DIR / LEDGER_FILE


def claim_ledger(ledger: Ledger, account_id: str, settings: Settings, *, demo: bool) -> None:
    """A ledger belongs to one account (and the demo's to the demo): refuse anyone else's, naming both."""
    where = f"the ledger in BOT_DATA_DIR={settings.runtime.data_dir}"
    meta = ledger.meta()
    if meta.demo and not demo:
        raise ConfigError(f"{where} is the demo's; point BOT_DATA_DIR at another directory for a real account")
    owner, owner_url = meta.account_id, meta.account_url
    if owner is not None and owner != account_id:
        raise ConfigError(
            f"{where} belongs to account {owner} at {owner_url}, not to account {account_id} at "
            f"{settings.alpaca.base_url}; point BOT_DATA_DIR at another directory for this account"
        )
    ledger.remember(account_id=account_id, account_url=settings.alpaca.base_url)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="evaluate once and exit (for cron-style scheduling)")


def trade(
    settings: Settings,
    *,
    once: bool = False,
    stop: StopSignal | None = None,
    finished: Callable[[], bool] = lambda: False,
    demo: bool = False,
    lockstep: Callable[[datetime], None] | None = None,
) -> int:
    """Trade the rule on the configured account until stopped; the body of ``bot run`` and ``bot demo``."""
    log = get_logger()
    stop = stop or StopSignal()
    log.info("startup", version=__version__, settings=settings.redacted(), once=once)
    if settings.alpaca.is_live:
        log.warning("live_trading_enabled", message="ALLOW_LIVE_TRADING=true: orders go to the LIVE account")
    with InstanceLock(settings.runtime.data_dir):
        try:
            return _trade_locked(settings, log, stop, once=once, finished=finished, demo=demo, lockstep=lockstep)
        except ShutdownRequested:  # SIGTERM while starting up, even inside a request
            return 0
        finally:
            log.info("shutdown", reason=stop.reason or ("once" if once else "finished"))


def _trade_locked(
    settings: Settings,
    log: Any,
    stop: StopSignal,
    *,
    once: bool,
    finished: Callable[[], bool],
    demo: bool,
    lockstep: Callable[[datetime], None] | None,
) -> int:
    # Recording must work before anything is sent: a local-file fault stops here, not after an order.
    write_heartbeat(settings.runtime.data_dir, {"at": wall_now().isoformat(), "state": "starting"})
    watch = Watch(settings, ledger_path(settings), log)
    try:
        broker = AlpacaBroker(settings, sleep=stop.sleep_or_raise, observe=watch.observe_request)
        with stop.interruptible():
            account = broker.account()
        if account.status not in TRADABLE_ACCOUNT_STATUSES:
            raise BrokerError(f"account status is {account.status}; trading needs ACTIVE")
        bot = assemble(broker, ledger_path(settings), settings.strategy.params(), log)
        try:
            claim_ledger(bot.ledger, account.id, settings, demo=demo)
            watch.start_notifications()
            _configure_shorting(broker, settings, stop, log)
            return run_loop(
                bot.trader,
                clock=bot.trader.clock,
                lockstep=lockstep,
                stop=stop,
                data_dir=settings.runtime.data_dir,
                poll_seconds=settings.runtime.poll_seconds,
                log=log,
                once=once,
                finished=finished,
                observers=watch.observers,
            )
        finally:
            bot.close()
    finally:
        watch.close()


def _configure_shorting(broker: AlpacaBroker, settings: Settings, stop: StopSignal, log: Any) -> None:
    if settings.runtime.forbid_shorting:
        with stop.interruptible():
            changed = broker.forbid_shorting()
        log.info("account_configured", no_shorting=True, changed=changed, opt_out="BOT_FORBID_SHORTING=false")
    else:
        log.warning("account_configured", no_shorting=False, changed=False, opt_out="BOT_FORBID_SHORTING=false")


def run_command(args: argparse.Namespace, settings: Settings) -> int:
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
        "account_blocked_by": account.blocked_by,
        "equity": str(account.equity),
        "market_open": clock.is_open,
        "broker_time": clock.now.isoformat(),
        "next_open": clock.next_open.isoformat(),
    }
    print(json.dumps(summary))
    if account.blocked_by is not None:
        print(f"error: the account cannot trade ({account.blocked_by})")
        return 1
    return 0


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--chart", type=Path, help="write a PNG of the hold")
    parser.add_argument("--demo", action="store_true", help="the last `bot demo`'s ledger (BOT_DATA_DIR/demo)")
    parser.add_argument(
        "--vs-backtest",
        action="store_true",
        help="replay the ledger's period on the broker's bars: per fill the live and backtest prices and slippage",
    )


def report_command(args: argparse.Namespace, settings: Settings) -> int:
    path = demo_ledger_path(settings) if args.demo else ledger_path(settings)
    if not path.is_file():
        raise ConfigError(
            f"no ledger at {path} (BOT_DATA_DIR={settings.runtime.data_dir}); run `bot run` or `bot demo`"
        )
    ledger = Ledger(path)
    try:
        is_demo = ledger.meta().demo
        if is_demo != args.demo:
            which = "the demo's; add --demo" if is_demo else "a real account's; drop --demo"
            raise ConfigError(f"the ledger at {path} is {which}")
        owner_url = ledger.meta().account_url
        if not is_demo and owner_url is not None and owner_url != settings.alpaca.base_url:
            raise ConfigError(
                f"the ledger at {path} was written against {owner_url}, not APCA_API_BASE_URL="
                f"{settings.alpaca.base_url}; point BOT_DATA_DIR at that account's directory"
            )
        card = ledger_scorecard(ledger, settings.strategy.params())
        outside = ledger.outside_changes()
        compared = replay_against_ledger(ledger, settings) if args.vs_backtest else None
    finally:
        ledger.close()
    if args.chart:
        write_hold_chart(card, args.chart)
    changes = [
        {
            "observed_at": c.observed_at.isoformat(),
            "symbol": c.symbol,
            "broker_qty": str(c.broker_qty),
            "bot_qty": str(c.ledger_qty),
            "adopted_qty": str(c.adopted_qty),
        }
        for c in outside
    ]
    if args.json:
        versus = {"vs_backtest": comparison_json(*compared)} if compared else {}
        print(json.dumps({**scorecard_json(card), "changed_outside_the_bot": changes, **versus}))
        return 0
    print(render_table(card))
    if compared:
        print(render_comparison(*compared))
    for change in changes:
        what = "sold outside the bot" if change["adopted_qty"] != "0" else "extra shares the bot leaves alone"
        print(
            f"changed outside the bot on {change['observed_at'][:10]}: broker held {change['broker_qty']} "
            f"{change['symbol']}, the bot's orders {change['bot_qty']} ({what})"
        )
    return 0
