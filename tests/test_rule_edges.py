"""The rule's edges, decided: the fresh cross is of the threshold, a breakout on the exit session enters the next
season, re-entry within a season, and a level that travels (the highest close of the last N sessions)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bot.backtest.engine import run_backtest
from bot.market.calendar import nyse_sessions
from bot.market.scenarios import build_scenario
from bot.report import ledger_scorecard
from bot.research.cells import Cells
from bot.score_output import scorecard_json
from bot.watch.messages import notification_for
from strategies.bars import DailyBar
from strategies.breakout import Action, Reason, entry_decision
from strategies.params import BreakoutParams, LevelMode
from tests.live_harness import harness
from tests.test_sweep import assert_every_cell_is_the_backtest

DAYS = nyse_sessions(date(2023, 11, 1), date(2025, 7, 31))


def bars(*closes: float) -> list[DailyBar]:
    return [DailyBar(DAYS[i], c, c, c, c, 1.0) for i, c in enumerate(closes)]


def frames_of(closes: list[float]) -> dict[str, pd.DataFrame]:
    """IWM closing at ``closes`` (opening at the previous close), SPY rising a cent a day."""
    days = DAYS[: len(closes)]
    opens = [closes[0], *closes[:-1]]
    iwm = pd.DataFrame(
        {"open": opens, "high": [max(o, c) for o, c in zip(opens, closes, strict=True)], "low": opens, "close": closes},
        index=pd.Index(days, name="date"),
    ).assign(volume=1.0)
    spy = pd.DataFrame({"open": 450.0, "high": 451.0, "low": 449.0, "close": 450.0}, index=iwm.index)
    spy = spy.add(pd.Series([0.01 * i for i in range(len(days))], index=iwm.index), axis=0).assign(volume=1.0)
    return {"IWM": iwm, "SPY": spy}


BUFFERED = BreakoutParams(buffer_pct=5.0)  # threshold 210


@pytest.mark.parametrize(
    ("closes", "expected"),
    [
        # Above the level but at or below the threshold, then above the threshold: a fresh cross of the threshold.
        ((200.5, 211.0), (Action.BUY, Reason.BREAKOUT_CONFIRMED)),
        ((195.0, 205.0, 209.0, 210.5), (Action.BUY, Reason.BREAKOUT_CONFIRMED)),
        ((210.0, 210.01), (Action.BUY, Reason.BREAKOUT_CONFIRMED)),  # exactly at the threshold counts as at it
        ((211.0, 212.0), (Action.HOLD, Reason.ALREADY_ABOVE_WAITING_FOR_CROSS)),
        ((205.0, 209.9), (Action.HOLD, Reason.BELOW_LEVEL)),
    ],
)
def test_the_fresh_cross_is_of_the_threshold(closes: tuple[float, ...], expected: tuple[Action, Reason]) -> None:
    decision = entry_decision(bars(*closes), BUFFERED, traded_this_season=False)
    assert (decision.action, decision.reason) == expected


def test_a_buffer_trades_on_a_gradual_rise() -> None:
    """STRATEGY_BUFFER_PCT=5 used to need a one-session jump from at or below 200 to above 210."""
    closes = [190.0 + 0.5 * i for i in range(60)] + [220.0] * 200
    card = run_backtest(frames_of(closes), BUFFERED, cash=Decimal(100000)).scorecard
    first = card.trades[0]
    # 210.5 is the first close above 210 (index 41); bought at the next session's open, which is that close.
    assert (first.entry_session, first.entry_price) == (DAYS[42], Decimal("210.5"))


def test_a_breakout_on_the_exit_session_enters_the_next_season() -> None:
    june_exit = date(2024, 6, 28)
    closes = []
    for day in DAYS:
        if day < date(2023, 12, 13) or date(2024, 6, 1) <= day < june_exit:
            closes.append(190.0)
        else:
            closes.append(205.0)
    card = run_backtest(frames_of(closes), BreakoutParams(), cash=Decimal(100000)).scorecard
    first, second = card.trades[:2]
    assert (first.season, first.exit_session) == (2024, june_exit)
    # The close of June 28 crosses 200 again: decided that evening, bought at July 1's open, in season 2025.
    assert (second.season, second.entry_session) == (2025, date(2024, 7, 1))


def test_reentry_within_a_season_needs_allow_reentry() -> None:
    """With a hold of 5 sessions the first trade ends in December; a new fresh cross in March re-enters."""
    closes = [205.0 if date(2023, 12, 13) <= d < date(2024, 1, 5) or d >= date(2024, 3, 1) else 190.0 for d in DAYS]
    frames = frames_of(closes)
    once = BreakoutParams(hold_sessions=5, exit_date=date(2024, 6, 28))
    single = run_backtest(frames, once, cash=Decimal(100000)).scorecard.trades
    told = Told()
    twice = run_backtest(frames, replace(once, allow_reentry=True), cash=Decimal(100000), log=told).scorecard.trades
    assert [t.entry_session for t in single] == [date(2023, 12, 14)]
    assert [t.entry_session for t in twice] == [date(2023, 12, 14), date(2024, 3, 4)]
    assert [t.season for t in twice] == [2024, 2024]
    assert twice[0].exit_session == DAYS[DAYS.index(date(2023, 12, 14)) + 5]
    # Each round trip's close is its own news: a notification per trip, not one per season.
    closed = [fields for event, fields in told.events if event == "trade_closed"]
    assert [(f["season"], f["trip"], f["entry_date"]) for f in closed] == [
        (2024, 1, "2023-12-14"),
        (2024, 2, "2024-03-04"),
    ]
    keys = [told_of.key for f in closed if (told_of := notification_for("trade_closed", f)) is not None]
    assert keys == ["trade_closed:IWM:2024", "trade_closed:IWM:2024:2"]


class Told:
    """The cycle's log, kept: (event, fields) in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def info(self, event: str, **fields: Any) -> None:
        self.events.append((event, fields))

    warning = error = debug = info


