"""``bot backtest --by-season``: one row per season from the first traded session's to the last's, trade or not.

A row has the signal (the close the buy was decided on), the entry and the exit, both legs on price and with
dividends, the excess on price and the verdict (the claim: at least twice the benchmark's return, on price; an
open season has none yet). A season without a trade says so: the claim was not tested in it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from bot.market.bar_sources import BarSource, traded_days
from bot.score_output import season_verdicts
from bot.scoring import Scorecard
from strategies.breakout import Action, Decision, season_for
from strategies.params import BreakoutParams


def traded_sessions(frames: Mapping[str, BarSource], params: BreakoutParams) -> list[date]:
    return traded_days(frames[params.symbol])


def season_rows(
    card: Scorecard,
    decisions: Sequence[Decision],
    sessions: Sequence[date],
    params: BreakoutParams,
    start: date | None,
    end: date | None,
) -> list[dict[str, Any]]:
    inside = [d for d in sessions if (start is None or d >= start) and (end is None or d <= end)]
    if not inside:
        return []
    verdicts = {v["season"]: v for v in season_verdicts(card)}
    legs_by_season = card.seasons()
    buys = sorted(d.session for d in decisions if d.action is Action.BUY and d.session is not None)
    rows: list[dict[str, Any]] = []
    for season in range(season_for(inside[0], sessions, params), season_for(inside[-1], sessions, params) + 1):
        legs = legs_by_season.get(season)
        if not legs:
            rows.append({"season": season, "traded": False})
            continue
        entry = min(legs, key=lambda t: t.entry_session)
        exit_ = max(legs, key=lambda t: t.exit_session)
        signal = buys[bisect_left(buys, entry.entry_session) - 1] if buys and buys[0] < entry.entry_session else None
        verdict = verdicts[season]
        rows.append(
            {
                "season": season,
                "traded": True,
                "signal_date": signal.isoformat() if signal else None,
                "entry_date": entry.entry_session.isoformat(),
                "entry_price": float(entry.entry_price),
                "exit_date": exit_.exit_session.isoformat(),
                "exit_price": float(exit_.exit_price),
                "trades": len(legs),
                **{k: verdict[k] for k in ("closed", "return_pct", "total_return_pct", "benchmark_return_pct")},
                "benchmark_total_return_pct": verdict["benchmark_total_return_pct"],
                "excess_return_pct": round(verdict["return_pct"] - verdict["benchmark_return_pct"], 4),
                "claim_holds": verdict["claim_holds"],
                "claim_holds_total": verdict["claim_holds_total"],
            }
        )
    return rows


def render_seasons(rows: Sequence[dict[str, Any]], symbol: str, benchmark: str) -> str:
    head = (
        f"{'season':<7}{'signal':<11}{'entry':<11}{'exit':<11}{symbol + ' %':>9}{'total %':>9}"
        f"{benchmark + ' %':>9}{'total %':>9}{'excess':>9}  verdict"
    )
    lines = [head]
    for row in rows:
        if not row["traded"]:
            lines.append(f"{row['season']:<7}no trade: the claim was not tested")
            continue
        verdict = {True: "holds", False: "fails", None: "open"}[row["claim_holds"]]
        lines.append(
            f"{row['season']:<7}{row['signal_date'] or '-':<11}{row['entry_date']:<11}{row['exit_date']:<11}"
            f"{row['return_pct']:>+9.2f}{row['total_return_pct']:>+9.2f}{row['benchmark_return_pct']:>+9.2f}"
            f"{row['benchmark_total_return_pct']:>+9.2f}{row['excess_return_pct']:>+9.2f}  {verdict}"
        )
    traded = [r for r in rows if r["traded"] and r["closed"]]
    held = sum(1 for r in traded if r["claim_holds"])
    lines.append(f"{len(rows)} seasons, {len(traded)} closed with a trade, the claim held in {held}")
    return "\n".join(lines)
