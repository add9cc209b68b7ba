"""Walk-forward: was the pick a lucky one? Each season, the cell that did best on the seasons before it, and how
that pick then did on the season itself, next to the user's fixed settings.

"Best" is the largest sum of season excess returns (percentage points over the benchmark, 0 for a season without
a trade) over all earlier seasons; a tie goes to the first cell in grid order. The first season has no history,
so it is not scored. A season's return is flat (0) when the pick made no trade in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.research.scores import Scores, number


@dataclass(frozen=True)
class SeasonPick:
    season: int
    pick: int  # the cell picked on the earlier seasons
    in_sample_excess_pct: float
    pick_return: float  # ratios, NaN when the pick did not trade that season
    pick_benchmark: float
    default_return: float
    default_benchmark: float


@dataclass(frozen=True)
class WalkForward:
    cells_tried: int
    picks: tuple[SeasonPick, ...]

    def compounded(self, attribute: str) -> float | None:
        values = np.asarray([getattr(pick, attribute) for pick in self.picks], dtype=float)
        if values.size == 0:
            return None
        return float(np.prod(1.0 + np.nan_to_num(values)) - 1.0) * 100


def walk_forward(scores: Scores, default: Scores) -> WalkForward:
    """Picks among the grid's cells (``scores``); ``default`` is the one cell of the user's own settings."""
    excess = np.nan_to_num(scores.season_return - scores.season_benchmark) * 100
    before = np.zeros(excess.shape[0])
    picks = []
    for column, season in enumerate(scores.seasons):
        if column > 0:
            pick = int(np.argmax(before))
            mine, theirs = _season_of(default, int(season))
            picks.append(
                SeasonPick(
                    season=int(season),
                    pick=pick,
                    in_sample_excess_pct=float(before[pick]),
                    pick_return=float(scores.season_return[pick, column]),
                    pick_benchmark=float(scores.season_benchmark[pick, column]),
                    default_return=mine,
                    default_benchmark=theirs,
                )
            )
        before = before + excess[:, column]
    return WalkForward(excess.shape[0], tuple(picks))


def _season_of(scores: Scores, season: int) -> tuple[float, float]:
    """The first cell's return and benchmark in ``season`` (NaN when it did not trade then)."""
    where = np.flatnonzero(scores.seasons == season)
    if where.size == 0:
        return float("nan"), float("nan")
    return float(scores.season_return[0, where[0]]), float(scores.season_benchmark[0, where[0]])


def walk_forward_json(result: WalkForward, settings_of: Any) -> dict[str, Any]:
    def pct(value: float) -> float | None:
        return number(value * 100)

    return {
        "cells_tried": result.cells_tried,
        "seasons": [
            {
                "season": p.season,
                "pick": settings_of(p.pick),
                "in_sample_excess_pct": number(p.in_sample_excess_pct),
                "return_pct": pct(p.pick_return),
                "benchmark_return_pct": pct(p.pick_benchmark),
                "default_return_pct": pct(p.default_return),
                "default_benchmark_return_pct": pct(p.default_benchmark),
            }
            for p in result.picks
        ],
        "out_of_sample": {
            "return_pct": _round(result.compounded("pick_return")),
            "benchmark_return_pct": _round(result.compounded("pick_benchmark")),
            "default_return_pct": _round(result.compounded("default_return")),
            "default_benchmark_return_pct": _round(result.compounded("default_benchmark")),
        },
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def render_walk_forward(result: WalkForward, settings_of: Any) -> list[str]:
    lines = [f"walk-forward over {len(result.picks)} seasons, picking among {result.cells_tried} cells:"]
    lines.append(f"  {'season':<7}{'pick':<44}{'return':>9}{'bench':>9}{'default':>9}{'bench':>9}")
    for p in result.picks:
        pick = ", ".join(f"{k.removeprefix('STRATEGY_')}={v}" for k, v in settings_of(p.pick).items()) or "-"
        lines.append(
            f"  {p.season:<7}{pick[:43]:<44}{_pct(p.pick_return):>9}{_pct(p.pick_benchmark):>9}"
            f"{_pct(p.default_return):>9}{_pct(p.default_benchmark):>9}"
        )
    picked, bench = result.compounded("pick_return"), result.compounded("pick_benchmark")
    fixed, fixed_bench = result.compounded("default_return"), result.compounded("default_benchmark")
    if picked is not None and bench is not None and fixed is not None and fixed_bench is not None:
        lines.append(
            f"  out of sample: picks {picked:+.2f}% vs the benchmark {bench:+.2f}% over the same holds; "
            f"your settings {fixed:+.2f}% vs {fixed_bench:+.2f}%"
        )
    return lines


def _pct(value: float) -> str:
    return "no trade" if np.isnan(value) else f"{value * 100:+.2f}%"
