"""``bot report --vs-backtest``: the live fills against the backtest of the same period on the broker's own bars.

Per fill: the live price, the backtest's, and the slippage in basis points and dollars (positive: the live fill
cost the bot, a dearer buy or a cheaper sell). Per session: every decision whose reason differs. Parity in
production: the backtest is the claim about what the bot does, and this checks it on the account's history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from bot.ledger import Ledger
from bot.money import cents
from bot.round_trips import Fill, fills_by_order
from strategies.breakout import Decision

BASIS_POINTS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class FillComparison:
    side: str
    session: date
    qty: Decimal
    live_price: Decimal | None
    backtest_price: Decimal | None
    backtest_session: date | None

    @property
    def slippage_bps(self) -> Decimal | None:
        if self.live_price is None or self.backtest_price is None:
            return None
        sign = 1 if self.side == "buy" else -1
        return (sign * (self.live_price - self.backtest_price) / self.backtest_price * BASIS_POINTS).quantize(
            Decimal("0.01")
        )

    @property
    def slippage_dollars(self) -> Decimal | None:
        if self.live_price is None or self.backtest_price is None:
            return None
        sign = 1 if self.side == "buy" else -1
        return cents(sign * (self.live_price - self.backtest_price) * self.qty)


def compare_fills(live: Sequence[Fill], replay: Sequence[Fill]) -> list[FillComparison]:
    """Pair the n-th live buy with the n-th backtest buy (sells alike); an unpaired fill shows with a blank side."""
    paired: list[FillComparison] = []
    for side in ("buy", "sell"):
        mine = [fill for fill in live if fill.side == side]
        theirs = [fill for fill in replay if fill.side == side]
        for index in range(max(len(mine), len(theirs))):
            ours = mine[index] if index < len(mine) else None
            other = theirs[index] if index < len(theirs) else None
            paired.append(
                FillComparison(
                    side=side,
                    session=ours.session if ours else other.session,  # type: ignore[union-attr]
                    qty=Decimal(ours.qty if ours else other.qty),  # type: ignore[union-attr]
                    live_price=ours.price.quantize(Decimal("0.0001")) if ours else None,
                    backtest_price=other.price if other else None,
                    backtest_session=other.session if other else None,
                )
            )
    return sorted(paired, key=lambda c: c.session)


def differing_decisions(live: Mapping[date, str], replay: Sequence[Decision]) -> list[dict[str, str]]:
    """Sessions both decided with another reason (entry decisions; the live loop records one per session)."""
    replayed = {d.session: d.reason.value for d in replay if d.session is not None and d.session in live}
    return [
        {"session": day.isoformat(), "live": live[day], "backtest": reason}
        for day, reason in sorted(replayed.items())
        if live[day] != reason
    ]


def live_decisions(ledger: Ledger) -> dict[date, str]:
    return ledger.decisions()


def comparison_json(fills: Sequence[FillComparison], decisions: Sequence[dict[str, str]]) -> dict[str, Any]:
    def number(value: Decimal | None) -> float | None:
        return None if value is None else float(value)

    return {
        "fills": [
            {
                "side": c.side,
                "session": c.session.isoformat(),
                "backtest_session": c.backtest_session.isoformat() if c.backtest_session else None,
                "qty": number(c.qty),
                "live_price": number(c.live_price),
                "backtest_price": number(c.backtest_price),
                "slippage_bps": number(c.slippage_bps),
                "slippage_dollars": number(c.slippage_dollars),
            }
            for c in fills
        ],
        "decisions_that_differ": list(decisions),
    }


def _cell(value: Decimal | None) -> str:
    return "-" if value is None else str(value)


def render_comparison(fills: Sequence[FillComparison], decisions: Sequence[dict[str, str]]) -> str:
    lines = [f"{'side':<5} {'session':<10} {'qty':>6} {'live':>10} {'backtest':>10} {'bps':>8} {'dollars':>10}"]
    for c in fills:
        moved = "" if c.backtest_session in (None, c.session) else f"  (backtest filled {c.backtest_session})"
        lines.append(
            f"{c.side:<5} {c.session.isoformat():<10} {c.qty:>6} {_cell(c.live_price):>10} "
            f"{_cell(c.backtest_price):>10} {_cell(c.slippage_bps):>8} {_cell(c.slippage_dollars):>10}{moved}"
        )
    if not fills:
        lines.append("(no fills on either side)")
    differ = "; ".join(f"{d['session']} live {d['live']}, backtest {d['backtest']}" for d in decisions)
    lines.append(
        f"Decisions that differ: {differ}" if decisions else "Decisions: the same on every session both decided."
    )
    return "\n".join(lines)


def replay_against_ledger(ledger: Ledger, settings: Any) -> tuple[list[FillComparison], list[dict[str, str]]]:
    """Backtest the ledger's period on the broker's daily bars and compare (needs the broker)."""
    from bot.backtest.alpaca_source import download_daily_frames
    from bot.backtest.engine import run_backtest
    from bot.broker.alpaca import AlpacaBroker
    from bot.errors import ConfigError

    start = ledger.meta().first_session
    if start is None:
        raise ConfigError(f"the ledger at {ledger.path} has no scored session yet; nothing to compare")
    params = settings.strategy.params()
    today = AlpacaBroker(settings).clock().now.date()
    frames = download_daily_frames(settings, [params.symbol, params.benchmark], start=start, end=today)
    cash = ledger.meta().start_equity or Decimal(100000)
    result = run_backtest(frames, params, cash=cash, start=start, end=today)
    fills = compare_fills(fills_by_order(ledger.fills()), result.fills)
    return fills, differing_decisions(live_decisions(ledger), result.decisions)
