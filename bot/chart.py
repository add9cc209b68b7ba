"""PNG chart of the position's value against the same dollars in the benchmark over the hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.scoring import Scorecard


def write_hold_chart(card: Scorecard, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, subplot = plt.subplots(figsize=(10, 5), dpi=100)
    axes: Any = subplot  # matplotlib's stubs do not accept dates on the x axis, which it plots fine
    try:
        points = card.hold_curve
        if points:
            days = [p.session for p in points]
            axes.plot(days, [float(p.position_value) for p in points], label=f"{card.symbol} position")
            axes.plot(days, [float(p.benchmark_value) for p in points], label=f"{card.benchmark}, same dollars")
            for trade in card.trades:
                axes.axvline(trade.entry_session, color="green", linestyle="--", linewidth=1)
                axes.annotate("entry", (trade.entry_session, float(points[0].position_value)), color="green")
                if trade.closed:
                    axes.axvline(trade.exit_session, color="red", linestyle="--", linewidth=1)
                    axes.annotate("exit", (trade.exit_session, float(points[-1].position_value)), color="red")
            axes.legend()
        else:
            axes.text(0.5, 0.5, "no position was held", ha="center", va="center", transform=axes.transAxes)
        axes.set_title(f"{card.symbol} vs {card.benchmark}: value over the hold")
        axes.set_ylabel("USD")
        figure.autofmt_xdate()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    finally:
        plt.close(figure)
