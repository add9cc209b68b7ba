"""``bot backtest``: load history, run the rule, print the score."""

from __future__ import annotations

import argparse
import json
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from bot.backtest.by_season import render_seasons, season_rows, traded_sessions
from bot.backtest.engine import run_backtest
from bot.backtest.provenance import backtest_provenance, no_trade_reason, provenance_line
from bot.chart import write_hold_chart
from bot.config import Settings
from bot.errors import ConfigError, DataError
from bot.market.bar_sources import BarSource, load_sources, require_benchmark_coverage
from bot.market.dividends import Dividends, dividends_path, load_dividends
from bot.market.scenarios import SCENARIO_NAMES, build_scenario, scenario_dividends
from bot.score_output import render_table, scorecard_json, verdict_line

if TYPE_CHECKING:
    from bot.local_exchange.faults import FaultSpec


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def positive_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="directory with <SYMBOL>.csv files")
    source.add_argument("--scenario", choices=SCENARIO_NAMES, help="a built-in seeded scenario")
    source.add_argument("--source", choices=("alpaca",), help="download daily bars with your Alpaca keys")
    parser.add_argument("--seed", type=int, default=0, help="seed of the scenario and of --faults draws (default 0)")
    parser.add_argument("--start", type=iso_date, help="first session to trade (earlier data is history)")
    parser.add_argument("--end", type=iso_date, help="last session to trade")
    parser.add_argument("--cash", type=positive_decimal, default=Decimal("100000"), help="starting cash")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--chart", type=Path, help="write a PNG of the hold")
    parser.add_argument("--by-season", action="store_true", help="one row per season, with a trade or without")
    parser.add_argument(
        "--faults",
        help="order fates of Alpaca paper, drawn from --seed: e.g. opg_unfilled:0.2,auction_partial:0.1:fraction=0.5",
    )


def load_frames(args: argparse.Namespace, settings: Settings) -> dict[str, BarSource]:
    strategy = settings.strategy
    symbols = [strategy.symbol, strategy.benchmark]
    if args.scenario:
        if set(symbols) != {"IWM", "SPY"}:
            raise ConfigError("built-in scenarios hold IWM and SPY only; unset STRATEGY_SYMBOL/STRATEGY_BENCHMARK")
        return dict(build_scenario(args.scenario, args.seed))
    if args.source == "alpaca":
        from bot.backtest.alpaca_source import download_daily_frames

        if args.start is None or args.end is None:
            raise ConfigError("--source alpaca needs --start and --end")
        return dict(download_daily_frames(settings, symbols, start=args.start, end=args.end))
    frames = load_sources(args.data, symbols)
    require_benchmark_coverage(frames, strategy.symbol, strategy.benchmark, args.data, start=args.start, end=args.end)
    return frames


def load_dividend_data(args: argparse.Namespace, settings: Settings) -> tuple[Dividends, list[str]]:
    """Dividends per symbol, and where they came from (for the provenance)."""
    symbols = [settings.strategy.symbol, settings.strategy.benchmark]
    if args.data:
        files = [dividends_path(args.data, s) for s in symbols]
        return load_dividends(args.data, symbols), [str(path) for path in files if path.is_file()]
    if args.scenario:
        return scenario_dividends(args.scenario), [f"scenario {args.scenario}"]
    from bot.backtest.alpaca_source import download_dividends

    return download_dividends(settings, symbols, start=args.start, end=args.end), ["alpaca corporate actions"]


def order_faults(args: argparse.Namespace) -> FaultSpec | None:
    """--faults: only what the venue does with orders applies in-process."""
    if args.faults is None:
        return None
    from bot.local_exchange.faults import ORDER_KINDS, parse_faults

    spec = parse_faults(args.faults)
    other = sorted({rule.kind for rule in spec.rules} - ORDER_KINDS)
    if other:
        raise ConfigError(
            f"--faults {args.faults}: {', '.join(other)} are HTTP faults, which the in-process engine has no HTTP "
            f"for; allowed: {', '.join(sorted(ORDER_KINDS))}"
        )
    return spec


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.start and args.end and args.end < args.start:
        raise ConfigError(f"--end {args.end} is before --start {args.start}")
    faults = order_faults(args)
    frames = load_frames(args, settings)
    dividends, dividend_files = load_dividend_data(args, settings)
    params = settings.strategy.params()
    result = run_backtest(frames, params, cash=args.cash, start=args.start, end=args.end, dividends=dividends,
                          faults=faults, seed=args.seed)  # fmt: skip
    if result.sessions == 0:
        raise DataError("no sessions of the data fall between --start and --end")
    card, decisions = result.scorecard, result.decisions
    if args.chart:
        write_hold_chart(card, args.chart)
    provenance = backtest_provenance(args, settings, frames, dividend_files)
    why = no_trade_reason(decisions, params) if not card.trades else None
    sessions = traded_sessions(frames, params) if args.by_season else []
    seasons = season_rows(card, decisions, sessions, params, args.start, args.end) if args.by_season else None
    if args.json:
        by_season = {"by_season": seasons} if seasons is not None else {}
        print(json.dumps({**scorecard_json(card), "no_trade_reason": why, "provenance": provenance, **by_season}))
        return 0
    print(provenance_line(provenance))
    if why:
        print(why)
    if seasons is not None:
        print(render_seasons(seasons, params.symbol, params.benchmark))
        print(verdict_line(card))
        return 0
    print(render_table(card))
    return 0
