"""The hold chart: the position's value, the same dollars in the benchmark, and the value that would double
the benchmark's return (the article's claim). A PNG for ``bot report --chart``, SVG for the status page."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.scoring import Scorecard

FEW_POINTS = 20


@dataclass(frozen=True, slots=True)
class ChartPoint:
    session: date
    position_value: Decimal
    benchmark_value: Decimal
    cost: Decimal  # what the shares held that day cost: the base of both returns


@dataclass(frozen=True, slots=True)
class TradeSpan:
    entry: date
    exit: date | None  # None while open


def needed_to_double(point: ChartPoint) -> Decimal:
    """The position value at which the symbol's return is twice the benchmark's: cost × (1 + 2 × r_benchmark)."""
    return 2 * point.benchmark_value - point.cost


def card_points(card: Scorecard) -> tuple[list[ChartPoint], list[TradeSpan]]:
    spans = [TradeSpan(t.entry_session, t.exit_session if t.closed else None) for t in card.trades]
    points = []
    for p in card.hold_curve:
        trade = next((t for t in card.trades if t.entry_session <= p.session <= t.exit_session), None)
        if trade is not None and p.position_value > 0:
            points.append(ChartPoint(p.session, p.position_value, p.benchmark_value, trade.qty * trade.entry_price))
    return points, spans


def _render(
    points: Sequence[ChartPoint],
    spans: Sequence[TradeSpan],
    symbol: str,
    benchmark: str,
    fmt: str,
    size: tuple[int, int],
) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, subplot = plt.subplots(figsize=size, dpi=100)
    axes: Any = subplot  # matplotlib's stubs do not accept dates on the x axis, which it plots fine
    try:
        if points:
            days = [p.session for p in points]
            dots = {"marker": "o", "markersize": 4} if len(points) < FEW_POINTS else {}  # a line needs two points
            axes.plot(days, [float(p.position_value) for p in points], label=f"{symbol} position", color="tab:blue",
                      **dots)  # fmt: skip
            axes.plot(days, [float(p.benchmark_value) for p in points], label=f"{benchmark}, same dollars",
                      color="tab:orange", **dots)  # fmt: skip
            axes.plot(days, [float(needed_to_double(p)) for p in points], label=f"needed to double {benchmark}",
                      color="tab:gray", linestyle=":", **dots)  # fmt: skip
            for span in spans:
                axes.axvline(span.entry, color="green", linestyle="--", linewidth=1)
                if span.exit is not None:
                    axes.axvline(span.exit, color="red", linestyle="--", linewidth=1)
            axes.legend()
        else:
            axes.text(0.5, 0.5, "no position was held", ha="center", va="center", transform=axes.transAxes)
        axes.set_title(f"{symbol} vs {benchmark}: value over the hold")
        axes.set_ylabel("USD")
        figure.autofmt_xdate()
        out = io.BytesIO()
        figure.savefig(out, format=fmt)
        return out.getvalue()
    finally:
        plt.close(figure)


def write_hold_chart(card: Scorecard, path: Path) -> None:
    points, spans = card_points(card)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_render(points, spans, card.symbol, card.benchmark, "png", (10, 5)))


def hold_chart_svg(points: Sequence[ChartPoint], spans: Sequence[TradeSpan], symbol: str, benchmark: str) -> bytes:
    return _render(points, spans, symbol, benchmark, "svg", (9, 4))
