"""What ``bot sweep`` prints: one JSON document, or a summary with the best and worst cells; and the heatmap."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from bot.research.grid import Grid
from bot.research.replay import Replay
from bot.research.scores import Scores, claim, number, ratio, trades_by_cell

TOP = 10


def plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def settings_of(grid: Grid, cell: int) -> dict[str, Any]:
    return {name: plain(value) for name, value in grid.coordinates(cell).items()}


def cells_json(grid: Grid, result: Replay, scores: Scores) -> list[dict[str, Any]]:
    cells = []
    trades = trades_by_cell(result)
    for cell in range(len(grid.cells)):
        mine, theirs = scores.return_pct[cell], scores.benchmark_return_pct[cell]
        cells.append(
            {
                "settings": settings_of(grid, cell),
                "trade_count": int(scores.trade_count[cell]),
                "return_pct": number(mine),
                "benchmark_return_pct": number(theirs),
                "excess_return_pct": number(mine - theirs),
                "ratio": ratio(mine, theirs),
                "claim_holds": claim(mine, theirs),
                "end_equity": round(float(scores.end_equity[cell]), 2),
                "pending_entry_qty": int(result.pending_qty[cell]),
                "trades": trades[cell],
            }
        )
    return cells


def describe(grid: Grid, cell: int) -> str:
    text = ", ".join(f"{name}={value}" for name, value in settings_of(grid, cell).items())
    return text or "your settings"


def render(symbol: str, benchmark: str, grid: Grid, scores: Scores) -> list[str]:
    count = len(grid.cells)
    excess = scores.excess_return_pct[:count]
    traded = int(np.count_nonzero(~np.isnan(excess)))
    shape = " x ".join(f"{len(axis.values)} {axis.variable}" for axis in grid.axes) or "1 cell"
    lines = [f"{symbol} vs {benchmark}: {shape} = {count} cells, {traded} with a trade (returns on price)"]
    if not traded:
        return lines
    order = np.argsort(-np.nan_to_num(excess, nan=-np.inf), kind="stable")[: min(TOP, traded)]
    lines.append(f"  {'excess':>9} {'return':>9} {'bench':>9} {'trades':>6}  settings")
    for cell in order:
        lines.append(
            f"  {excess[cell]:+8.2f}% {scores.return_pct[cell]:+8.2f}% {scores.benchmark_return_pct[cell]:+8.2f}%"
            f" {int(scores.trade_count[cell]):>6}  {describe(grid, int(cell))}"
        )
    worst = int(np.nanargmin(excess))
    lines.append(f"worst excess {excess[worst]:+.2f}% at {describe(grid, worst)}")
    mine, theirs = scores.return_pct[:count], scores.benchmark_return_pct[:count]
    claims = sum(claim(m, t) is True for m, t in zip(mine.tolist(), theirs.tolist(), strict=True))
    lines.append(
        f"median excess {np.nanmedian(excess):+.2f}%; cells beating the benchmark: {int(np.nansum(excess > 0))}; "
        f"cells where the claim (at least twice the benchmark) holds: {claims}"
    )
    return lines


def write_heatmap(grid: Grid, scores: Scores, path: Path, symbol: str, benchmark: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes_given = list(grid.axes)
    rows = axes_given[0].values if axes_given else ("your settings",)
    columns = axes_given[1].values if len(axes_given) > 1 else ("",)
    data = np.ma.masked_invalid(scores.excess_return_pct[: len(grid.cells)].reshape(len(rows), len(columns)))
    figure, plot = plt.subplots(figsize=(10, 6), dpi=100)
    try:
        limit = float(np.nanmax(np.abs(data))) if data.count() else 1.0
        image = plot.imshow(data, aspect="auto", origin="lower", cmap="RdYlGn", vmin=-limit, vmax=limit)
        figure.colorbar(image, ax=plot, label=f"excess return over {benchmark}, %")
        plot.set_ylabel(axes_given[0].variable if axes_given else "")
        plot.set_xlabel(axes_given[1].variable if len(axes_given) > 1 else "")
        row_ticks = np.linspace(0, len(rows) - 1, min(len(rows), 10)).astype(int)
        column_ticks = np.linspace(0, len(columns) - 1, min(len(columns), 10)).astype(int)
        plot.set_yticks(row_ticks, [str(plain(rows[r])) for r in row_ticks])
        plot.set_xticks(column_ticks, [str(plain(columns[c])) for c in column_ticks], rotation=45)
        plot.set_title(f"{symbol} breakout: excess return over {benchmark}")
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    finally:
        plt.close(figure)
