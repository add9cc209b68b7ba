"""Restarts and faults mid-season: the right trade, no duplicate order, the ledger equal to the exchange."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.backtest.engine import run_backtest
from bot.domain import NEW_YORK
from bot.local_exchange.faults import parse_faults
from bot.market.scenarios import build_scenario
from bot.report import ledger_scorecard
from bot.score_output import scorecard_json
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
    exchange_fills = sorted((f["symbol"], f["side"], Decimal(f["qty"]), Decimal(f["price"])) for f in h.admin.fills())
    ledger_fills = sorted((f.symbol, f.side, f.qty, f.price) for f in trader.ledger.fills())
    assert ledger_fills == exchange_fills
    assert scorecard_json(ledger_scorecard(trader.ledger, trader.params)) == expected_score()
    assert not any('"event": "position_mismatch"' in line for line in h.log_lines())  # a clean season agrees


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


def test_partial_auction_fills_are_held_and_the_exit_remainder_is_sold_after_the_auction(tmp_path: Path) -> None:
    # Paper fills half of every auction order and lets the rest expire: the entry holds what filled, the
    # cls exit sells half at the close and the bot sells the remainder with a day order at the next open.
    with harness(tmp_path, FRAMES, start=START, end=END, faults=parse_faults("auction_partial:1:fraction=0.5")) as h:
        trader = h.trader()
        h.run(trader)
        fills = trader.ledger.fills()
        orders = sorted(h.orders(), key=lambda o: o.submitted_at)
        final_position = h.admin.position("IWM")
    bought = sum(f.qty for f in fills if f.side == "buy")
    assert [f.side for f in fills] == ["buy", "sell", "sell"]
    assert sum(f.qty for f in fills if f.side == "sell") == bought and final_position == 0
    assert [(o.client_order_id, o.time_in_force, o.status) for o in orders] == [
        ("brk-IWM-2024-entry-1", "opg", "expired"),
        ("brk-IWM-2024-exit-1", "cls", "expired"),
        ("brk-IWM-2024-exit-2", "day", "filled"),
    ]
    assert orders[2].filled_at.astimezone(NEW_YORK) == datetime(2024, 7, 1, 9, 30, tzinfo=NEW_YORK)
    assert any('"reason": "remainder_expired"' in line for line in h.log_lines())


def test_responses_slower_than_the_timeout_are_retried(tmp_path: Path) -> None:
    with harness(tmp_path, FRAMES, start=START, end=END, faults=parse_faults("slow:0.01:seconds=1")) as h:
        h.run(h.trader(h.settings(http_timeout_seconds=0.2)))
        assert_one_clean_round_trip(h)
        assert any('"cause": "ReadTimeout"' in line for line in h.log_lines())


@pytest.mark.parametrize("setting", [("STRATEGY_QUANTITY", "1000"), ("STRATEGY_ALLOCATION", "1")])
def test_sizing_beyond_the_cash_is_capped_to_what_fills_and_the_backtest_agrees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: tuple[str, str]
) -> None:
    monkeypatch.setenv(*setting)  # 1000 shares is about 200,000 dollars of IWM on a 100,000 account
    with harness(tmp_path, FRAMES, start=START, end=END) as h:
        trader = h.trader()
        h.run(trader)
        orders = h.orders()
        live = scorecard_json(ledger_scorecard(trader.ledger, trader.params))
    signal_close = Decimal(str(FRAMES["IWM"].loc[date(2023, 12, 13), "close"]))
    affordable = int(Decimal(100000) / (signal_close * Decimal("1.04")))  # cash over price with the 4 % collar
    entry = next(o for o in orders if o.side == "buy")
    assert (entry.qty, entry.status) == (str(affordable), "filled")
    assert not any('"event": "order_rejected"' in line for line in h.log_lines())
    expected = run_backtest(FRAMES, trader.params, cash=Decimal(100000), start=START, end=END).scorecard
    assert live == scorecard_json(expected)


def test_entry_cancelled_by_the_exchange_is_retried_once_the_same_session_as_a_day_order(tmp_path: Path) -> None:
    with harness(tmp_path, FRAMES, start=START, end=END) as h:
        trader = h.trader()
        h.run(trader, end=date(2023, 12, 13))
        [entry] = h.orders()
        h.admin.cancel(entry.client_order_id)
        h.run(trader, start=date(2023, 12, 14))
        orders = sorted(h.orders(), key=lambda o: o.submitted_at)
        assert [(o.client_order_id, o.time_in_force, o.status) for o in orders] == [
            ("brk-IWM-2024-entry-1", "opg", "canceled"),
            ("brk-IWM-2024-entry-2", "day", "filled"),
            ("brk-IWM-2024-exit-1", "cls", "filled"),
        ]
        assert orders[1].filled_at.astimezone(NEW_YORK).date() == date(2023, 12, 14)
        assert any('"reason": "canceled_by_broker"' in line for line in h.log_lines())
        assert any('"reason": "opg_unfilled_fallback"' in line for line in h.log_lines())


def test_missed_cls_cutoff_exits_at_market_the_same_day(tmp_path: Path) -> None:
    down = (datetime(2024, 6, 27, 19, 0, tzinfo=NEW_YORK), datetime(2024, 6, 28, 15, 45, tzinfo=NEW_YORK))
    with harness(tmp_path, FRAMES, start=START, end=END) as h:
        trader = h.trader()
        h.run(trader, end=date(2024, 6, 27), skip=down)
        h.clock.set(datetime(2024, 6, 28, 15, 55, tzinfo=NEW_YORK))  # back up after the 15:50 cut-off
        trader.tick()
        h.run(trader, start=date(2024, 7, 1))
        exit_order = next(o for o in h.orders() if o.side == "sell")
        assert (exit_order.time_in_force, exit_order.status) == ("day", "filled")
        assert exit_order.filled_at.astimezone(NEW_YORK).date() == date(2024, 6, 28)
        assert any('"reason": "cls_cutoff_missed"' in line for line in h.log_lines())


@pytest.mark.parametrize(
    ("exit_date", "expected_exit"),
    [("2024-07-03", date(2024, 7, 3)), ("2024-07-04", date(2024, 7, 3))],
    ids=["early-close-exit-day", "holiday-exit-date"],
)
def test_exit_on_an_early_close_or_holiday_follows_the_calendar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exit_date: str, expected_exit: date
) -> None:
    monkeypatch.setenv("STRATEGY_EXIT_DATE", exit_date)
    end = date(2024, 7, 10)
    with harness(tmp_path, FRAMES, start=START, end=end) as h:
        trader = h.trader()
        h.run(trader)
        live = scorecard_json(ledger_scorecard(trader.ledger, trader.params))
        exit_order = next(o for o in h.orders() if o.side == "sell")
    assert live["trades"][0]["exit_date"] == expected_exit.isoformat()
    assert exit_order.filled_at.astimezone(NEW_YORK).hour == 13  # the early close, not 16:00
    expected = run_backtest(FRAMES, trader.params, cash=Decimal(100000), start=START, end=end).scorecard
    assert live == scorecard_json(expected)


def test_missing_bars_and_missing_benchmark_data_are_logged_and_waited_out(tmp_path: Path) -> None:
    frames = {symbol: frame.copy() for symbol, frame in FRAMES.items()}
    frames["IWM"] = frames["IWM"].drop(index=[date(2024, 2, 15)])  # the symbol's bar never arrives for a day
    frames["SPY"] = frames["SPY"].drop(index=[date(2023, 12, 14), date(2024, 3, 15)])  # nor the benchmark's
    with harness(tmp_path, frames, start=START, end=END) as h:
        trader = h.trader()
        h.run(trader)
        orders = h.orders()
        lines = h.log_lines()
    assert sorted(o.client_order_id for o in orders) == ["brk-IWM-2024-entry-1", "brk-IWM-2024-exit-1"]
    assert any('"event": "bars_missing"' in line and "2024-02-15" in line for line in lines)
    fallback = [line for line in lines if '"event": "benchmark_price_fallback"' in line]
    assert fallback and "close_of_2023-12-13" in fallback[0]  # no SPY trade on the entry day: the last close
    assert not trader.ledger.has_snapshot(date(2024, 2, 15))
    assert trader.ledger.has_snapshot(date(2024, 2, 16))


def test_exit_order_cancelled_before_the_cutoff_is_replaced_by_another_close_order(tmp_path: Path) -> None:
    with harness(tmp_path, FRAMES, start=START, end=END) as h:
        trader = h.trader()
        h.run(trader, end=date(2024, 6, 27))  # the cls exit is queued the evening before
        [exit_order] = [o for o in h.orders() if o.side == "sell"]
        h.admin.cancel(exit_order.client_order_id)
        h.run(trader, start=date(2024, 6, 28))
        sells = sorted((o for o in h.orders() if o.side == "sell"), key=lambda o: o.submitted_at)
        lines = h.log_lines()
    assert [(o.client_order_id, o.status) for o in sells] == [
        ("brk-IWM-2024-exit-1", "canceled"),
        ("brk-IWM-2024-exit-2", "filled"),
    ]
    # Still before the 15:50 cut-off on the exit day, so the replacement can still sell at the close.
    assert sells[1].time_in_force == "cls"
    assert sells[1].filled_at == datetime(2024, 6, 28, 16, 0, tzinfo=NEW_YORK)
    assert any("exit_date_reached_after_unfilled_attempt" in line for line in lines)
    assert trader.ledger.fills()[-1].client_order_id == "brk-IWM-2024-exit-2"
