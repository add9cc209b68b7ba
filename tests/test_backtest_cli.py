"""``bot backtest`` end to end through the CLI, on data the tests build."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot.cli import main
from tests.scenario_files import season_days, simple_breakout, write_daily


def backtest_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    assert main(["backtest", *args, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1, "exactly one JSON object"
    return json.loads(out)


def test_breakout_is_bought_at_next_open_and_sold_at_the_june_close(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    days = simple_breakout(tmp_path / "d")
    result = backtest_json(capsys, "--data", str(tmp_path / "d"))
    [trade] = result["trades"]
    entry_index = days.index(date(2023, 12, 14))
    assert trade["entry_date"] == "2023-12-14"
    assert trade["entry_price"] == 202.0  # 201 close on the 13th + the 1 dollar gap
    assert trade["exit_date"] == "2024-06-28"  # last session of June 2024
    exit_close = round(201.0 + 0.1 * (date(2024, 6, 28) - date(2023, 12, 13)).days, 2)
    assert trade["exit_price"] == exit_close
    assert trade["qty"] == int(Decimal("95000") / Decimal("201"))
    assert trade["pnl"] == pytest.approx(trade["qty"] * (exit_close - 202.0), abs=0.01)
    spy_entry = round(449.9 + 0.2 * entry_index, 2)
    spy_exit = round(450.0 + 0.2 * days.index(date(2024, 6, 28)), 2)
    spy_return = round((spy_exit / spy_entry - 1) * 100, 4)
    assert trade["benchmark"] == {  # no dividend files: total return is price return
        "symbol": "SPY",
        "entry_price": spy_entry,
        "exit_price": spy_exit,
        "return_pct": spy_return,
        "dividends_per_share": 0.0,
        "total_return_pct": spy_return,
    }
    assert result["benchmark"] == {"symbol": "SPY", "return_pct": spy_return, "total_return_pct": spy_return}
    assert result["excess_return_pct"] == pytest.approx(trade["return_pct"] - spy_return, abs=1e-3)
    assert result["provenance"]["data"]["dividends"].startswith("none")
    assert result["start_equity"] == 100000.0
    assert result["end_equity"] == pytest.approx(100000.0 + trade["pnl"], abs=0.01)
    assert result["max_drawdown_pct"] >= 0


def test_readable_table_ends_with_the_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    simple_breakout(tmp_path / "d")
    assert main(["backtest", "--data", str(tmp_path / "d")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("Verdict: the claim")
    assert "2023-12-14" in lines[2]  # after the provenance line and the header


def test_no_breakout_means_no_trade(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    days = season_days()
    write_daily(tmp_path / "IWM.csv", days, lambda i, d: 195.0)
    write_daily(tmp_path / "SPY.csv", days, lambda i, d: 450.0)
    result = backtest_json(capsys, "--data", str(tmp_path))
    assert result["trades"] == []
    assert result["end_equity"] == 100000.0
    assert result["excess_return_pct"] is None


def test_start_restricts_trading_but_history_before_counts_for_the_cross(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simple_breakout(tmp_path / "d")
    # Starting after the breakout: the price is already above, so the bot waits instead of chasing.
    result = backtest_json(capsys, "--data", str(tmp_path / "d"), "--start", "2024-01-02")
    assert result["trades"] == []


def test_cash_option_sizes_the_position(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    simple_breakout(tmp_path / "d")
    result = backtest_json(capsys, "--data", str(tmp_path / "d"), "--cash", "10000")
    assert result["trades"][0]["qty"] == int(Decimal("9500") / Decimal("201"))


def test_position_still_open_at_the_end_is_marked_and_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simple_breakout(tmp_path / "d")
    result = backtest_json(capsys, "--data", str(tmp_path / "d"), "--end", "2024-03-28")
    [trade] = result["trades"]
    assert trade["closed"] is False
    assert trade["exit_date"] == "2024-03-28"


def test_exit_date_setting_overrides_june(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    simple_breakout(tmp_path / "d")
    monkeypatch.setenv("STRATEGY_EXIT_DATE", "2024-03-31")  # a Sunday: the last session before it is the 28th
    result = backtest_json(capsys, "--data", str(tmp_path / "d"))
    assert result["trades"][0]["exit_date"] == "2024-03-28"


def test_chart_is_written_as_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    simple_breakout(tmp_path / "d")
    chart = tmp_path / "out" / "hold.png"
    backtest_json(capsys, "--data", str(tmp_path / "d"), "--chart", str(chart))
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert chart.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda d: (d / "IWM.csv").unlink(), "IWM.csv: file not found"),
        (lambda d: (d / "SPY.csv").write_text("day,o,h,l,c,v\n"), "SPY.csv: header is"),
        (
            lambda d: (d / "SPY.csv").write_text(
                "\n".join((d / "SPY.csv").read_text().splitlines()[:50] + (d / "SPY.csv").read_text().splitlines()[51:])
            ),
            "SPY.csv: no bar for",
        ),
        (
            lambda d: (d / "IWM.csv").write_text(
                (d / "IWM.csv").read_text().replace("190.00,1000000", "nan,1000000", 1)
            ),
            "IWM.csv, line 2: close",
        ),
        (
            lambda d: (d / "IWM.csv").write_text(
                (d / "IWM.csv").read_text().replace("190.00,1000000", "1e999,1000000", 1)
            ),
            "IWM.csv, line 2: close is '1e999', not a finite number",
        ),
    ],
    ids=["missing-file", "wrong-header", "benchmark-day-missing", "nan", "overflow"],
)
def test_bad_data_names_the_file_and_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: object, expected: str
) -> None:
    simple_breakout(tmp_path / "d")
    damage(tmp_path / "d")  # type: ignore[operator]
    assert main(["backtest", "--data", str(tmp_path / "d"), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert expected in err


def test_end_before_start_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    simple_breakout(tmp_path / "d")
    assert main(["backtest", "--data", str(tmp_path / "d"), "--start", "2024-02-01", "--end", "2024-01-01"]) == 2
    assert "before --start" in capsys.readouterr().err


def test_builtin_scenarios_run_through_the_installed_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "backtest", "--scenario", "gap-through", "--json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    trade = json.loads(done.stdout)["trades"][0]
    assert trade["entry_date"] == "2023-12-14"
    assert trade["entry_price"] > 203


def test_real_2023_2024_season_from_shared_data(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = backtest_json(capsys, "--data", str(shared_data), "--start", "2023-11-01", "--end", "2024-07-31")
    [trade] = result["trades"]
    # IWM first closed above 200 on 2023-12-19 after closing below; bought at the next open.
    assert trade["entry_date"] == "2023-12-20"
    assert trade["exit_date"] == "2024-06-28"
    assert result["claim_holds"] is False


def test_by_season_has_a_row_for_every_season_traded_or_not(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_sweep_scale import write_seasonal

    write_seasonal(tmp_path)
    assert main(["backtest", "--data", str(tmp_path), "--by-season", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["by_season"]
    assert [r["season"] for r in rows] == [2020, 2021, 2022, 2023, 2024]
    assert not any(r["traded"] for r in rows)  # IWM never closes above 200 here
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STRATEGY_BREAKOUT_LEVEL", "100")
        assert main(["backtest", "--data", str(tmp_path), "--by-season", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["by_season"]
    assert [r["season"] for r in rows] == [2020, 2021, 2022, 2023, 2024] and all(r["traded"] for r in rows)
    for row in rows:
        year = row["season"]
        assert row["signal_date"].startswith(f"{year - 1}-08-0") and row["entry_price"] == 101.0
        assert row["exit_date"].startswith(f"{year}-06-") and row["exit_price"] == 130.0
        assert row["return_pct"] == pytest.approx((130 / 101 - 1) * 100, abs=1e-4)
        assert row["excess_return_pct"] == pytest.approx(row["return_pct"] - row["benchmark_return_pct"], abs=1e-4)
        assert row["claim_holds"] is True
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STRATEGY_BREAKOUT_LEVEL", "100")
        assert main(["backtest", "--data", str(tmp_path), "--by-season"]) == 0
    text = capsys.readouterr().out
    assert "5 seasons, 5 closed with a trade, the claim held in 5" in text
