"""Command line: parse, dispatch, and turn our errors into messages and exit codes (here only)."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable, Sequence

from bot.config import Settings, load_settings, scrub_secrets
from bot.errors import BotError

Command = Callable[[argparse.Namespace, Settings], int]


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


def _parser() -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    from bot import demo, live, rebuild, sweep
    from bot.backtest import command as backtest
    from bot.local_exchange import cli as exchange

    table: list[tuple[str, str, Callable[[argparse.ArgumentParser], None], Command]] = [
        (
            "run",
            "trade the rule on the paper account (the container's default)",
            live.add_run_arguments,
            live.run_command,
        ),
        ("check", "validate settings and connectivity (account status, clock)", _no_arguments, live.check_command),
        (
            "report",
            "the season's P&L against the benchmark, from the ledger",
            live.add_report_arguments,
            live.report_command,
        ),
        (
            "reconcile",
            "--rebuild: a new ledger from the broker's order history (for a lost or corrupt one)",
            rebuild.add_arguments,
            rebuild.run,
        ),
        ("backtest", "score the rule on history against the benchmark", backtest.add_arguments, backtest.run),
        ("sweep", "the rule over a grid of levels and holds (vectorised)", sweep.add_arguments, sweep.run),
        ("demo", "run the real loop against the local exchange, no keys", demo.add_arguments, demo.run),
        ("exchange", "serve the local Alpaca-compatible paper exchange", exchange.add_arguments, exchange.run),
        (
            "health",
            "exit 0 while the run loop's heartbeat is fresh (the container health check)",
            _no_arguments,
            live.health_command,
        ),
    ]
    parser = argparse.ArgumentParser(
        prog="bot",
        description="Paper-trading bot for Alpaca: buy IWM on a breakout above 200, hold through June, "
        "and score the trade against SPY.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary, add_arguments, _ in table:
        add_arguments(commands.add_parser(name, help=summary))
    return parser, {name: handler for name, _, _, handler in table}


def main(argv: Sequence[str] | None = None) -> int:
    parser, handlers = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        return handlers[args.command](args, settings)
    except BotError as exc:
        print(f"error: {scrub_secrets(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except (OSError, sqlite3.Error) as exc:  # a local file the user must fix: unwritable, full, misplaced
        if type(exc).__module__.startswith(("requests", "urllib3")):
            print(f"error: broker unreachable: {scrub_secrets(str(exc))}", file=sys.stderr)
            return 3
        where = getattr(exc, "filename", None) or "BOT_DATA_DIR"
        print(f"error: {where}: {scrub_secrets(str(exc))} (fix the file or BOT_DATA_DIR)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
