"""The live loop as a backtest engine: the Trader pass for pass on the in-process venue model.

Its score must equal the event-driven replay's wherever the venue fills as the auction prints, and under Alpaca
paper's order fates it must do what the live bot does: retry, sell remainders, never sell what it does not hold.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from bot.backtest.cycle import CycleResult, run_cycle
from bot.backtest.engine import BacktestResult, run_backtest
from bot.cli import main
from bot.local_exchange.faults import parse_faults
from bot.market.scenarios import SCENARIO_NAMES, build_scenario, scenario_dividends
from bot.score_output import scorecard_json
from bot.scoring import with_dividends
from strategies.params import Allocation, BreakoutParams, FixedNotional, Trigger

START, END = date(2023, 12, 1), date(2024, 7, 3)
CASH = Decimal(100000)
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def both(
    frames: dict[str, pd.DataFrame], params: BreakoutParams, faults: str | None = None
) -> tuple[CycleResult, BacktestResult]:
    cycle = run_cycle(frames, params, cash=CASH, start=START, end=END, faults=parse_faults(faults) if faults else None)
    return cycle, run_backtest(frames, params, cash=CASH, start=START, end=END)


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_the_live_loop_scores_every_scenario_as_the_replay_does(scenario: str) -> None:
    frames, dividends = build_scenario(scenario, seed=3), scenario_dividends(scenario)
    params = BreakoutParams()
    cycle = run_cycle(frames, params, cash=CASH, start=START, end=END, dividends=dividends)
    replay = run_backtest(frames, params, cash=CASH, start=START, end=END)
    assert scorecard_json(cycle.scorecard) == scorecard_json(with_dividends(replay.scorecard, dividends))
    decided = [d for d in replay.decisions if d.action.value != "sell"]  # entry decisions, session for session
    assert list(cycle.decisions) == decided
    assert all(o.status == "filled" for o in cycle.orders)


@pytest.mark.parametrize(
    ("what", "change"),
    [
        ("an exit date on a Saturday", {"exit_date": date(2024, 3, 30)}),
        ("an exit date on Good Friday", {"exit_date": date(2024, 3, 29)}),
        ("an exit date on a session", {"exit_date": date(2024, 2, 15)}),
        ("a 20-session hold", {"hold_sessions": 20}),
        ("a one-session hold", {"hold_sessions": 1}),
        ("two confirming closes", {"confirm_days": 2}),
        ("a whole-equity allocation", {"sizing": Allocation(Decimal(1))}),
        ("a fixed notional", {"sizing": FixedNotional(Decimal(25000))}),
    ],
)
def test_the_live_loop_and_the_replay_agree_on_the_rule_s_variants(what: str, change: dict[str, object]) -> None:
    cycle, replay = both(build_scenario("breakout", seed=3), replace(BreakoutParams(), **change))  # type: ignore[arg-type]
    assert scorecard_json(cycle.scorecard) == scorecard_json(replay.scorecard), what
    assert cycle.scorecard.trades, what


def test_an_unfilled_opening_auction_is_bought_with_a_day_order_the_same_session() -> None:
    cycle, replay = both(build_scenario("breakout", seed=3), BreakoutParams(), "opg_unfilled:1")
    first, retry, exit_ = cycle.orders
    entry_day = replay.scorecard.trades[0].entry_session
    assert (first.time_in_force, first.status, first.filled_qty) == ("opg", "expired", 0)
    assert (retry.time_in_force, retry.status) == ("day", "filled")
    buys = [f for f in cycle.fills if f.side == "buy"]
    assert {f.session for f in buys} == {entry_day}
    assert (exit_.time_in_force, exit_.status, exit_.qty) == ("cls", "filled", retry.filled_qty)
    assert cycle.scorecard.trades[0].exit_price == replay.scorecard.trades[0].exit_price


def test_an_unfilled_closing_auction_is_sold_at_the_next_session_s_open() -> None:
    frames = build_scenario("breakout", seed=3)
    cycle, replay = both(frames, BreakoutParams(), "cls_unfilled:1")
    planned = replay.scorecard.trades[0].exit_session
    sessions: list[date] = list(frames["IWM"].index)
    following = sessions[sessions.index(planned) + 1]
    [sell] = [f for f in cycle.fills if f.side == "sell"]
    assert sell.session == following
    assert sell.price == Decimal(str(frames["IWM"].loc[following, "open"])).quantize(Decimal("0.01"))
    assert sell.qty == replay.scorecard.trades[0].qty


@pytest.mark.parametrize("spec", ["auction_partial:1:fraction=0.5", "auction_partial:0.5", "paper_partial:1"])
def test_partial_auction_fills_never_sell_more_than_was_bought(spec: str) -> None:
    cycle, _ = both(build_scenario("breakout", seed=3), BreakoutParams(), spec)
    bought = sum(f.qty for f in cycle.fills if f.side == "buy")
    sold = sum(f.qty for f in cycle.fills if f.side == "sell")
    assert bought > 0
    assert sold == bought  # the remainder of a partly filled exit is sold too, and nothing beyond what was held
    assert all(o.status in ("filled", "expired", "canceled") for o in cycle.orders)


def test_an_entry_rejected_after_acceptance_is_not_sent_again() -> None:
    cycle, _ = both(build_scenario("breakout", seed=3), BreakoutParams(), "reject_after_accept:1")
    assert [(o.side, o.status) for o in cycle.orders] == [("buy", "rejected")]
    assert cycle.fills == ()
    assert cycle.scorecard.trades == ()


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    assert main(["backtest", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_bot_backtest_engine_live_prints_the_replay_s_score_and_says_which_engine(
    capsys: pytest.CaptureFixture[str],
) -> None:
    span = ["--scenario", "false-breakout", "--start", START.isoformat(), "--end", END.isoformat()]
    replay, live = cli_json(capsys, *span), cli_json(capsys, *span, "--engine", "live")
    assert (replay.pop("provenance")["engine"], live.pop("provenance")["engine"]) == ("replay", "live")
    assert live == replay
    assert live["trades"]


def test_with_no_trade_both_engines_say_why_in_the_same_words(capsys: pytest.CaptureFixture[str]) -> None:
    span = ["--scenario", "no-breakout", "--start", START.isoformat(), "--end", END.isoformat()]
    replay, live = cli_json(capsys, *span), cli_json(capsys, *span, "--engine", "live")
    assert live["no_trade_reason"] == replay["no_trade_reason"]
    assert "the highest close was" in live["no_trade_reason"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--engine", "live", "--faults", "503:0.1"], "503"),
        (["--faults", "opg_unfilled:1"], "--engine live"),
        (["--engine", "live", "--faults", "opg_unfilled:2"], "opg_unfilled"),
    ],
)
def test_faults_the_in_process_venue_cannot_apply_are_refused(
    args: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backtest", "--scenario", "breakout", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0]


@pytest.mark.skipif(not (SHARED / "IWM.csv").is_file(), reason="needs ../shared/data (the real history)")
def test_on_the_real_2023_24_season_the_live_loop_scores_what_the_replay_scores(
    capsys: pytest.CaptureFixture[str],
) -> None:
    span = ["--data", str(SHARED), "--start", START.isoformat(), "--end", END.isoformat()]
    replay, live = cli_json(capsys, *span), cli_json(capsys, *span, "--engine", "live")
    replay.pop("provenance"), live.pop("provenance")
    assert live == replay
    [trade] = live["trades"]
    assert trade["excess_return_pct"] < 0  # the claim failed: IWM far behind SPY


def test_holding_the_intraday_trigger_asks_no_more_than_the_close_trigger() -> None:
    """The minute looks are for a flat bot: once it holds, it waits for the decision points like the close trigger
    (it made a whole pass every minute of every session before)."""
    frames = build_scenario("breakout", seed=3)
    intraday = run_cycle(frames, BreakoutParams(trigger=Trigger.INTRADAY), cash=CASH, start=START, end=END)
    close = run_cycle(frames, BreakoutParams(), cash=CASH, start=START, end=END)
    held_by_both = [
        day
        for day in close.requests
        if max(intraday.scorecard.trades[0].entry_session, close.scorecard.trades[0].entry_session) < day
        and day < close.scorecard.trades[0].exit_session
    ]
    assert len(held_by_both) > 100
    assert [intraday.requests[day] for day in held_by_both] == [close.requests[day] for day in held_by_both]
    first_day = min(intraday.requests)
    assert intraday.requests[first_day] > 390  # flat, it did look each minute of the session
