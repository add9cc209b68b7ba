"""The season's score from the ledger: the same JSON shape and chart as the backtest."""

from __future__ import annotations

from decimal import Decimal

from bot.ledger import FillRecord, Ledger
from bot.scoring import HoldPoint, RoundTrip, Scorecard, max_drawdown_pct
from bot.trader import season_trips
from strategies.params import BreakoutParams


def ledger_scorecard(ledger: Ledger, params: BreakoutParams) -> Scorecard:
    snapshots = ledger.snapshots()
    trips: list[RoundTrip] = [trip for _, trip in season_trips(ledger, params)]
    open_entries = _open_entries(ledger, params, {season for season, _ in season_trips(ledger, params)})
    if open_entries and snapshots:
        last = snapshots[-1]
        first = open_entries[0]
        qty = sum((f.qty for f in open_entries), Decimal(0))
        mark = last.position_value / last.position_qty if last.position_qty else first.price
        benchmark_mark = (
            first.benchmark_price * last.benchmark_value / (qty * first.price)
            if last.benchmark_value
            else first.benchmark_price
        )
        trips.append(
            RoundTrip(
                params.symbol,
                int(qty),
                first.session,
                first.price,
                last.session,
                mark.normalize(),
                first.benchmark_price,
                benchmark_mark.quantize(Decimal("0.0001")).normalize(),
                closed=False,
            )
        )
    start = Decimal(ledger.fact("start_equity") or "0")
    equity = [s.equity for s in snapshots]
    return Scorecard(
        symbol=params.symbol,
        benchmark=params.benchmark,
        trades=tuple(trips),
        start_equity=start,
        end_equity=equity[-1] if equity else start,
        max_drawdown_pct=max_drawdown_pct(equity),
        hold_curve=tuple(
            HoldPoint(s.session, s.position_value, s.benchmark_value) for s in snapshots if s.position_qty > 0
        ),
    )


def _open_entries(ledger: Ledger, params: BreakoutParams, closed_seasons: set[int]) -> list[FillRecord]:
    return [
        f
        for f in ledger.fills()
        if f.symbol == params.symbol and f.intent == "entry" and f.season not in closed_seasons
    ]
