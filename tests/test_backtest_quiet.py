"""The replay steps over the passes the plan says can only repeat the last one's records (bot/backtest/quiet.py):
whatever it steps over, every order, fill, decision, daily mark and score is the one a pass at every decision
point records. Years of bars crossing the level back and forth, the rule's variants, Alpaca paper's order fates,
dividends, gaps in the data and the real history when ../shared has it."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from bot.backtest.engine import BacktestResult, run_backtest
from bot.local_exchange.faults import parse_faults
from bot.market.calendar import nyse_sessions
from bot.market.csv_data import load_symbols
from bot.market.dividends import Dividend
from bot.market.scenarios import build_scenario, scenario_dividends
from bot.score_output import scorecard_json
from strategies.params import BreakoutParams, LevelMode

CASH = Decimal(100000)
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def years_of_crossings(first: date = date(2019, 1, 2), last: date = date(2022, 12, 30)) -> dict[str, pd.DataFrame]:
    """IWM swinging around 200 (a slow wave with a fast wobble, so it crosses in runs and singly) and a rising SPY."""
    days = nyse_sessions(first, last)
    rows = []
    for i, _ in enumerate(days):
        iwm = 200 + 25 * math.sin(i / 40) + 3 * math.sin(i * 1.7)
        spy = 300 * (1 + 0.0004) ** i * (1 + 0.01 * math.sin(i / 7))
        rows.append((iwm, spy))

    def frame(closes: list[float]) -> pd.DataFrame:
        opens = [closes[0], *closes[:-1]]
        return pd.DataFrame(
            {
                "open": [round(o, 2) for o in opens],
                "high": [round(max(o, c) * 1.002, 2) for o, c in zip(opens, closes, strict=True)],
                "low": [round(min(o, c) * 0.998, 2) for o, c in zip(opens, closes, strict=True)],
                "close": [round(c, 2) for c in closes],
                "volume": [1_000_000.0] * len(closes),
            },
            index=pd.Index(days, name="date"),
        )

    return {"IWM": frame([r[0] for r in rows]), "SPY": frame([r[1] for r in rows])}


def recorded(result: BacktestResult) -> tuple[object, ...]:
    orders = [replace(o, broker_order_id="") for o in result.orders]  # the venue's ids are random uuids
    return (orders, result.fills, result.decisions, result.marks, scorecard_json(result.scorecard),
            result.pending_entry_qty)  # fmt: skip


def assert_steps_record_alike(frames: dict[str, pd.DataFrame], params: BreakoutParams, **options: object) -> int:
    """Both replays record the same; the passes the stepping one makes."""
    stepped = run_backtest(frames, params, cash=CASH, **options)  # type: ignore[arg-type]
    every = run_backtest(frames, params, cash=CASH, every_pass=True, **options)  # type: ignore[arg-type]
    assert recorded(stepped) == recorded(every)
    return stepped.passes


VARIANTS = [
    ("default", BreakoutParams()),
    ("confirm two closes", BreakoutParams(confirm_days=2)),
    ("no cross needed", BreakoutParams(require_cross=False)),
    ("a 1 % buffer", BreakoutParams(buffer_pct=1.0)),
    ("a 10-session hold, re-entry", BreakoutParams(hold_sessions=10, allow_reentry=True)),
    ("a travelling level", BreakoutParams(level_mode=LevelMode.HIGH, level_lookback=20)),
    ("an entry window", BreakoutParams(entry_start=date(2020, 3, 1), entry_end=date(2021, 9, 30))),
    ("a weekend exit date", BreakoutParams(exit_date=date(2021, 5, 15))),
]


@pytest.mark.parametrize("params", [v[1] for v in VARIANTS], ids=[v[0] for v in VARIANTS])
def test_years_of_crossings_record_as_every_pass_does(params: BreakoutParams) -> None:
    assert_steps_record_alike(years_of_crossings(), params)


def test_most_passes_are_stepped_over_and_the_seasons_still_trade() -> None:
    frames = years_of_crossings()
    every = run_backtest(frames, BreakoutParams(), cash=CASH, every_pass=True)
    assert len(every.scorecard.trades) >= 3  # a round trip in most seasons of the data
    # The bot first runs at the first close: each later session is marked, stepped over or not.
    assert [mark.session for mark in every.marks] == list(frames["IWM"].index[1:])
    assert assert_steps_record_alike(frames, BreakoutParams()) * 2 < every.passes


@pytest.mark.parametrize(
    "faults",
    ["opg_unfilled:0.5", "cls_unfilled:0.5", "auction_partial:0.6:fraction=0.4", "reject_after_accept:0.3",
     "paper_partial:0.5"],
)  # fmt: skip
def test_alpaca_paper_s_order_fates_record_alike(faults: str) -> None:
    frames = years_of_crossings(date(2019, 1, 2), date(2020, 12, 31))
    for seed in (1, 2):
        assert_steps_record_alike(frames, BreakoutParams(), faults=parse_faults(faults), seed=seed)


def test_dividends_while_holding_record_alike() -> None:
    frames = build_scenario("breakout", seed=3)
    assert_steps_record_alike(frames, BreakoutParams(), dividends=scenario_dividends("breakout"))
    wave = years_of_crossings(date(2019, 1, 2), date(2020, 12, 31))
    paid = {symbol: tuple(Dividend(day, Decimal("0.5")) for day in list(wave[symbol].index)[30::60])
            for symbol in wave}  # fmt: skip
    assert_steps_record_alike(wave, BreakoutParams(), dividends=paid)


def test_a_session_missing_from_the_symbol_s_bars_is_not_stepped_over() -> None:
    """A pass at a session without the symbol's bar says so and decides nothing; stepping does not invent one."""
    frames = years_of_crossings(date(2019, 1, 2), date(2020, 12, 31))
    missing = [frames["IWM"].index[i] for i in (100, 101, 250, 400)]  # flat and holding, alone and in a row
    frames["IWM"] = frames["IWM"].drop(index=missing)
    every = run_backtest(frames, BreakoutParams(), cash=CASH, every_pass=True)
    assert not {d.session for d in every.decisions} & set(missing)
    assert_steps_record_alike(frames, BreakoutParams())


def test_a_listening_log_hears_every_pass() -> None:
    """A log given to the replay is told each pass's lines, so nothing is stepped over."""
    heard: list[str] = []

    class Listening:
        def info(self, event: str, **_: object) -> None:
            heard.append(event)

        warning = error = debug = info

    frames = years_of_crossings(date(2019, 1, 2), date(2019, 12, 31))
    told = run_backtest(frames, BreakoutParams(), cash=CASH, log=Listening())
    every = run_backtest(frames, BreakoutParams(), cash=CASH, every_pass=True)
    assert told.passes == every.passes
    assert heard.count("signal") == len(every.decisions)


@pytest.mark.skipif(not (SHARED / "IWM.csv").is_file(), reason="needs ../shared/data (the real history)")
def test_the_real_history_records_alike() -> None:
    assert_steps_record_alike(load_symbols(SHARED, ["IWM", "SPY"]), BreakoutParams())