HIGH_3 = BreakoutParams(level_mode=LevelMode.HIGH, level_lookback=3)


@pytest.mark.parametrize(
    ("params", "closes", "action"),
    [
        # 150 x 1.001 is 150.14999999999998 in floats; the threshold is 150.15, and a close of it is not above it.
        (BreakoutParams(level=150.0, buffer_pct=0.1), (149.0, 150.15), Action.HOLD),
        (BreakoutParams(level=150.0, buffer_pct=0.1), (149.0, 150.16), Action.BUY),
        (BreakoutParams(level=201.5, buffer_pct=2.3), (200.0, 206.1345), Action.HOLD),  # 206.13449999999997
        (BreakoutParams(level=201.5, buffer_pct=2.3), (200.0, 206.1346), Action.BUY),
        (replace(HIGH_3, buffer_pct=1.1), (50.0, 52.0, 51.0, 51.5, 52.572), Action.HOLD),  # 52 x 1.011
        (replace(HIGH_3, buffer_pct=1.1), (50.0, 52.0, 51.0, 51.5, 52.5721), Action.BUY),
    ],
    ids=["absolute-at", "absolute-above", "odd-level-at", "odd-level-above", "travelling-at", "travelling-above"],
)
def test_a_close_of_exactly_the_buffered_threshold_is_not_a_breakout_anywhere(
    params: BreakoutParams, closes: tuple[float, ...], action: Action
) -> None:
    assert entry_decision(bars(*closes), params, traded_this_season=False).action is action
    # The sweep decides it as the backtest does: the same history, held on a few sessions so a buy fills.
    frames = frames_of([*closes, *[closes[-1]] * 5])
    traded = assert_every_cell_is_the_backtest(frames, Cells(params, (("confirm_days", (1,)),)))
    assert traded == (1 if action is Action.BUY else 0)


def test_a_level_that_travels_is_the_highest_close_of_the_lookback() -> None:
    high = BreakoutParams(level_mode=LevelMode.HIGH, level_lookback=3)
    # The highest of the three closes before the last is 52; the last closes above it, the one before did not.
    assert entry_decision(bars(50, 52, 51, 51.5, 52.5), high, traded_this_season=False).action is Action.BUY
    assert entry_decision(bars(50, 52, 51, 52.5, 53), high, traded_this_season=False).reason is (
        Reason.ALREADY_ABOVE_WAITING_FOR_CROSS
    )
    assert entry_decision(bars(50, 52), high, traded_this_season=False).reason is Reason.NO_DATA  # no level yet
    buffered = replace(high, buffer_pct=1.0)  # 52 x 1.01 = 52.52
    assert entry_decision(bars(50, 52, 51, 51.5, 52.5), buffered, traded_this_season=False).action is Action.HOLD


START, END = date(2023, 12, 1), date(2024, 7, 3)


def test_live_trades_a_travelling_level_and_a_hold_length_as_the_backtest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRATEGY_LEVEL_MODE", "high")
    monkeypatch.setenv("STRATEGY_LEVEL_LOOKBACK_SESSIONS", "10")
    monkeypatch.setenv("STRATEGY_HOLD_SESSIONS", "15")
    frames = build_scenario("breakout", seed=3)
    with harness(tmp_path, frames, start=START, end=END) as h:
        trader = h.trader()
        h.run(trader)
        live = scorecard_json(ledger_scorecard(trader.ledger, trader.params))
    assert trader.params.level_mode is LevelMode.HIGH and trader.params.hold_sessions == 15
    backtest = run_backtest(frames, trader.params, cash=Decimal(100000), start=START, end=END).scorecard
    assert live == scorecard_json(backtest)
    first = backtest.trades[0]
    assert first.closed and first.exit_session == DAYS[DAYS.index(first.entry_session) + 15]
    assert len({t.season for t in backtest.trades}) == len(backtest.trades)  # one round trip per season


def test_the_live_loop_re_enters_a_season_after_a_hold_as_the_backtest_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two round trips in one season through alpaca-py and the exchange: the second trip's orders carry its
    number, and the score is the backtest's (which the sweep's independent replay checks, above)."""
    for name, value in (("ALLOW_REENTRY", "true"), ("HOLD_SESSIONS", "5"), ("EXIT_DATE", "2024-06-28")):
        monkeypatch.setenv(f"STRATEGY_{name}", value)
    closes = [205.0 if date(2023, 12, 13) <= d < date(2024, 1, 5) or d >= date(2024, 3, 1) else 190.0 for d in DAYS]
    frames = frames_of(closes)
    start, end = date(2023, 12, 1), date(2024, 7, 3)
    with harness(tmp_path, frames, start=start, end=end) as h:
        trader = h.trader()
        h.run(trader)
        live = scorecard_json(ledger_scorecard(trader.ledger, trader.params))
        orders = sorted(h.orders(), key=lambda o: o.submitted_at)
    expected = run_backtest(frames, trader.params, cash=Decimal(100000), start=start, end=end).scorecard
    assert live == scorecard_json(expected)
    assert [t["entry_date"] for t in live["trades"]] == ["2023-12-14", "2024-03-04"]
    assert [o.client_order_id for o in orders] == [
        "brk-IWM-2024-entry-1", "brk-IWM-2024-exit-1", "brk-IWM-2024.2-entry-1", "brk-IWM-2024.2-exit-1",
    ]  # fmt: skip
    assert all(o.status == "filled" for o in orders)
