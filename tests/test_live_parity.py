"""The live path and the backtest never disagree: same data, same trade, same score."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.backtest.engine import run_backtest
from bot.domain import NEW_YORK
from bot.market.scenarios import SCENARIO_NAMES, build_scenario
from bot.report import ledger_scorecard
from bot.score_output import scorecard_json
from tests.live_harness import harness

START, END = date(2023, 12, 1), date(2024, 7, 3)


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_live_season_equals_backtest(tmp_path: Path, scenario: str) -> None:
    frames = build_scenario(scenario, seed=3)
    with harness(tmp_path, frames, start=START, end=END) as h:
        trader = h.trader()
        h.run(trader)
        live = scorecard_json(ledger_scorecard(trader.ledger, trader.params))
        orders = h.orders()
    expected = scorecard_json(run_backtest(frames, trader.params, cash=Decimal(100000), start=START, end=END).scorecard)
    assert live == expected
    entries = [o for o in orders if o.side == "buy"]
    exits = [o for o in orders if o.side == "sell"]
    assert len(entries) == len(expected["trades"]) == len(exits)
    assert all(o.status == "filled" for o in orders)
    assert [o.time_in_force for o in entries] == ["opg"] * len(entries)
    assert [o.time_in_force for o in exits] == ["cls"] * len(exits)


def test_log_tells_the_season(tmp_path: Path) -> None:
    frames = build_scenario("breakout")
    with harness(tmp_path, frames, start=START, end=END) as h:
        h.run(h.trader())
        events = [json.loads(line) for line in h.log_lines()]
    names = [e["event"] for e in events]
    for expected in ("reconciled", "signal", "order_submitted", "fill", "pnl", "trade_closed"):
        assert expected in names
    fills = [e for e in events if e["event"] == "fill"]
    assert [f["side"] for f in fills] == ["buy", "sell"]
    assert all(f["benchmark_price"] and f["client_order_id"].startswith("brk-IWM-2024-") for f in fills)
    closed = next(e for e in events if e["event"] == "trade_closed")
    assert closed["claim_holds"] in (True, False)
    assert closed["entry_date"] == "2023-12-14"
    pnl = [e for e in events if e["event"] == "pnl"]
    assert pnl[0]["session"] == "2023-12-14"
    assert {
        "position_value",
        "unrealized_pnl",
        "symbol_return_pct",
        "benchmark_return_pct",
        "excess_return_pct",
        "ratio",
    } <= set(pnl[0])
    assert all(e["run_id"] == events[0]["run_id"] and e["timestamp"].endswith("Z") for e in events)


def test_intraday_trigger_buys_on_the_breakout_day_at_market(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATEGY_TRIGGER", "intraday")
    frames = build_scenario("breakout")
    with harness(tmp_path, frames, start=START, end=END) as h:
        trader = h.trader()
        h.run(trader)
        orders = h.orders()
    entry, exit_ = sorted(orders, key=lambda o: o.submitted_at)
    # The 13th is the first session trading above 200 after a close below; the loop sees it at its first
    # wake after the breakout and buys at market, inside that day's range.
    assert (entry.time_in_force, entry.status) == ("day", "filled")
    assert entry.filled_at.date() == date(2023, 12, 13)
    bar = frames["IWM"].loc[date(2023, 12, 13)]
    assert bar["low"] <= float(entry.filled_avg_price) <= bar["high"]
    assert (exit_.time_in_force, exit_.filled_at.date()) == ("cls", date(2024, 6, 28))
    backtest = run_backtest(frames, trader.params, cash=Decimal(100000), start=START, end=END).scorecard
    assert backtest.trades[0].entry_session == date(2023, 12, 13)


def test_report_mid_season_marks_the_open_position_like_the_backtest(tmp_path: Path) -> None:
    frames = build_scenario("breakout")
    with harness(tmp_path, frames, start=START, end=END) as h:
        trader = h.trader()
        h.run(trader, end=date(2024, 3, 28))
        live = scorecard_json(ledger_scorecard(trader.ledger, trader.params))
    expected = run_backtest(frames, trader.params, cash=Decimal(100000), start=START, end=date(2024, 3, 28))
    assert live == scorecard_json(expected.scorecard)
    assert live["trades"][0]["closed"] is False


def test_the_intraday_trigger_asks_once_a_minute_between_decision_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flat and waiting for a breakout, each minute's look reads only the new minute bars: the clock is counted
    at wall speed and the account, position and daily bars wait for the next decision point."""
    monkeypatch.setenv("STRATEGY_TRIGGER", "intraday")
    frames = build_scenario("breakout")
    session = date(2023, 12, 5)  # closes below 200 all day: nothing to buy
    wall = [0.0]
    with harness(tmp_path, frames, start=START, end=END) as h:
        trader = h.trader(monotonic=lambda: wall[0])
        minutes = [datetime.combine(session, time(9, 31), NEW_YORK) + timedelta(minutes=m) for m in range(380)]
        counts = []
        for moment in minutes:
            h.clock.set(moment)
            wall[0] += 60
            before = dict(h.exchange.request_counts)
            trader.tick()
            counts.append(
                {k: v - before.get(k, 0) for k, v in h.exchange.request_counts.items() if v > before.get(k, 0)}
            )
        orders = h.orders()
    # The first look is a pass (the open's decision point), the second reads the clock once more to learn its
    # rate; every later minute asks for the minute bars and nothing else.
    assert all(c == {"GET /v2/stocks/bars": 1} for c in counts[2:])
    assert sum(sum(c.values()) for c in counts) <= len(minutes) + sum(counts[0].values()) + 1
    assert orders == []
