"""What produced a backtest's numbers (the settings, the data, the range), and why it made no trade."""

from __future__ import annotations

import argparse
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot import __version__
from bot.config import Settings
from bot.market.bar_sources import BarSource, has_recorded_minutes, session_days
from strategies.breakout import Decision
from strategies.params import BreakoutParams, Trigger


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _span(source: BarSource) -> dict[str, str]:
    days = session_days(source)
    return {"first": min(days).isoformat(), "last": max(days).isoformat()} if days else {}


def backtest_provenance(
    args: argparse.Namespace, settings: Settings, frames: Mapping[str, BarSource], dividend_files: Sequence[str]
) -> dict[str, Any]:
    if args.data:
        source: dict[str, Any] = {
            "kind": "csv",
            "files": {
                symbol: {"path": str(args.data / f"{symbol}.csv"), "sha256": _digest(args.data / f"{symbol}.csv")}
                for symbol in frames
            },
        }
    elif args.scenario:
        source = {"kind": "scenario", "name": args.scenario, "seed": args.seed}
    else:
        source = {"kind": "alpaca", "data_url": settings.alpaca.data_url}
    redacted = settings.redacted()
    fates = f"order fates {args.faults} (seed {args.seed})" if args.faults else "every order filled in full"
    return {
        "engine": "the live loop's cycle on the local exchange's venue model, in-process",
        "fills": f"{fill_model(settings.strategy.params(), frames)}; {fates}",
        "version": __version__,
        "settings": {k: v for k, v in redacted.items() if k.startswith("STRATEGY_")},
        "data": {
            **source,
            "spans": {symbol: _span(frame) for symbol, frame in frames.items()},
            "dividends": list(dividend_files) or "none (price return equals total return)",
        },
        "start": args.start.isoformat() if args.start else None,
        "end": args.end.isoformat() if args.end else None,
        "cash": str(args.cash),
    }


def fill_model(params: BreakoutParams, frames: Mapping[str, BarSource]) -> str:
    """How the venue filled the bot's orders, said plainly: a modelled intraday path is an estimate, not a record."""
    exit_rule = "exit at the exit session's close (cls)"
    if params.trigger is Trigger.CLOSE:
        return f"entry at the open after the signal close (opg); {exit_rule}"
    if has_recorded_minutes(frames[params.symbol]):
        return f"entry at the open of the minute after the breakout minute (recorded minute bars); {exit_rule}"
    return (
        "entry at the open of the minute after the breakout minute, on a MODELLED minute path through each day's "
        f"open, high, low and close (daily bars only: an estimate, not a record); {exit_rule}"
    )


def provenance_line(provenance: dict[str, Any]) -> str:
    data = provenance["data"]
    where = data.get("name") or ", ".join(f["path"] for f in data.get("files", {}).values()) or data.get("data_url")
    changed = {k: v for k, v in provenance["settings"].items() if v is not None}
    settings = ", ".join(f"{k}={v}" for k, v in sorted(changed.items()))
    return (
        f"From {data['kind']} {where} ({provenance['start'] or 'first'} to {provenance['end'] or 'last'} session); "
        f"dividends: {data['dividends'] if isinstance(data['dividends'], str) else ', '.join(data['dividends'])}; "
        f"settings: {settings}; engine: {provenance['engine']}; fills: {provenance['fills']}"
    )


def no_trade_reason(decisions: Sequence[Decision], params: BreakoutParams) -> str:
    """Why a backtest made no trade, from its decisions: how often each reason came up."""
    if not decisions:
        return "No trade: no session was decided (the range holds no session after the history)."
    counts = Counter(d.reason.value for d in decisions)
    listed = ", ".join(f"{reason} ×{count}" for reason, count in counts.most_common())
    closes = [d.price for d in decisions if d.price is not None]
    highest = f"; the highest close was {max(closes):.2f}" if closes else ""
    return (
        f"No trade: the {len(decisions)} sessions decided were {listed}{highest}, against a threshold of "
        f"{params.threshold:.2f}."
    )
