"""``bot sweep`` is ``bot backtest``'s rule: every cell equals the event-driven backtest with the same settings."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.backtest.engine import run_backtest
from bot.cli import main
from bot.market.calendar import nyse_sessions
from bot.research.cells import Cells
from bot.research.replay import Replay, replay
from bot.research.scores import score
from bot.research.series import UNITS, build_series
from bot.research.signals import Window
from strategies.params import Allocation, BreakoutParams, FixedNotional, FixedQuantity, LevelMode
from tests.scenario_files import simple_breakout

DAYS = nyse_sessions(date(2021, 1, 4), date(2024, 12, 31))


def frames_from(closes: np.ndarray, opens: np.ndarray, days: list[date]) -> dict[str, pd.DataFrame]:
    frame = pd.DataFrame(
        {"open": opens, "high": np.maximum(opens, closes) + 1, "low": np.minimum(opens, closes) - 0.5},
        index=pd.Index(days, name="date"),
    ).assign(close=closes, volume=1.0)
    spy = (frame * 4.1).round(2)
    return {"IWM": frame, "SPY": spy}


def random_history(seed: int, length: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    closes = (100 + np.cumsum(rng.normal(0, 1.5, length))).clip(5).round(2)
    opens = (np.concatenate([[closes[0]], closes[:-1]]) * (1 + rng.normal(0, 0.01, length))).round(2)
    return frames_from(closes, opens, DAYS[:length])


def trades_of(result: Replay, cell: int) -> list[tuple[Any, ...]]:
    s, t = result.series, result.trades
    return [
        (s.sessions[t.entry[i]], Decimal(int(s.open_units[t.entry[i]])) / UNITS, s.sessions[t.exit[i]],
         Decimal(int(s.close_units[t.exit[i]])) / UNITS, int(t.qty[i]), bool(t.closed[i]), int(t.season[i]))
        for i in np.flatnonzero(t.cell == cell)
    ]  # fmt: skip


def assert_every_cell_is_the_backtest(
    frames: dict[str, pd.DataFrame], cells: Cells, *, start: date | None = None, end: date | None = None
) -> int:
    """Each cell's round trips, quantities, end equity, pending entry and score equal ``run_backtest``'s."""
    series = build_series(frames, "IWM", "SPY")
    first = int(np.searchsorted(series.days, np.datetime64(start, "D"))) if start else 0
    last = int(np.searchsorted(series.days, np.datetime64(end, "D"), side="right")) - 1 if end else series.size - 1
    result = replay(series, cells, cash=Decimal(100000), window=Window(first, last))
    scores = score(result)
    traded = 0
    for cell in range(len(cells)):
        params = cells.params(cell)
        backtest = run_backtest(frames, params, cash=Decimal(100000), start=start, end=end)
        card = backtest.scorecard
        expected = [
            (t.entry_session, t.entry_price, t.exit_session, t.exit_price, t.qty, t.closed, t.season)
            for t in card.trades
        ]
        assert trades_of(result, cell) == expected, params
        assert Decimal(int(result.end_units[cell])) / UNITS == card.end_equity, params
        assert int(result.pending_qty[cell]) == backtest.pending_entry_qty, params
        if card.trades:
            traded += 1
            assert scores.return_pct[cell] == pytest.approx(float(card.strategy_return_ratio) * 100, abs=1e-9)
            assert scores.benchmark_return_pct[cell] == pytest.approx(
                float(card.benchmark_return_ratio) * 100, abs=1e-9
            )
        else:
            assert np.isnan(scores.return_pct[cell])
    return traded


level_axes = st.lists(st.sampled_from([95.0, 100.0, 102.5, 105.0, 110.0]), min_size=1, max_size=3, unique=True)
settings_strategy = st.fixed_dictionaries(
    {
        "buffer_pct": st.sampled_from([0.0, 0.5, 3.0]),
        "confirm_days": st.integers(1, 4),
        "require_cross": st.booleans(),
        "allow_reentry": st.booleans(),
        "level_mode": st.sampled_from(list(LevelMode)),
        "level_lookback": st.sampled_from([3, 10, 40]),
        "hold_sessions": st.sampled_from([None, None, 0, 4, 30]),
        "entry_start": st.sampled_from([None, date(2021, 3, 1)]),
        "entry_end": st.sampled_from([None, date(2023, 10, 31)]),
        "sizing": st.sampled_from(
            [Allocation(), Allocation(Decimal("0.5")), FixedNotional(Decimal("3000.5")), FixedQuantity(900)]
        ),
    }
)
exit_axes = st.lists(
    st.sampled_from([None, date(2022, 6, 30), date(2023, 7, 4), date(2024, 3, 16), date(2025, 1, 2)]),
    min_size=1, max_size=2, unique=True,
)  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    length=st.integers(30, len(DAYS)),
    chosen=settings_strategy,
    levels=level_axes,
    exits=exit_axes,
    window=st.sampled_from([(None, None), (date(2022, 1, 3), None), (date(2021, 6, 1), date(2023, 6, 15))]),
)
def test_random_settings_and_histories_equal_the_backtest_trade_for_trade(
    seed: int,
    length: int,
    chosen: dict[str, Any],
    levels: list[float],
    exits: list[date | None],
    window: tuple[date | None, date | None],
) -> None:
    frames = random_history(seed, length)
    base = BreakoutParams(**chosen)
    if base.entry_start is not None:
        exits = [d for d in exits if d is None or d > base.entry_start] or [None]
    cells = Cells(base, (("level", tuple(levels)), ("exit_date", tuple(exits))))
    assert_every_cell_is_the_backtest(frames, cells, start=window[0], end=window[1])


@pytest.mark.shared_data
def test_every_setting_on_the_real_history_equals_the_backtest(shared_data: Path) -> None:
    from bot.market.csv_data import load_symbols

    frames = load_symbols(shared_data, ["IWM", "SPY"])
    base = BreakoutParams(confirm_days=2, buffer_pct=0.5)
    cells = Cells(
        base,
        (("level", (60.0, 100.0, 150.0, 200.0)), ("hold_sessions", (None, 20)), ("allow_reentry", (False, True))),
    )
    assert assert_every_cell_is_the_backtest(frames, cells) == len(cells)
    high = Cells(replace(base, level_mode=LevelMode.HIGH), (("level_lookback", (20, 250)),))
    assert assert_every_cell_is_the_backtest(frames, high) == len(high)


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["sweep", *args, "--json"]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def test_a_cli_cell_is_bot_backtest_with_the_same_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: STRATEGY_CONFIRM_DAYS=3 reaches every cell, so the sweep enters when the backtest does."""
    days = simple_breakout(tmp_path)
    monkeypatch.setenv("STRATEGY_CONFIRM_DAYS", "3")
    out = run_json(capsys, "--data", str(tmp_path), "--grid", "STRATEGY_BREAKOUT_LEVEL=195:205:5")
    assert [axis["variable"] for axis in out["axes"]] == ["STRATEGY_BREAKOUT_LEVEL"]
    cell = next(c for c in out["cells"] if c["settings"] == {"STRATEGY_BREAKOUT_LEVEL": 200.0})
    assert main(["backtest", "--data", str(tmp_path), "--json"]) == 0
    backtest = json.loads(capsys.readouterr().out)
    (trade,) = cell["trades"]
    (expected,) = backtest["trades"]
    # Above 200 from Dec 13: the third close above is Dec 15, so the entry is at Dec 18's open.
    assert trade["signal_date"] == "2023-12-15" and trade["entry_date"] == "2023-12-18"
    assert (trade["entry_date"], trade["exit_date"]) == (expected["entry_date"], expected["exit_date"])
    assert trade["entry_price"] == float(expected["entry_price"]) and trade["qty"] == expected["qty"]
    assert trade["exit_date"] == max(d for d in days if d <= date(2024, 6, 30)).isoformat()  # held through June


