"""Restarts and faults mid-season: the right trade, no duplicate order, the ledger equal to the exchange."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot.backtest.engine import run_backtest
from bot.local_exchange.faults import parse_faults
from bot.market.scenarios import build_scenario
from bot.report import ledger_scorecard
from bot.scoring import scorecard_json
from tests.live_harness import Harness, harness

START, END = date(2023, 12, 1), date(2024, 7, 3)
FRAMES = build_scenario("breakout")


def expected_score() -> dict:  # type: ignore[type-arg]
    from strategies.params import BreakoutParams

    return scorecard_json(run_backtest(FRAMES, BreakoutParams(), cash=Decimal(100000), start=START, end=END).scorecard)


def assert_one_clean_round_trip(h: Harness) -> None:
    orders = h.orders()
    assert sorted(o.client_order_id for o in orders) == ["brk-IWM-2024-entry-1", "brk-IWM-2024-exit-1"]
    assert all(o.status == "filled" for o in orders)
    trader = h.trader()
    exchange_fills = sorted((f.symbol, f.side, f.qty, f.price) for f in h.exchange.book.accounts["PKTESTHARNESS"].fills)
    ledger_fills = sorted((f.symbol, f.side, f.qty, f.price) for f in trader.ledger.fills())
    assert ledger_fills == exchange_fills
    assert scorecard_json(ledger_scorecard(trader.ledger, trader.params)) == expected_score()


@pytest.mark.parametrize(
    "restart_on",
    [date(2023, 12, 13), date(2023, 12, 14), date(2024, 3, 1), date(2024, 6, 27), date(2024, 6, 28)],
    ids=["signal-day", "entry-day", "mid-hold", "evening-before-exit", "exit-day"],
)
def test_restart_mid_season_repeats_nothing(tmp_path: Path, restart_on: date) -> None:
    with harness(tmp_path, FRAMES, start=START, end=END) as h:
        h.run(h.trader(), end=restart_on)
        h.run(h.trader(), start=restart_on)  # a new process: new clients, the same ledger
        assert_one_clean_round_trip(h)


def test_lost_ledger_is_rebuilt_from_the_broker(tmp_path: Path) -> None:
    with harness(tmp_path, FRAMES, start=START, end=END) as h:
        first = h.trader()
        h.run(first, end=date(2024, 2, 1))
        first.ledger.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{h.data_dir / 'ledger.sqlite'}{suffix}").unlink(missing_ok=True)
        h.run(h.trader(), start=date(2024, 2, 2))
        assert sorted(o.client_order_id for o in h.orders()) == ["brk-IWM-2024-entry-1", "brk-IWM-2024-exit-1"]
        assert any('"event": "order_adopted"' in line for line in h.log_lines())


@pytest.mark.parametrize(
    "faults",
    [
        "503:burst=4:from=30,500:burst=2:from=400,502:burst=3:from=900,504:burst=2:from=1500",
        "429:0.05:retry_after=0",
        "reset:0.03",
        "drop_order_response:nth=1,drop_order_response:nth=2",
        "500:0.05,503:0.05,reset:0.02,drop_order_response:0.5",
    ],
    ids=["5xx-bursts", "429-retry-after", "connection-resets", "order-responses-lost", "mixed"],
)
def test_faults_change_nothing_but_the_log(tmp_path: Path, faults: str) -> None:
    with harness(tmp_path, FRAMES, start=START, end=END, faults=parse_faults(faults)) as h:
        h.run(h.trader())
        assert_one_clean_round_trip(h)
        assert any('"event": "retry"' in line for line in h.log_lines())


def test_partial_fills_are_recorded_part_by_part(tmp_path: Path) -> None:
    with harness(tmp_path, FRAMES, start=START, end=END, partial_fills=True) as h:
        trader = h.trader()
        h.run(trader)
        fills = trader.ledger.fills()
        # The opg entry fills half at the open and the rest 30 minutes later; both halves of the cls exit
        # fill in the closing auction, so the trader sees them at once.
        assert [f.side for f in fills] == ["buy", "buy", "sell"]
        assert sum(f.qty for f in fills if f.side == "buy") == sum(f.qty for f in fills if f.side == "sell")
        assert sum(1 for line in h.log_lines() if '"event": "fill"' in line) == 3
        assert any('"reason": "partial_fill"' in line for line in h.log_lines())
        assert len(h.orders()) == 2
