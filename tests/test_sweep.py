"""``bot sweep`` agrees with the event-driven backtest cell by cell."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.backtest.engine import run_backtest
from bot.cli import main
from bot.market.calendar import nyse_sessions
from bot.market.csv_data import load_symbols
from bot.market.scenarios import write_scenario
from bot.sweep import SweepResult, sweep
from strategies.params import BreakoutParams
from tests.scenario_files import simple_breakout

CELL_KEYS = {
    "level",
    "hold",
    "entry_date",
    "entry_price",
    "exit_date",
    "exit_price",
    "return_pct",
    "benchmark_return_pct",
    "excess_return_pct",
    "ratio",
    "claim_holds",
}


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    assert main(["sweep", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def assert_cell_is_the_backtest(
    result: SweepResult,
    frames: dict[str, pd.DataFrame],
    i: int,
    j: int,
    exit_date: date,
    start: date | None = None,
) -> None:
    """Cell (i, j) holds exactly the first round trip the backtest makes with that level and exit date."""
    params = BreakoutParams(level=float(result.levels[i]), exit_date=exit_date)
    card = run_backtest(frames, params, cash=Decimal(100000), start=start).scorecard
    closed = [t for t in card.trades if t.closed]
    if result.exit_index[i, j] < 0:
        assert closed == []
        return
    trade = closed[0]
    assert result.sessions[result.entry_index[i]] == trade.entry_session
    assert result.sessions[result.exit_index[i, j]] == trade.exit_session
    assert result.entry_price[i] == float(trade.entry_price)
    assert result.exit_price[i, j] == float(trade.exit_price)
    assert result.return_pct[i, j] == pytest.approx(float(trade.return_ratio) * 100, abs=1e-9)
    assert result.benchmark_return_pct[i, j] == pytest.approx(float(trade.benchmark_return_ratio) * 100, abs=1e-9)


def test_grid_shape_and_a_hand_computed_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    days = simple_breakout(tmp_path)
    result = run_json(capsys, "--data", str(tmp_path), "--levels", "195:205:5", "--hold-days", "0:20:10")
    assert result["levels"] == [195.0, 200.0, 205.0] and result["holds"] == ["0", "10", "20"]
    assert len(result["cells"]) == 9 and all(set(cell) == CELL_KEYS for cell in result["cells"])
    cell = next(c for c in result["cells"] if c["level"] == 200.0 and c["hold"] == "10")
    # IWM first closes above 200 on Dec 13 (201); bought at Dec 14's open, a dollar above that close.
    entry = days.index(date(2023, 12, 14))
    exit_close = 201.0 + 0.1 * (days[entry + 10] - date(2023, 12, 13)).days
    assert cell["entry_date"] == "2023-12-14" and cell["exit_date"] == days[entry + 10].isoformat()
    assert cell["entry_price"] == 202.0 and cell["exit_price"] == pytest.approx(exit_close)
    assert cell["return_pct"] == pytest.approx((exit_close / 202.0 - 1) * 100, abs=1e-4)
    spy = ((450.0 + 0.2 * (entry + 10)) / (449.9 + 0.2 * entry) - 1) * 100
    assert cell["benchmark_return_pct"] == pytest.approx(spy, abs=1e-4)
    assert cell["excess_return_pct"] == pytest.approx(cell["return_pct"] - spy, abs=2e-4)
    assert cell["ratio"] == pytest.approx(cell["return_pct"] / spy, abs=1e-3)
    assert cell["claim_holds"] is (cell["return_pct"] > 0 and cell["return_pct"] >= 2 * spy)
    unreached = run_json(capsys, "--data", str(tmp_path), "--levels", "300:300:1", "--hold-days", "10:10:1")
    assert unreached["cells"] == [{**dict.fromkeys(CELL_KEYS), "level": 300.0, "hold": "10"}]


@pytest.mark.parametrize("scenario", ["breakout", "false-breakout", "gap-through"])
def test_exit_date_cells_equal_the_event_driven_backtest(tmp_path: Path, scenario: str) -> None:
    write_scenario(scenario, tmp_path, seed=11)
    frames = load_symbols(tmp_path, ["IWM", "SPY"])
    levels = np.arange(196.0, 206.0, 0.5)
    # A Thursday, a Friday, a Saturday and a holiday (July 4th) as exit dates.
    exits = [date(2024, 3, 28), date(2024, 6, 28), date(2024, 6, 29), date(2024, 7, 4)]
    result = sweep(frames["IWM"], frames["SPY"], levels, exit_dates=exits)
    assert (result.exit_index >= 0).any()
    rng = np.random.default_rng(0)
    for i in rng.choice(levels.size, size=6, replace=False):
        for j, exit_date in enumerate(exits):
            assert_cell_is_the_backtest(result, frames, int(i), j, exit_date)


def test_an_exit_date_between_the_breakout_and_the_entry_sells_at_the_entry_close(tmp_path: Path) -> None:
    simple_breakout(tmp_path, cross=date(2023, 12, 15))  # a Friday
    frames = load_symbols(tmp_path, ["IWM", "SPY"])
    exits = [date(2023, 12, 15), date(2023, 12, 16), date(2023, 12, 18)]
    result = sweep(frames["IWM"], frames["SPY"], np.array([200.0]), exit_dates=exits)
    # On the breakout's own day: not bought. The Saturday after: bought Monday, sold Monday as overdue.
    assert result.exit_index[0, 0] == -1
    assert result.sessions[result.exit_index[0, 1]] == result.sessions[result.exit_index[0, 2]] == date(2023, 12, 18)
    for j, exit_date in enumerate(exits):
        assert_cell_is_the_backtest(result, frames, 0, j, exit_date)


def test_hold_day_cells_equal_the_backtest_exiting_that_many_sessions_later(tmp_path: Path) -> None:
    write_scenario("breakout", tmp_path, seed=3)
    frames = load_symbols(tmp_path, ["IWM", "SPY"])
    levels = np.arange(190.0, 205.0, 1.0)
    holds = [0, 1, 7, 60, 400]
    result = sweep(frames["IWM"], frames["SPY"], levels, hold_days=holds)
    for i in range(0, levels.size, 3):
        entry = int(result.entry_index[i])
        for j, hold in enumerate(holds):
            if entry < 0 or entry + hold >= len(result.sessions):
                assert result.exit_index[i, j] == -1 and np.isnan(result.return_pct[i, j])
                continue
            assert result.exit_index[i, j] == entry + hold
            assert_cell_is_the_backtest(result, frames, i, j, result.sessions[entry + hold])


def test_start_skips_earlier_breakouts_as_the_backtest_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_scenario("false-breakout", tmp_path, seed=5)
    frames = load_symbols(tmp_path, ["IWM", "SPY"])
    start, exit_date = date(2024, 1, 2), date(2024, 6, 28)
    out = run_json(
        capsys, "--data", str(tmp_path), "--levels", "180:204:4", "--exit-dates", "2024-06-28", "--start", "2024-01-02"
    )
    for cell in out["cells"]:
        params = BreakoutParams(level=cell["level"], exit_date=exit_date)
        trades = run_backtest(frames, params, cash=Decimal(100000), start=start).scorecard.trades
        if cell["entry_date"] is None:
            assert trades == ()
            continue
        first = trades[0]
        assert (cell["entry_date"], cell["entry_price"]) == (first.entry_session.isoformat(), float(first.entry_price))
        assert (cell["exit_date"], cell["exit_price"]) == (first.exit_session.isoformat(), float(first.exit_price))


DAYS = nyse_sessions(date(2023, 1, 3), date(2023, 6, 30))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    length=st.integers(2, 90),
    level=st.sampled_from([99.0, 100.0, 101.5]),
    exit_offsets=st.lists(st.integers(-3, 140), min_size=1, max_size=4),
)
def test_random_histories_agree_with_the_backtest(
    seed: int, length: int, level: float, exit_offsets: list[int]
) -> None:
    rng = np.random.default_rng(seed)
    closes = (100 + np.cumsum(rng.normal(0, 1.2, length))).clip(1).round(2)
    opens = (np.concatenate([[closes[0]], closes[:-1]]) * (1 + rng.normal(0, 0.01, length))).round(2)
    frame = pd.DataFrame(
        {"open": opens, "high": np.maximum(opens, closes) + 1, "low": np.minimum(opens, closes) - 0.5},
        index=pd.Index(DAYS[:length], name="date"),
    ).assign(close=closes, volume=1.0)
    frames = {"IWM": frame, "SPY": (frame * 4.1).round(2)}
    # Exit dates on any calendar day, weekends and holidays included, some before the data or after it.
    exits = sorted({DAYS[0] + timedelta(days=offset) for offset in exit_offsets})
    result = sweep(frames["IWM"], frames["SPY"], np.array([level]), exit_dates=exits)
    for j, exit_date in enumerate(exits):
        if exit_date > DAYS[length - 1]:
            assert result.exit_index[0, j] == -1  # the session it would sell on is not in the data
            continue
        assert_cell_is_the_backtest(result, frames, 0, j, exit_date)


def test_text_summary_and_heatmap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    simple_breakout(tmp_path / "d")
    chart = tmp_path / "heat.png"
    args = ["--data", str(tmp_path / "d"), "--levels", "190:210:1", "--hold-days", "5:60:5", "--chart", str(chart)]
    assert main(["sweep", *args]) == 0
    out = capsys.readouterr().out
    assert out.startswith("21 levels x 12 holds = 252 cells")
    assert "best excess" in out
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--levels", "210:190:1", "--hold-days", "5:10:1"], "--levels '210:190:1': STEP must be positive"),
        (["--levels", "abc", "--hold-days", "5:10:1"], "--levels 'abc': expected START:STOP:STEP"),
        (["--levels", "190:210", "--hold-days", "5:10:1"], "--levels '190:210': expected START:STOP:STEP"),
        (["--levels", "0:10:1", "--hold-days", "5:10:1"], "--levels '0:10:1': levels must be positive"),
        (["--levels", "nan:210:1", "--hold-days", "5:10:1"], "--levels 'nan:210:1': START, STOP and STEP must be"),
        (["--levels", "190:inf:1", "--hold-days", "5:10:1"], "--levels '190:inf:1': START, STOP and STEP must be"),
        (["--levels", "190:210:1e-9", "--hold-days", "5:10:1"], "values is more than 100000"),
        (["--levels", "190:210:1", "--hold-days", "5:10:0.5"], "--hold-days '5:10:0.5': whole numbers only"),
        (["--levels", "190:210:1", "--hold-days=-5:10:1"], "--hold-days '-5:10:1': must not be negative"),
        (["--levels", "190:210:1", "--hold-days", "10:5:1"], "--hold-days '10:5:1': STEP must be positive"),
        (["--levels", "100:300:0.01", "--hold-days", "1:100:1"], "make 2000100 cells, more than 1000000"),
        (["--levels", "190:210:1", "--exit-dates", "2024-13-01"], "--exit-dates '2024-13-01'"),
        (["--levels", "190:210:1", "--exit-dates", ","], "--exit-dates: give at least one date"),
        (["--levels", "190:210:1", "--exit-dates", "2024-06-28", "--start", "June"], "--start: 'June' is not a date"),
    ],
)
def test_bad_grids_exit_2_naming_the_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    simple_breakout(tmp_path)
    assert exit_code(["sweep", "--data", str(tmp_path), *args]) == 2
    err = capsys.readouterr()
    assert expected in err.err and err.out == ""


def exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own errors (a --start that is not a date)
        return int(str(exc.code))
