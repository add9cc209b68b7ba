"""Command line: parse, dispatch, and turn our errors into messages and exit codes (here only)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from bot.config import Settings, load_settings
from bot.errors import BotError

Command = Callable[[argparse.Namespace, Settings], int]


def _parser() -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    from bot import demo, live, sweep
    from bot.backtest import command as backtest

    parser = argparse.ArgumentParser(prog="bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    handlers: dict[str, Command] = {}

    backtest_parser = commands.add_parser("backtest", help="score the rule on history against the benchmark")
    backtest.add_arguments(backtest_parser)
    handlers["backtest"] = backtest.run

    sweep.add_arguments(commands.add_parser("sweep", help="the rule over a grid of levels and holds (vectorised)"))
    handlers["sweep"] = sweep.run

    live.add_run_arguments(
        commands.add_parser("run", help="trade the rule on the paper account (the container's default)")
    )
    handlers["run"] = live.run_command
    commands.add_parser("check", help="validate settings and connectivity (account status, clock)")
    handlers["check"] = live.check_command
    live.add_report_arguments(
        commands.add_parser("report", help="the season's P&L against the benchmark, from the ledger")
    )
    handlers["report"] = live.report_command
    demo.add_arguments(commands.add_parser("demo", help="run the real loop against the local exchange, no keys"))
    handlers["demo"] = demo.run
    from bot.local_exchange import cli as exchange

    exchange.add_arguments(commands.add_parser("exchange", help="serve the local Alpaca-compatible paper exchange"))
    handlers["exchange"] = exchange.run
    commands.add_parser("health", help="exit 0 while the run loop's heartbeat is fresh (the container health check)")
    handlers["health"] = live.health_command
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    parser, handlers = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        return handlers[args.command](args, settings)
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
