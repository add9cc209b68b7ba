"""``bot exchange``: serve the local exchange until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from datetime import datetime, time
from ipaddress import ip_address
from pathlib import Path
from types import FrameType

import pandas as pd

from bot.backtest.command import iso_date, positive_decimal
from bot.config import Settings
from bot.domain import NEW_YORK
from bot.errors import ConfigError
from bot.local_exchange.accounts import AccountModel
from bot.local_exchange.clock import ManualClock
from bot.local_exchange.data_routes import DataPlan
from bot.local_exchange.faults import parse_faults
from bot.local_exchange.ratelimit import DEFAULT_PER_MINUTE
from bot.local_exchange.server import LocalExchange
from bot.market.csv_data import load_csv
from bot.market.dividends import Dividends, load_dividends
from bot.market.scenarios import SCENARIO_NAMES, build_scenario, scenario_dividends


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="directory of <SYMBOL>.csv daily files to replay")
    source.add_argument("--scenario", choices=SCENARIO_NAMES, help="a built-in seeded scenario")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    parser.add_argument("--start", type=iso_date, help="first session to replay (earlier data is history)")
    parser.add_argument("--end", type=iso_date, help="last session to replay")
    parser.add_argument("--speed", type=float, help="wall seconds per replayed session (default: real time)")
    parser.add_argument("--cash", type=positive_decimal, default=positive_decimal("100000"), help="starting cash")
    parser.add_argument("--faults", help="fault spec, e.g. 503:0.1,429:0.05:retry_after=1 (docs/exchange.md)")
    parser.add_argument(
        "--partial-fills", action="store_true", help="fill every non-auction order in two parts (paper_partial:1)"
    )
    parser.add_argument(
        "--account",
        choices=[m.value for m in AccountModel],
        default=AccountModel.MARGIN.value,
        help="margin (default: what Alpaca paper accounts are, shorting enabled) or cash",
    )
    parser.add_argument(
        "--data-plan",
        choices=[p.value for p in DataPlan],
        default=DataPlan.FREE.value,
        help="free (default: recent SIP refused, latest prices from IEX) or plus (real-time SIP)",
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=DEFAULT_PER_MINUTE,
        help=f"trading requests per key per minute before 429 (default {DEFAULT_PER_MINUTE}; 0 = off)",
    )
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow --host to be a non-loopback address (no auth beyond keys)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for scenarios and faults (default 0)")
    parser.add_argument(
        "--state", type=Path, help="keep accounts, orders and fills in this file across exchange restarts"
    )
    parser.add_argument(
        "--manual-clock", action="store_true", help="hold the clock until POST /_exchange/clock moves it (for tests)"
    )


def _dividends(args: argparse.Namespace, symbols: list[str]) -> Dividends:
    return scenario_dividends(args.scenario) if args.scenario else load_dividends(args.data, symbols)


def _frames(args: argparse.Namespace) -> dict[str, pd.DataFrame]:
    if args.scenario:
        frames: dict[str, pd.DataFrame] = build_scenario(args.scenario, args.seed)
        return frames
    if not args.data.is_dir():
        raise ConfigError(f"--data {args.data}: not a directory")
    files = sorted(p for p in args.data.glob("*.csv") if not p.name.endswith(".dividends.csv"))
    if not files:
        raise ConfigError(f"--data {args.data}: no <SYMBOL>.csv files")
    return {path.stem.upper(): load_csv(path) for path in files}


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.speed is not None and args.speed <= 0:
        raise ConfigError(f"--speed {args.speed}: must be a positive number of seconds per session")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port}: must be between 0 and 65535")
    if args.rate_limit < 0:
        raise ConfigError(f"--rate-limit {args.rate_limit}: must be 0 (off) or a positive number per minute")
    if not _loopback(args.host) and not args.allow_remote:
        raise ConfigError(f"--host {args.host}: not a loopback address; add --allow-remote to serve other machines")
    faults = parse_faults(args.faults)
    frames = _frames(args)
    clock: ManualClock | None = None
    if args.manual_clock:
        first = args.start or min(min(frame.index) for frame in frames.values())
        clock = ManualClock(datetime.combine(first, time(0), NEW_YORK))
    exchange = LocalExchange(
        frames,
        speed=args.speed,
        clock=clock,
        start=args.start,
        end=args.end,
        cash=args.cash,
        faults=faults,
        seed=args.seed,
        host=args.host,
        port=args.port,
        partial_fills=args.partial_fills,
        state_path=args.state,
        dividends=_dividends(args, sorted(frames)),
        account_model=AccountModel(args.account),
        data_plan=DataPlan(args.data_plan),
        rate_limit=args.rate_limit,
    )
    if not _loopback(args.host):
        print(json.dumps({"event": "exchange_remote", "warning": f"serving {args.host} beyond this machine"}))
    stopped = threading.Event()

    def stop(signum: int, _: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    url = exchange.start()
    print(
        json.dumps(
            {
                "event": "exchange_ready",
                "trading_url": url,
                "data_url": url,
                "first_session": exchange.sessions[0].day.isoformat(),
                "last_session": exchange.sessions[-1].day.isoformat(),
            }
        ),
        flush=True,
    )
    try:
        while not stopped.wait(1.0):
            pass
    finally:
        exchange.stop()
    print(json.dumps({"event": "exchange_stopped"}), flush=True)
    return 0
