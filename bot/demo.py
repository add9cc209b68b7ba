"""``bot demo``: the real loop, through alpaca-py, against the local exchange on 127.0.0.1.

It needs no keys: the exchange opens a paper account for a throwaway key pair. The ledger and heartbeat go
to ``BOT_DATA_DIR/demo``, never to the real bot's files; ``bot report --demo`` shows the demo season again.
"""

from __future__ import annotations

import argparse
import secrets
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
from pydantic import SecretStr

from bot.backtest.command import iso_date, positive_decimal
from bot.config import Settings
from bot.errors import ConfigError
from bot.ledger import Ledger
from bot.live import (
    DEMO_DIR,
    demo_ledger_path,
    ledger_path,
    trade,
)
from bot.logs import get_logger
from bot.market.bar_sources import require_benchmark_coverage
from bot.market.csv_data import load_symbols
from bot.market.dividends import load_dividends
from bot.market.scenarios import SCENARIO_NAMES, build_scenario, scenario_dividends
from bot.report import ledger_scorecard
from bot.runner import StopSignal
from bot.score_output import render_table

DEFAULT_SCENARIO_START = date(2023, 12, 1)
DEFAULT_SCENARIO_END = date(2024, 7, 3)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--scenario", choices=SCENARIO_NAMES, help="built-in scenario (default: breakout)")
    source.add_argument("--data", type=Path, help="directory with <SYMBOL>.csv files (needs --start and --end)")
    parser.add_argument("--start", type=iso_date, help="first session to replay (earlier data is history)")
    parser.add_argument("--end", type=iso_date, help="last session to replay")
    parser.add_argument(
        "--speed",
        type=positive_decimal,
        default=Decimal("0.25"),
        help="wall seconds per replayed session (default 0.25)",
    )
    parser.add_argument("--cash", type=positive_decimal, default=Decimal("100000"), help="starting cash")
    parser.add_argument("--seed", type=int, default=0, help="scenario seed (default 0)")


def _frames(args: argparse.Namespace, settings: Settings) -> tuple[dict[str, pd.DataFrame], date, date]:
    strategy = settings.strategy
    if args.data is not None:
        if args.start is None or args.end is None:
            raise ConfigError("bot demo --data needs --start and --end")
        frames = load_symbols(args.data, [strategy.symbol, strategy.benchmark])
        require_benchmark_coverage(frames, strategy.symbol, strategy.benchmark, args.data)
        return frames, args.start, args.end
    if {strategy.symbol, strategy.benchmark} != {"IWM", "SPY"}:
        raise ConfigError("built-in scenarios hold IWM and SPY only; unset STRATEGY_SYMBOL/STRATEGY_BENCHMARK")
    frames = build_scenario(args.scenario or "breakout", args.seed)
    return frames, args.start or DEFAULT_SCENARIO_START, args.end or DEFAULT_SCENARIO_END


def _fresh_demo_ledger(path: Path) -> None:
    """Replace an earlier demo's ledger; refuse to touch one that a real account wrote."""
    if path.is_file():
        ledger = Ledger(path)
        try:
            is_demo = ledger.meta().demo or not ledger.orders()
        finally:
            ledger.close()
        if not is_demo:
            raise ConfigError(f"{path} holds a real account's ledger; point BOT_DATA_DIR elsewhere for the demo")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    ledger = Ledger(path)
    ledger.remember(demo=True)
    ledger.close()


def demo_settings(settings: Settings, url: str, speed: Decimal) -> Settings:
    alpaca = settings.alpaca.model_copy(
        update={
            "key_id": SecretStr("DEMO" + secrets.token_hex(8).upper()),
            "secret_key": SecretStr(secrets.token_urlsafe(24)),
            "base_url": url,
            "data_url": url,
            "allow_live_trading": False,
        }
    )
    # Poll the accelerated clock often enough to act inside each session's decision windows.
    poll = min(settings.runtime.poll_seconds, float(speed) / 50)
    runtime = settings.runtime.model_copy(
        update={"poll_seconds": poll, "retry_max_seconds": 10.0, "data_dir": settings.runtime.data_dir / DEMO_DIR}
    )
    return Settings(settings.strategy, alpaca, runtime)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.local_exchange.server import LocalExchange

    frames, start, end = _frames(args, settings)
    if end < start:
        raise ConfigError(f"--end {end} is before --start {start}")
    symbols = [settings.strategy.symbol, settings.strategy.benchmark]
    dividends = load_dividends(args.data, symbols) if args.data else scenario_dividends(args.scenario or "breakout")
    exchange = LocalExchange(
        frames,
        speed=float(args.speed),
        start=start,
        end=end,
        cash=args.cash,
        seed=args.seed,
        dividends=dividends,
        lockstep=True,  # the replay waits for the bot at each decision point: no --speed skips one
    )
    _fresh_demo_ledger(demo_ledger_path(settings))
    url = exchange.start()
    stop = StopSignal()
    stop.install()
    try:
        live = demo_settings(settings, url, args.speed)
        log = get_logger()
        log.info(
            "demo_exchange_ready",
            url=url,
            start=start.isoformat(),
            end=end.isoformat(),
            speed_seconds_per_session=float(args.speed),
        )
        code = trade(live, stop=stop, finished=lambda: exchange.finished, demo=True, lockstep=exchange.hold_at)
    finally:
        exchange.stop()
    ledger = Ledger(ledger_path(live))
    try:
        card = ledger_scorecard(ledger, settings.strategy.params())
    finally:
        ledger.close()
    print(render_table(card))
    return code
