"""The honest scorecard: total return with dividends, each season with its own benchmark leg and verdict, the
statistics (checked against empyrical, an independent implementation), provenance and the reason for no trade."""

from __future__ import annotations

import json
import math
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import empyrical
import numpy as np
import pandas as pd
import pytest

from bot.cli import main
from bot.market.dividends import Dividend
from bot.stats import hold_stats
from tests.scenario_files import season_days, simple_breakout, write_daily


def backtest(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["backtest", *args, "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_statistics_equal_empyricals(seed: int) -> None:
    rng = np.random.default_rng(seed)
    benchmark = rng.normal(0.0004, 0.01, 150)
    mine = 1.3 * benchmark + rng.normal(-0.0003, 0.008, 150)
    stats = hold_stats(mine.tolist(), benchmark.tolist())
    assert stats is not None and stats.days == 150
    alpha, beta = empyrical.alpha_beta(mine, benchmark)
    assert stats.alpha == pytest.approx(alpha, rel=1e-9)
    assert stats.beta == pytest.approx(beta, rel=1e-9)
    assert stats.correlation == pytest.approx(pd.Series(mine).corr(pd.Series(benchmark)), rel=1e-9)
    assert stats.tracking_error == pytest.approx(empyrical.annual_volatility(mine - benchmark), rel=1e-9)
    assert stats.information_ratio == pytest.approx(empyrical.excess_sharpe(mine, benchmark) * math.sqrt(252), rel=1e-9)
    assert stats.up_capture == pytest.approx(empyrical.up_capture(mine, benchmark), rel=1e-9)
    assert stats.down_capture == pytest.approx(empyrical.down_capture(mine, benchmark), rel=1e-9)
    assert stats.volatility == pytest.approx(empyrical.annual_volatility(mine), rel=1e-9)
    assert stats.benchmark_volatility == pytest.approx(empyrical.annual_volatility(benchmark), rel=1e-9)
    assert stats.max_drawdown == pytest.approx(empyrical.max_drawdown(mine), rel=1e-9)
    assert stats.benchmark_max_drawdown == pytest.approx(empyrical.max_drawdown(benchmark), rel=1e-9)


def test_one_day_has_no_statistics() -> None:
    assert hold_stats([0.01], [0.02]) is None


def write_dividends(path: Path, rows: list[tuple[date, str]]) -> None:
    path.write_text("ex_date,amount\n" + "".join(f"{d.isoformat()},{a}\n" for d, a in rows))


def test_total_return_adds_the_dividends_of_ex_dates_inside_the_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simple_breakout(tmp_path)  # bought at the open of 2023-12-14, sold at the close of 2024-06-28
    write_dividends(tmp_path / "IWM.dividends.csv", [
        (date(2023, 12, 14), "0.50"),  # the entry session's own ex-date: bought at its open, not entitled
        (date(2024, 3, 21), "0.52"),
        (date(2024, 6, 28), "0.56"),  # the exit session: held at the close before it
        (date(2024, 7, 1), "9.99"),  # after the exit
    ])  # fmt: skip
    write_dividends(tmp_path / "SPY.dividends.csv", [(date(2023, 12, 15), "1.906"), (date(2024, 6, 21), "1.759")])
    result = backtest(capsys, "--data", str(tmp_path))
    [trade] = result["trades"]
    mine = (trade["exit_price"] + 0.52 + 0.56) / trade["entry_price"] - 1
    bench = trade["benchmark"]
    theirs = (bench["exit_price"] + 1.906 + 1.759) / bench["entry_price"] - 1
    assert trade["dividends_per_share"] == pytest.approx(1.08)
    assert bench["dividends_per_share"] == pytest.approx(3.665)
    assert trade["total_return_pct"] == pytest.approx(mine * 100, abs=1e-4)
    assert bench["total_return_pct"] == pytest.approx(theirs * 100, abs=1e-4)
    assert result["total_return_pct"] == trade["total_return_pct"]
    assert result["benchmark"]["total_return_pct"] == bench["total_return_pct"]
    assert result["total_excess_return_pct"] == pytest.approx((mine - theirs) * 100, abs=2e-4)
    assert result["claim_holds_total"] is (mine > 0 and mine >= 2 * theirs)
    assert sorted(result["provenance"]["data"]["dividends"]) == sorted(
        [str(tmp_path / "IWM.dividends.csv"), str(tmp_path / "SPY.dividends.csv")]
    )


def test_a_bad_dividend_file_is_refused_by_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    simple_breakout(tmp_path)
    (tmp_path / "IWM.dividends.csv").write_text("ex_date,amount\n2024-03-21,0.52\n2024-13-01,0.5\n")
    assert main(["backtest", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "IWM.dividends.csv line 3" in err and "2024-13-01" in err


def two_seasons(directory: Path) -> None:
    """IWM crosses 200 in both seasons (December 2022 and December 2023); SPY rises steadily."""
    directory.mkdir(parents=True, exist_ok=True)
    days = season_days(date(2022, 11, 1), date(2024, 7, 12))

    def iwm(index: int, day: date) -> float:
        if date(2022, 12, 13) <= day <= date(2023, 6, 30):
            return 201.0 + 0.05 * (day - date(2022, 12, 13)).days
        if day >= date(2023, 12, 13):
            return 201.0 + 0.1 * (day - date(2023, 12, 13)).days
        return 190.0

    write_daily(directory / "IWM.csv", days, iwm)
    write_daily(directory / "SPY.csv", days, lambda i, d: 400.0 + 0.3 * i)


def test_each_season_has_its_own_benchmark_leg_and_verdict_and_the_whole_compounds_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two_seasons(tmp_path)
    result = backtest(capsys, "--data", str(tmp_path))
    first, second = result["trades"]
    assert (first["season"], second["season"]) == (2023, 2024)
    for trade in (first, second):
        bench = trade["benchmark"]
        assert bench["return_pct"] == pytest.approx((bench["exit_price"] / bench["entry_price"] - 1) * 100, abs=1e-4)
        assert trade["excess_return_pct"] == pytest.approx(trade["return_pct"] - bench["return_pct"], abs=2e-4)
    legs = [(1 + t["return_pct"] / 100) for t in (first, second)]
    benchmark_legs = [(1 + t["benchmark"]["return_pct"] / 100) for t in (first, second)]
    assert result["return_pct"] == pytest.approx((legs[0] * legs[1] - 1) * 100, abs=1e-3)
    assert result["benchmark"]["return_pct"] == pytest.approx(
        (benchmark_legs[0] * benchmark_legs[1] - 1) * 100, abs=1e-3
    )
    assert "entry_price" not in result["benchmark"]  # no price pair that contradicts a compounded return
    assert [s["season"] for s in result["seasons"]] == [2023, 2024]
    for season, trade in zip(result["seasons"], (first, second), strict=True):
        mine, theirs = trade["return_pct"], trade["benchmark"]["return_pct"]
        assert season["claim_holds"] is (mine > 0 and mine >= 2 * theirs)
    assert result["stats"]["days"] > 200 and result["stats"]["beta"] is not None
    assert main(["backtest", "--data", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "Season 2023: IWM" in table and "Season 2024: IWM" in table and "All seasons, held days only" in table


def test_no_trade_says_why_and_what_produced_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    days = season_days()
    write_daily(tmp_path / "IWM.csv", days, lambda i, d: 195.0 + (i % 3))
    write_daily(tmp_path / "SPY.csv", days, lambda i, d: 450.0)
    result = backtest(capsys, "--data", str(tmp_path), "--start", "2023-12-01")
    assert result["trades"] == [] and result["claim_holds"] is None
    assert result["no_trade_reason"].startswith("No trade: the ")
    assert "below_level ×" in result["no_trade_reason"] and "highest close was 197.00" in result["no_trade_reason"]
    assert result["provenance"]["start"] == "2023-12-01"
    assert result["provenance"]["settings"]["STRATEGY_BREAKOUT_LEVEL"] == 200.0
    assert set(result["provenance"]["data"]["files"]) == {"IWM", "SPY"}


def test_the_benchmark_needs_to_cover_only_the_traded_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    days = season_days(date(2022, 11, 1))
    write_daily(tmp_path / "IWM.csv", days, lambda i, d: 190.0 if d < date(2023, 12, 13) else 201.0)
    later = [d for d in days if d >= date(2023, 6, 1)]
    write_daily(tmp_path / "SPY.csv", later, lambda i, d: 450.0)
    assert main(["backtest", "--data", str(tmp_path), "--start", "2023-11-01"]) == 0
    capsys.readouterr()
    assert main(["backtest", "--data", str(tmp_path)]) == 2  # 2022's sessions would be scored without a benchmark
    assert "SPY.csv: no bar for 2022-11-01" in capsys.readouterr().err


def test_the_open_trade_of_a_live_report_gets_no_verdict() -> None:
    from bot.score_output import scorecard_json, verdict_line
    from bot.scoring import RoundTrip, Scorecard

    still_open = RoundTrip("IWM", 470, date(2023, 12, 14), Decimal("202.29"), date(2024, 3, 1), Decimal("205"),
                           Decimal("449.06"), Decimal("500"), closed=False, season=2024)  # fmt: skip
    card = Scorecard("IWM", "SPY", (still_open,), Decimal(100000), Decimal(101000), Decimal(1))
    assert verdict_line(card).startswith("Verdict: none yet: the trade is open")
    scored = scorecard_json(card)
    assert scored["claim_holds"] is None and scored["seasons"][0]["claim_holds"] is None
    # A season split into a closed part and an open part: legs side by side, not one after the other.
    sold = RoundTrip("IWM", 200, date(2023, 12, 14), Decimal("200"), date(2024, 3, 1), Decimal("222"),
                     Decimal("400"), Decimal("472"), season=2024)  # fmt: skip
    kept = RoundTrip("IWM", 300, date(2023, 12, 14), Decimal("200"), date(2024, 4, 1), Decimal("236"),
                     Decimal("400"), Decimal("472"), closed=False, season=2024)  # fmt: skip
    split = Scorecard("IWM", "SPY", (sold, kept), Decimal(100000), Decimal(101000), Decimal(1))
    weighted = (200 * 0.11 + 300 * 0.18) / 500
    assert float(split.strategy_return_ratio) == pytest.approx(weighted)
    assert float(split.benchmark_return_ratio) == pytest.approx(0.18)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"symbol": "QQQ", "ex_date": "2024-03-21", "rate": 0.5}, "not asked for"),
        ({"symbol": "IWM", "ex_date": "2025-03-21", "rate": 0.5}, "outside"),
        ({"symbol": "IWM", "ex_date": "2024-03-21", "rate": -0.5}, "rate=-0.5"),
        ({"symbol": "IWM", "rate": 0.5}, "'ex_date' is missing"),
    ],
)
def test_impossible_dividends_from_the_broker_are_refused(row: dict[str, Any], problem: str) -> None:
    from bot.broker.validate import dividends_from
    from bot.errors import BrokerDataInvalid

    with pytest.raises(BrokerDataInvalid, match=problem):
        dividends_from({"cash_dividends": [row]}, ["IWM", "SPY"], date(2023, 12, 1), date(2024, 7, 1))
    good = {"symbol": "IWM", "ex_date": "2024-03-21", "rate": 0.522}
    found = dividends_from({"cash_dividends": [good]}, ["IWM", "SPY"], date(2023, 12, 1), date(2024, 7, 1))
    assert found == {"IWM": (Dividend(date(2024, 3, 21), Decimal("0.522")),), "SPY": ()}


# The 2023-24 ex-dates and amounts listed in ../shared/data/README.md (the data files are not dividend-adjusted).
SEASON_DIVIDENDS = {
    "IWM": [(date(2023, 12, 20), "0.734"), (date(2024, 3, 21), "0.522"), (date(2024, 6, 11), "0.562")],
    "SPY": [(date(2023, 12, 15), "1.906"), (date(2024, 3, 15), "1.595"), (date(2024, 6, 21), "1.759")],
}


def test_the_real_season_with_dividends(shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Recomputed from the files by hand: bought at the 2023-12-20 open, sold at the 2024-06-28 close."""
    for symbol, rows in SEASON_DIVIDENDS.items():
        (tmp_path / f"{symbol}.csv").symlink_to(shared_data / f"{symbol}.csv")  # read in place, never copied
        write_dividends(tmp_path / f"{symbol}.dividends.csv", rows)
    result = backtest(capsys, "--data", str(tmp_path), "--start", "2023-11-01", "--end", "2024-07-31")
    [trade] = result["trades"]
    prices = {s: pd.read_csv(shared_data / f"{s}.csv", index_col="date") for s in ("IWM", "SPY")}
    legs = {}
    for symbol in ("IWM", "SPY"):
        bought, sold = prices[symbol].loc["2023-12-20", "open"], prices[symbol].loc["2024-06-28", "close"]
        earned = sum(float(a) for d, a in SEASON_DIVIDENDS[symbol] if date(2023, 12, 20) < d <= date(2024, 6, 28))
        legs[symbol] = (sold / bought - 1, (sold + earned) / bought - 1)
    assert trade["return_pct"] == pytest.approx(legs["IWM"][0] * 100, abs=1e-3)
    assert trade["total_return_pct"] == pytest.approx(legs["IWM"][1] * 100, abs=1e-3)  # about +2.06 %
    assert trade["benchmark"]["return_pct"] == pytest.approx(legs["SPY"][0] * 100, abs=1e-3)
    assert trade["benchmark"]["total_return_pct"] == pytest.approx(legs["SPY"][1] * 100, abs=1e-3)  # about +15.53 %
    assert result["claim_holds"] is False and result["claim_holds_total"] is False
