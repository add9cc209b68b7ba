"""The scorecard as JSON and as a table: each season with its own benchmark leg and verdict, then the whole.

Both legs are shown on price and on total return (dividends). A season still open is marked at the last
close and gets no verdict: the claim is about a hold that ended. The summary compounds the seasons over
held days only and prints no price pair that would contradict its return.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bot.money import cents, pct
from bot.scoring import RoundTrip, Scorecard, claim_holds, season_ratio

if TYPE_CHECKING:
    from bot.stats import HoldStats

NEEDED_RATIO = 2  # the article: the symbol at least doubles the benchmark's return


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _ratio(mine: Decimal, theirs: Decimal) -> Decimal | None:
    return (mine / theirs).quantize(Decimal("0.0001")) if theirs != 0 else None


def hold_returns(card: Scorecard) -> tuple[list[float], list[float]]:
    """Daily returns of both legs over the held days, from the marks: first from the entry, then close to close."""
    mine: list[float] = []
    theirs: list[float] = []
    for legs in card.seasons().values():
        start, end = min(t.entry_session for t in legs), max(t.exit_session for t in legs)
        cost = sum((t.cost for t in legs), Decimal(0))
        previous = (cost, cost)
        for point in card.hold_curve:
            if start <= point.session <= end and point.position_value > 0:
                mine.append(float(point.position_value / previous[0] - 1))
                theirs.append(float(point.benchmark_value / previous[1] - 1))
                previous = (point.position_value, point.benchmark_value)
    return mine, theirs


def card_stats(card: Scorecard) -> HoldStats | None:
    from bot.stats import hold_stats  # numpy: loaded by the reports that print statistics, not the live loop

    return hold_stats(*hold_returns(card))


def _leg_json(t: RoundTrip, benchmark: str) -> dict[str, Any]:
    return {
        "season": t.season,
        "symbol": t.symbol,
        "entry_date": t.entry_session.isoformat(),
        "entry_price": _number(t.entry_price),
        "exit_date": t.exit_session.isoformat(),
        "exit_price": _number(t.exit_price),
        "qty": t.qty,
        "pnl": _number(t.pnl),
        "return_pct": _number(pct(t.return_ratio)),
        "dividends_per_share": _number(t.dividends_per_share),
        "total_return_pct": _number(pct(t.total_return_ratio)),
        "closed": t.closed,
        "benchmark": {
            "symbol": benchmark,
            "entry_price": _number(t.benchmark_entry_price),
            "exit_price": _number(t.benchmark_exit_price),
            "return_pct": _number(pct(t.benchmark_return_ratio)),
            "dividends_per_share": _number(t.benchmark_dividends_per_share),
            "total_return_pct": _number(pct(t.benchmark_total_return_ratio)),
        },
        "excess_return_pct": _number(pct(t.return_ratio - t.benchmark_return_ratio)),
        "total_excess_return_pct": _number(pct(t.total_return_ratio - t.benchmark_total_return_ratio)),
        "ratio": _number(_ratio(t.return_ratio, t.benchmark_return_ratio)),
    }


def season_verdicts(card: Scorecard) -> list[dict[str, Any]]:
    """Per season: both legs compounded over its legs, and the verdict once the season is closed."""
    verdicts = []
    for season, legs in card.seasons().items():
        closed = all(t.closed for t in legs)
        mine, theirs = (
            season_ratio(legs, lambda t: t.return_ratio),
            season_ratio(legs, lambda t: t.benchmark_return_ratio),
        )
        mine_total = season_ratio(legs, lambda t: t.total_return_ratio)
        theirs_total = season_ratio(legs, lambda t: t.benchmark_total_return_ratio)
        verdicts.append(
            {
                "season": season,
                "closed": closed,
                "return_pct": _number(pct(mine)),
                "benchmark_return_pct": _number(pct(theirs)),
                "total_return_pct": _number(pct(mine_total)),
                "benchmark_total_return_pct": _number(pct(theirs_total)),
                "ratio": _number(_ratio(mine, theirs)),
                "claim_holds": claim_holds(mine, theirs) if closed else None,
                "claim_holds_total": claim_holds(mine_total, theirs_total) if closed else None,
            }
        )
    return verdicts


def scorecard_json(card: Scorecard) -> dict[str, Any]:
    traded = bool(card.trades)
    closed = card.closed_trades
    stats = card_stats(card)
    return {
        "trades": [_leg_json(t, card.benchmark) for t in card.trades],
        "seasons": season_verdicts(card),
        "return_pct": _number(pct(card.strategy_return_ratio)) if traded else None,
        "total_return_pct": _number(pct(card.strategy_total_return_ratio)) if traded else None,
        "benchmark": {
            "symbol": card.benchmark,
            "return_pct": _number(pct(card.benchmark_return_ratio)) if traded else None,
            "total_return_pct": _number(pct(card.benchmark_total_return_ratio)) if traded else None,
        },
        "excess_return_pct": _number(card.excess_return_pct) if traded else None,
        "total_excess_return_pct": _number(pct(card.strategy_total_return_ratio - card.benchmark_total_return_ratio))
        if traded
        else None,
        "ratio": _number(_ratio(card.strategy_return_ratio, card.benchmark_return_ratio)) if traded else None,
        "start_equity": _number(card.start_equity),
        "end_equity": _number(card.end_equity),
        "max_drawdown_pct": _number(card.max_drawdown_pct),
        "claim_holds": _closed_claim(closed, total=False),
        "claim_holds_total": _closed_claim(closed, total=True),
        "stats": stats.as_dict() if stats else None,
    }


def _closed_claim(closed: Sequence[RoundTrip], *, total: bool) -> bool | None:
    if not closed:
        return None
    part = Scorecard("", "", tuple(closed), Decimal(0), Decimal(0), Decimal(0))
    return part.claim_holds_total if total else part.claim_holds


def verdict_line(card: Scorecard) -> str:
    if not card.trades:
        return f"Verdict: no trade, so the claim that {card.symbol} doubles {card.benchmark} was not tested."
    closed = Scorecard(card.symbol, card.benchmark, card.closed_trades, Decimal(0), Decimal(0), Decimal(0))
    if not closed.trades:
        return "Verdict: none yet: the trade is open (marked at the last close); the claim is judged at the exit."
    price_word = "held" if closed.claim_holds else "did NOT hold"
    total_word = "held" if closed.claim_holds_total else "did NOT hold"
    still_open = "" if closed.trades == card.trades else " (closed seasons only; one is still open)"
    return (
        f"Verdict: the claim {price_word} on price: {card.symbol} {pct(closed.strategy_return_ratio)}% vs "
        f"{card.benchmark} {pct(closed.benchmark_return_ratio)}%; with dividends it {total_word}: "
        f"{pct(closed.strategy_total_return_ratio)}% vs {pct(closed.benchmark_total_return_ratio)}% "
        f"(needs at least twice the benchmark){still_open}."
    )


def render_table(card: Scorecard) -> str:
    b = card.benchmark
    lines = [
        f"{'season':<6} {'symbol':<6} {'entry':<10} {'price':>9} {'exit':<10} {'price':>9} {'qty':>6} {'pnl':>11} "
        f"{'ret%':>8} {'total%':>8} {b + ' in':>9} {b + ' out':>9} {b + ' ret%':>9} {b + ' tot%':>9} {'excess':>8}"
    ]
    for t in card.trades:
        lines.append(
            f"{t.season:<6} {t.symbol:<6} {t.entry_session.isoformat():<10} {t.entry_price:>9} "
            f"{t.exit_session.isoformat():<10} {t.exit_price:>9} {t.qty:>6} {t.pnl:>11} {pct(t.return_ratio):>8} "
            f"{pct(t.total_return_ratio):>8} {t.benchmark_entry_price:>9} {t.benchmark_exit_price:>9} "
            f"{pct(t.benchmark_return_ratio):>9} {pct(t.benchmark_total_return_ratio):>9} "
            f"{pct(t.return_ratio - t.benchmark_return_ratio):>8}{'' if t.closed else '  (open, marked)'}"
        )
    if not card.trades:
        lines.append("(no trades)")
    lines.append("")
    for season in season_verdicts(card):
        judged = {True: "holds", False: "fails", None: "open: judged at the exit"}[season["claim_holds"]]
        lines.append(
            f"Season {season['season']}: {card.symbol} {season['return_pct']}% (total {season['total_return_pct']}%) "
            f"vs {b} {season['benchmark_return_pct']}% (total {season['benchmark_total_return_pct']}%), "
            f"ratio {season['ratio']}: the claim {judged}"
        )
    if card.trades:
        lines.append(
            f"All seasons, held days only: {card.symbol} {pct(card.strategy_return_ratio)}% "
            f"(total {pct(card.strategy_total_return_ratio)}%) vs {b} {pct(card.benchmark_return_ratio)}% "
            f"(total {pct(card.benchmark_total_return_ratio)}%); excess {card.excess_return_pct}%"
        )
    stats = card_stats(card)
    if stats is not None:
        lines.append(
            f"Over {stats.days} held days: beta {stats.beta:.3f}, alpha {stats.alpha * 100:.2f}%/yr, correlation "
            f"{stats.correlation:.3f}, tracking error {stats.tracking_error * 100:.2f}%, information ratio "
            f"{stats.information_ratio:.2f}, volatility {stats.volatility * 100:.2f}% vs "
            f"{stats.benchmark_volatility * 100:.2f}%, "
            f"max drawdown {stats.max_drawdown * 100:.2f}% vs {stats.benchmark_max_drawdown * 100:.2f}%"
        )
    lines.append(f"Equity: {cents(card.start_equity)} -> {cents(card.end_equity)}")
    lines.append(f"Max drawdown of equity: {card.max_drawdown_pct}%")
    lines.append(verdict_line(card))
    return "\n".join(lines)
