"""Walk-forward on a history with a known answer; many symbols; and the same sweep on Dask, a worker lost midway."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bot.cli import main
from bot.market.calendar import nyse_sessions
from tests.scenario_files import write_daily

DAYS = nyse_sessions(date(2019, 7, 1), date(2024, 6, 28))


def seasonal_close(day: date) -> float:
    """Each season: 90 in July, 101 from August (crossing 100), 121 from December (crossing 120), 130 in June."""
    if day.month == 7:
        return 90.0
    if day.month == 6:
        return 130.0
    if day.month >= 12 or day.month <= 5:
        return 121.0
    return 101.0


def write_seasonal(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    write_daily(
        directory / "IWM.csv",
        DAYS,
        lambda i, d: seasonal_close(d),
        open_at=lambda i, d: seasonal_close(DAYS[i - 1]) if i else seasonal_close(d),
    )
    write_daily(directory / "SPY.csv", DAYS, lambda i, d: 300.0 + 0.05 * i, open_at=lambda i, d: 300.0 + 0.05 * i)


def sweep_json(*args: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["sweep", *args, "--json"]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def test_walk_forward_picks_the_level_that_kept_winning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_seasonal(tmp_path)
    out = sweep_json("--data", str(tmp_path), "--levels", "100:120:20", "--walk-forward", capsys=capsys)
    walked = out["walk_forward"]
    assert walked["cells_tried"] == 2
    seasons = walked["seasons"]
    # Seasons 2020 to 2024 trade; the first has no history, so four are scored, each picking level 100:
    # bought at 101 in August, sold at 130 at the end of June (level 120 buys at 121 and makes less).
    assert [s["season"] for s in seasons] == [2021, 2022, 2023, 2024]
    assert all(s["pick"] == {"STRATEGY_BREAKOUT_LEVEL": 100.0} for s in seasons)
    assert all(s["return_pct"] == pytest.approx((130 / 101 - 1) * 100, abs=1e-4) for s in seasons)
    spy = pd.read_csv(tmp_path / "SPY.csv", index_col="date", parse_dates=True)
    for s in seasons:
        year = s["season"]
        entry = spy.loc[f"{year - 1}-08-01" :].index[1]  # the session after the first August close
        exit_ = spy.loc[: f"{year}-06-30"].index[-1]
        expected = (spy.loc[exit_, "close"] / spy.loc[entry, "open"] - 1) * 100
        assert s["benchmark_return_pct"] == pytest.approx(expected, abs=1e-4)
    assert walked["out_of_sample"]["return_pct"] == pytest.approx(((130 / 101) ** 4 - 1) * 100, abs=1e-3)
    # The user's own settings (level 200) never trade on this history.
    assert all(s["default_return_pct"] is None for s in seasons)
    assert walked["out_of_sample"]["default_return_pct"] == 0.0


def write_universe(directory: Path, count: int, days: list[date]) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(17)
    names = [f"S{i:03d}" for i in range(count)]
    for name in names:
        closes = (100 + np.cumsum(rng.normal(0, 1.5, len(days)))).clip(5).round(2)
        write_daily(directory / f"{name}.csv", days, lambda i, d, c=closes: float(c[i]))
    write_daily(directory / "SPY.csv", days, lambda i, d: 300.0 + 0.05 * i)
    return names


UNIVERSE_DAYS = nyse_sessions(date(2016, 1, 4), date(2024, 6, 28))
GRID = ["--levels", "80:120:0.04", "--grid", "STRATEGY_CONFIRM_DAYS=1,3"]  # 1,001 x 2 cells: two chunks


def test_a_symbol_of_the_universe_is_its_own_sweep(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    names = write_universe(tmp_path, 3, UNIVERSE_DAYS)
    small = ["--levels", "90:110:5", "--grid", "STRATEGY_CONFIRM_DAYS=1,3"]
    universe = sweep_json("--data", str(tmp_path), *small, "--symbols", "all", capsys=capsys)
    assert [run["symbol"] for run in universe["symbols"]] == names
    monkeypatch.setenv("STRATEGY_SYMBOL", names[1])
    alone = sweep_json("--data", str(tmp_path), *small, capsys=capsys)
    assert universe["symbols"][1]["cells"] == alone["cells"]
    assert any(cell["trades"] for cell in alone["cells"])


@pytest.fixture(scope="module")
def universe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("universe")
    write_universe(directory, 6, UNIVERSE_DAYS)
    return directory


def in_process(universe: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "bot", "sweep", "--data", str(universe), *GRID, "--symbols", "all", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=True)
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def test_a_local_cluster_gives_the_in_process_answer(universe: Path) -> None:
    expected = in_process(universe)
    command = [sys.executable, "-m", "bot", "sweep", "--data", str(universe), *GRID, "--symbols", "all", "--json"]
    done = subprocess.run([*command, "--workers", "2"], capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(done.stdout) == expected
    assert len(expected["symbols"]) == 6 and any(c["trades"] for c in expected["symbols"][0]["cells"])


def test_a_worker_killed_mid_run_has_its_chunks_recomputed(universe: Path) -> None:
    from dask.distributed import Client, LocalCluster

    expected = in_process(universe)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as watcher,
    ):
        pids = watcher.run(os.getpid)
        command = [sys.executable, "-m", "bot", "sweep", "--data", str(universe), *GRID, "--symbols", "all"]
        sweep = subprocess.Popen(
            [*command, "--json", "--scheduler", cluster.scheduler_address],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        killed = None
        deadline = time.monotonic() + 120
        while killed is None and sweep.poll() is None and time.monotonic() < deadline:
            busy = [worker for worker, keys in watcher.processing().items() if any("sweep-" in k for k in keys)]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed = busy[0]
            time.sleep(0.01)
        out, err = sweep.communicate(timeout=300)
    assert killed is not None, "the sweep finished before a worker could be killed"
    assert sweep.returncode == 0, err
    assert json.loads(out) == expected
