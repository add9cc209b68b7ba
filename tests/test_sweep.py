"""``bot sweep`` agrees with the event-driven backtest cell by cell."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from bot.backtest.engine import run_backtest
from bot.cli import main
from bot.market.csv_data import load_symbols
from bot.market.scenarios import write_scenario
from bot.sweep import sweep
from strategies.params import BreakoutParams
from tests.scenario_files import simple_breakout


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    assert main(["sweep", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_grid_shape_and_a_hand_computed_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    days = simple_breakout(tmp_path)
    result = run_json(capsys, "--data", str(tmp_path), "--levels", "195:205:5", "--hold-days", "0:20:10")
    assert result["levels"] == [195.0, 200.0, 205.0] and result["holds"] == ["0", "10", "20"]
    assert len(result["cells"]) == 9
    cell = next(c for c in result["cells"] if c["level"] == 200.0 and c["hold"] == "10")
    entry = days.index(date(2023, 12, 14))
    exit_close = 201.0 + 0.1 * (days[entry + 10] - date(2023, 12, 13)).days
    assert cell["entry_date"] == "2023-12-14" and cell["exit_date"] == days[entry + 10].isoformat()
    assert cell["return_pct"] == pytest.approx((exit_close / 202.0 - 1) * 100, abs=1e-4)
    spy = ((450.0 + 0.2 * (entry + 10)) / (449.9 + 0.2 * entry) - 1) * 100
    assert cell["benchmark_return_pct"] == pytest.approx(spy, abs=1e-4)
    unreached = run_json(capsys, "--data", str(tmp_path), "--levels", "300:300:1", "--hold-days", "10:10:1")
    assert unreached["cells"] == [
        {
            "level": 300.0,
            "hold": "10",
            "entry_date": None,
            "exit_date": None,
            "return_pct": None,
            "benchmark_return_pct": None,
            "excess_return_pct": None,
        }
    ]


@pytest.mark.parametrize("scenario", ["breakout", "false-breakout", "gap-through"])
def test_cells_equal_the_event_driven_backtest(tmp_path: Path, scenario: str) -> None:
    write_scenario(scenario, tmp_path, seed=11)
    frames = load_symbols(tmp_path, ["IWM", "SPY"])
    levels = np.arange(196.0, 206.0, 0.5)
    exits = [date(2024, 3, 28), date(2024, 6, 28), date(2024, 7, 12)]
    result = sweep(frames["IWM"], frames["SPY"], levels, exit_dates=exits)
    rng = np.random.default_rng(0)
    for i in rng.choice(levels.size, size=8, replace=False):
        for j, exit_date in enumerate(exits):
            params = BreakoutParams(level=float(levels[i]), exit_date=exit_date)
            card = run_backtest(frames, params, cash=Decimal(100000)).scorecard
            closed = [t for t in card.trades if t.closed]
            if result.exit_index[i, j] < 0:
                assert not closed or closed[0].entry_session > exit_date
                continue
            trade = closed[0]
            assert result.sessions[result.entry_index[i]] == trade.entry_session
            assert result.sessions[result.exit_index[i, j]] == trade.exit_session
            assert result.return_pct[i, j] == pytest.approx(float(trade.return_ratio) * 100, abs=1e-9)
            assert result.benchmark_return_pct[i, j] == pytest.approx(
                float(trade.benchmark_return_ratio) * 100, abs=1e-9
            )


def test_text_summary_and_heatmap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    simple_breakout(tmp_path / "d")
    chart = tmp_path / "heat.png"
    assert (
        main(
            [
                "sweep",
                "--data",
                str(tmp_path / "d"),
                "--levels",
                "190:210:1",
                "--hold-days",
                "5:60:5",
                "--chart",
                str(chart),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("21 levels x 12 holds = 252 cells")
    assert "best excess" in out
    assert chart.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--levels", "210:190:1", "--hold-days", "5:10:1"], "--levels '210:190:1': STEP must be positive"),
        (["--levels", "abc", "--hold-days", "5:10:1"], "--levels 'abc': expected START:STOP:STEP"),
        (["--levels", "0:10:1", "--hold-days", "5:10:1"], "levels must be positive"),
        (["--levels", "190:210:1", "--hold-days", "5:10:0.5"], "--hold-days '5:10:0.5': whole numbers only"),
        (["--levels", "190:210:1", "--exit-dates", "2024-13-01"], "--exit-dates '2024-13-01'"),
        (["--levels", "190:210:1", "--exit-dates", ","], "--exit-dates: give at least one date"),
    ],
)
def test_bad_grids_exit_2_naming_the_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    simple_breakout(tmp_path)
    assert main(["sweep", "--data", str(tmp_path), *args]) == 2
    assert expected in capsys.readouterr().err