def test_refuses_what_it_cannot_replay_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    simple_breakout(tmp_path)
    monkeypatch.setenv("STRATEGY_TRIGGER", "intraday")
    assert main(["sweep", "--data", str(tmp_path), "--levels", "190:210:1"]) == 2
    err = capsys.readouterr()
    assert "STRATEGY_TRIGGER='intraday'" in err.err and err.out == ""


def test_text_summary_and_heatmap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    simple_breakout(tmp_path / "d")
    chart = tmp_path / "heat.png"
    args = ["--data", str(tmp_path / "d"), "--levels", "190:210:1", "--hold-days", "5:60:5", "--chart", str(chart)]
    assert main(["sweep", *args]) == 0
    out = capsys.readouterr().out
    assert out.startswith("IWM vs SPY: 21 STRATEGY_BREAKOUT_LEVEL x 12 STRATEGY_HOLD_SESSIONS = 252 cells")
    assert "worst excess" in out and "median excess" in out
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hold_sessions_sell_that_many_sessions_after_the_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    days = simple_breakout(tmp_path)
    out = run_json(capsys, "--data", str(tmp_path), "--levels", "200:200:1", "--hold-days", "0:10:10")
    entry = days.index(date(2023, 12, 14))
    by_hold = {c["settings"]["STRATEGY_HOLD_SESSIONS"]: c["trades"] for c in out["cells"]}
    assert [t["exit_date"] for t in by_hold[0]] == ["2023-12-14"]
    assert [t["exit_date"] for t in by_hold[10]] == [days[entry + 10].isoformat()]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--levels", "210:190:1"], "--levels '210:190:1': STEP must be positive"),
        (["--levels", "abc"], "--levels 'abc': Input should be a valid number"),
        (["--levels", "0:10:1"], "--levels '0:10:1': Input should be greater than 0"),
        (["--levels", "nan:210:1"], "--levels 'nan:210:1': START, STOP and STEP must be"),
        (["--levels", "190:210:1e-9"], "values is more than 100000"),
        (["--levels", "190:210:1", "--hold-days", "5:10:0.5"], "--hold-days '5:10:0.5': whole numbers only"),
        (["--levels", "190:210:1", "--hold-days=-5:10:1"], "--hold-days '-5:10:1': Input should be greater than"),
        (["--levels", "100:300:0.01", "--hold-days", "1:100:1"], "20001 x 100 = 2000100 cells, more than 1000000"),
        (["--levels", "190:210:1", "--exit-dates", "2024-13-01"], "--exit-dates '2024-13-01'"),
        (["--levels", "190:210:1", "--exit-dates", ","], "--exit-dates ',': give at least one value"),
        (["--grid", "STRATEGY_SYMBOL=IWM,QQQ"], "STRATEGY_SYMBOL cannot be swept"),
        (["--grid", "STRATEGY_CONFIRM_DAYS"], "--grid 'STRATEGY_CONFIRM_DAYS': expected NAME=START:STOP:STEP"),
        (["--grid", "STRATEGY_CONFIRM_DAYS=0:3:1"], "--grid STRATEGY_CONFIRM_DAYS '0:3:1': Input should be greater"),
        (["--grid", "STRATEGY_LEVEL_MODE=high,peak"], "--grid STRATEGY_LEVEL_MODE 'high,peak': Input should be"),
        (["--levels", "1:2:1", "--grid", "STRATEGY_BREAKOUT_LEVEL=3:4:1"], "STRATEGY_BREAKOUT_LEVEL is given twice"),
        (["--grid", "STRATEGY_ENTRY_START=2024-01-02", "--exit-dates", "2023-12-29,2024-06-28"],
         "STRATEGY_EXIT_DATE=2023-12-29, not after STRATEGY_ENTRY_START=2024-01-02"),
        (["--levels", "1:3:1", "--grid", "STRATEGY_CONFIRM_DAYS=1,2", "--grid", "STRATEGY_BUFFER_PCT=0,1",
          "--chart", "x.png"], "--chart draws at most two axes"),
        (["--levels", "190:210:1", "--start", "June"], "--start: 'June' is not a date"),
        (["--levels", "190:210:1", "--workers", "0"], "--workers: '0' is not a number of workers"),
        (["--symbols", "SPY"], "--symbols 'SPY': give symbols other than the benchmark SPY"),
        (["--symbols", "IWM,QQQ", "--chart", "x.png"], "--chart draws one symbol's grid, and --symbols gives 2"),
        (["--levels", "190:210:1", "--scheduler", "nonsense"], "--scheduler 'nonsense': no Dask scheduler answered"),
    ],
)  # fmt: skip
def test_bad_grids_exit_2_naming_the_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    simple_breakout(tmp_path)
    assert exit_code(["sweep", "--data", str(tmp_path), *args]) == 2
    err = capsys.readouterr()
    assert expected in err.err and err.out == ""
    assert not (Path.cwd() / "x.png").exists()


def exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own errors (a --start that is not a date)
        return int(str(exc.code))


def test_dates_far_apart_are_days_not_sessions() -> None:
    """An exit date on a weekend, a holiday or past the data: the backtest's own rule decides (overdue or open)."""
    frames = random_history(7, 400)
    exits = tuple(DAYS[0] + timedelta(days=offset) for offset in (100, 101, 185, 560, 900))
    cells = Cells(BreakoutParams(require_cross=False), (("level", (90.0, 100.0, 110.0)), ("exit_date", exits)))
    assert assert_every_cell_is_the_backtest(frames, cells) > 0
