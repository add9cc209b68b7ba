"""The season's score from the ledger: the same JSON shape and chart as the backtest."""

from __future__ import annotations

from decimal import Decimal

from bot.engine.portfolio import Portfolio
from bot.ledger import Ledger
from bot.money import price
from bot.pnl import ledger_dividends
from bot.round_trips import closed_round_trips
from bot.scoring import HoldPoint, RoundTrip, Scorecard, max_drawdown_pct, with_dividends
from strategies.params import BreakoutParams


def ledger_scorecard(ledger: Ledger, params: BreakoutParams) -> Scorecard:
    snapshots, portfolio = ledger.snapshots(), Portfolio(ledger, params)
    trips: list[RoundTrip] = [trip for _, trip in closed_round_trips(portfolio)]
    still_open = portfolio.open_trade([])
    if still_open is not None and snapshots and snapshots[-1].position_qty > 0:
        # Marked like the backtest marks an open position: at the last recorded close, benchmark alike.
        last = snapshots[-1]
        dollars = still_open.qty * still_open.entry_price
        trips.append(
            RoundTrip(
                symbol=params.symbol,
                qty=int(still_open.qty),
                entry_session=still_open.entry_session,
                entry_price=still_open.entry_price,
                exit_session=last.session,
                exit_price=price(last.position_value / last.position_qty),
                benchmark_entry_price=still_open.benchmark_entry_price,
                benchmark_exit_price=price(still_open.benchmark_entry_price * last.benchmark_value / dollars),
                closed=False,
                season=still_open.season,
            )
        )
    start = ledger.meta().start_equity or Decimal(0)
    equity = [s.equity for s in snapshots]
    card = Scorecard(
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
    return with_dividends(card, ledger_dividends(ledger))
