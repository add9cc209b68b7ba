"""Command line: parse, dispatch, and turn our errors into messages and exit codes (here only)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from bot.config_sources import scrub_secrets
from bot.errors import BotError

Command = Callable[..., int]  # (args, settings), or (args) for the light commands
# Run without the settings model, so without pydantic: the container runs `bot health` every 30 seconds.
LIGHT_COMMANDS = frozenset({"health"})
# The log is these commands' output; every other command prints a document (JSON, a table) and logs to stderr.
LOGS_ON_STDOUT = frozenset({"run", "demo"})
# The long-running loop: pandas is loaded only if something uses it (alpaca-py imports it; the loop never does).
PANDAS_DEFERRED = frozenset({"run"})


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


# name, summary, module, the module's argument adder (None: no arguments), the module's handler. Modules are
# imported only for the command that runs, so that `bot health` (every 30 s in the container) stays light.
COMMANDS: list[tuple[str, str, str, str | None, str]] = [
    ("run", "trade the rule on the paper account (the container's default)", "bot.live", "add_run_arguments",
     "run_command"),
    ("check", "validate settings and connectivity (account status, clock)", "bot.live", None, "check_command"),
    ("status", "what the bot holds, last decided and will do next, and its health", "bot.watch.status",
     "add_arguments", "run"),
    ("report", "the season's P&L against the benchmark, from the ledger", "bot.live", "add_report_arguments",
     "report_command"),
    ("reconcile", "--rebuild: a new ledger from the broker's order history (for a lost or corrupt one)",
     "bot.rebuild", "add_arguments", "run"),
    ("backtest", "score the rule on history against the benchmark", "bot.backtest.command", "add_arguments", "run"),
    ("sweep", "the backtest's rule over a grid of settings (vectorised)", "bot.research.command", "add_arguments",
     "run"),
    ("demo", "run the real loop against the local exchange, no keys", "bot.demo", "add_arguments", "run"),
    ("exchange", "serve the local Alpaca-compatible paper exchange", "bot.local_exchange.cli", "add_arguments",
     "run"),
    ("health", "exit 0 while the bot can trade: a fresh successful pass, nothing blocking (the container's check)",
     "bot.health", None, "command"),
]  # fmt: skip


def _parser(argv: Sequence[str]) -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    parser = argparse.ArgumentParser(
        prog="bot",
        description="Paper-trading bot for Alpaca: buy IWM on a breakout above 200, hold through June, "
        "and score the trade against SPY.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    handlers: dict[str, Command] = {}
    for name, summary, module_name, adder, handler in COMMANDS:
        sub = commands.add_parser(name, help=summary)
        if name != chosen:
            continue
        if name in PANDAS_DEFERRED:
            from bot.broker.deferred_pandas import defer_pandas

            defer_pandas()
        module = importlib.import_module(module_name)
        (getattr(module, adder) if adder else _no_arguments)(sub)
        handlers[name] = getattr(module, handler)
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, handlers = _parser(argv)
    args = parser.parse_args(argv)
    try:
        if args.command in LIGHT_COMMANDS:
            return handlers[args.command](args)
        from bot.config import load_settings  # pydantic: a tenth of a second, paid only by commands that need it
        from bot.logs import configure_for

        settings = load_settings()
        configure_for(settings, to_stderr=args.command not in LOGS_ON_STDOUT)
        return handlers[args.command](args, settings)
    except BotError as exc:
        print(f"error: {scrub_secrets(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except (OSError, _sqlite_error()) as exc:  # a local file the user must fix: unwritable, full, misplaced
        if type(exc).__module__.startswith(("requests", "urllib3")):
            print(f"error: broker unreachable: {scrub_secrets(str(exc))}", file=sys.stderr)
            return 3
        where = getattr(exc, "filename", None) or "BOT_DATA_DIR"
        print(f"error: {where}: {scrub_secrets(str(exc))} (fix the file or BOT_DATA_DIR)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _sqlite_error() -> type[Exception]:
    """Imported only when an exception is being matched: `bot health` never opens the ledger."""
    import sqlite3

    return sqlite3.Error


if __name__ == "__main__":
    raise SystemExit(main())
