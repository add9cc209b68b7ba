"""SIGKILL at 20+ seeded moments of a season, the exchange restarting too: still exactly one entry and one exit."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

from bot.backtest.engine import run_backtest
from bot.ledger import Ledger
from bot.market.scenarios import build_scenario, scenario_dividends
from bot.report import ledger_scorecard
from bot.score_output import scorecard_json
from bot.scoring import with_dividends
from strategies.params import BreakoutParams
from tests.crash_driver import KEY, SECRET, run_season_with_kills

KILLS = int(os.environ.get("CRASH_KILLS", "20"))
SEED = int(os.environ.get("CRASH_SEED", "20231213"))
RESTARTS = int(os.environ.get("CRASH_EXCHANGE_RESTARTS", "2"))


def test_season_survives_kill_minus_nine_at_random_moments(tmp_path: Path) -> None:
    report = run_season_with_kills(tmp_path, kills=KILLS, seed=SEED, exchange_restarts=RESTARTS)
    assert report.kills >= KILLS
    assert report.exchange_restarts == RESTARTS
    by_id = {o["client_order_id"]: o for o in report.orders}
    assert sorted(by_id) == ["brk-IWM-2024-entry-1", "brk-IWM-2024-exit-1"]
    assert {o["status"] for o in report.orders} == {"filled"}
    ledger = Ledger(tmp_path / "data" / "ledger.sqlite")
    params = BreakoutParams()
    fills = ledger.fills()
    assert [(f.client_order_id, f.qty, f.price) for f in fills] == [
        (o["client_order_id"], Decimal(o["filled_qty"]), Decimal(o["filled_avg_price"]))
        for o in sorted(report.orders, key=lambda o: o["submitted_at"])
    ]
    frames = build_scenario("breakout")
    expected = run_backtest(frames, params, cash=Decimal(100000), start=date(2023, 12, 1), end=date(2024, 7, 3))
    replayed = scorecard_json(with_dividends(expected.scorecard, scenario_dividends("breakout")))
    live = scorecard_json(ledger_scorecard(ledger, params))
    assert live["trades"] == replayed["trades"]  # dividends too: the exchange serves the scenario's
    assert live["benchmark"] == replayed["benchmark"]
    assert SECRET not in report.output and KEY not in report.output


def test_season_survives_kills_while_paper_auctions_expire_and_fill_partly(tmp_path: Path) -> None:
    # Every opg entry expires unfilled and every cls exit fills half: the bot buys with a day order the same
    # session and sells the remainder after the auction, whatever the kills interrupt.
    faults = "opg_unfilled:1,auction_partial:1:fraction=0.5"
    report = run_season_with_kills(tmp_path, kills=max(KILLS // 3, 6), seed=SEED + 1, faults=faults)
    by_id = {o["client_order_id"]: o for o in report.orders}
    assert sorted(by_id) == [
        "brk-IWM-2024-entry-1",
        "brk-IWM-2024-entry-2",
        "brk-IWM-2024-exit-1",
        "brk-IWM-2024-exit-2",
    ]
    assert [by_id[c]["status"] for c in sorted(by_id)] == ["expired", "filled", "expired", "filled"]
    bought = Decimal(str(by_id["brk-IWM-2024-entry-2"]["filled_qty"]))
    sold = sum(Decimal(str(by_id[c]["filled_qty"])) for c in ("brk-IWM-2024-exit-1", "brk-IWM-2024-exit-2"))
    assert sold == bought > 0  # never more than bought: no short on the margin account
    ledger = Ledger(tmp_path / "data" / "ledger.sqlite")
    assert sum(f.qty for f in ledger.fills() if f.side == "sell") == sold
    assert SECRET not in report.output and KEY not in report.output
