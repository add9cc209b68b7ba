"""The backtest is the live loop's cycle, pass for pass, on the in-process venue model.

Where the venue fills as the auction prints, its trades equal the sweep's vectorised replay (bot/research, code
that shares nothing with the cycle but the rule's functions); under Alpaca paper's order fates it does what the
live bot does: retry, sell remainders, never sell what it does not hold.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from bot.backtest.engine import BacktestResult, run_backtest
from bot.cli import main
from bot.ledger import OrderRecord
from bot.local_exchange.faults import parse_faults
from bot.market.scenarios import SCENARIO_NAMES, build_scenario, scenario_dividends
from bot.research.cells import Cells
from bot.score_output import scorecard_json
from bot.scoring import with_dividends
from strategies.params import Allocation, BreakoutParams, FixedNotional, Trigger
from tests.test_sweep import assert_every_cell_is_the_backtest

START, END = date(2023, 12, 1), date(2024, 7, 3)
CASH = Decimal(100000)
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def both(
    frames: dict[str, pd.DataFrame], params: BreakoutParams, faults: str | None = None
) -> tuple[BacktestResult, BacktestResult]:
    """The backtest under these order fates, and with every order filled as the auction prints."""
    fated = run_backtest(
        frames, params, cash=CASH, start=START, end=END, faults=parse_faults(faults) if faults else None
    )
    return fated, run_backtest(frames, params, cash=CASH, start=START, end=END)


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_every_scenario_trades_as_the_sweep_s_independent_replay(scenario: str) -> None:
    frames, dividends = build_scenario(scenario, seed=3), scenario_dividends(scenario)
    assert assert_every_cell_is_the_backtest(frames, Cells(BreakoutParams()), start=START, end=END) in (0, 1)
    result = run_backtest(frames, BreakoutParams(), cash=CASH, start=START, end=END, dividends=dividends)
    priced = run_backtest(frames, BreakoutParams(), cash=CASH, start=START, end=END)
    assert scorecard_json(result.scorecard) == scorecard_json(with_dividends(priced.scorecard, dividends))
    assert [d.session for d in result.decisions] == [d.session for d in priced.decisions]  # one per session
    assert all(o.status == "filled" for o in result.orders)


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
def test_the_rule_s_variants_trade_as_the_sweep_s_independent_replay(what: str, change: dict[str, object]) -> None:
    frames = build_scenario("breakout", seed=3)
    base = replace(BreakoutParams(), **change)  # type: ignore[arg-type]
    assert assert_every_cell_is_the_backtest(frames, Cells(base), start=START, end=END) == 1, what


def test_an_unfilled_opening_auction_is_bought_with_a_day_order_the_same_session() -> None:
    fated, plain = both(build_scenario("breakout", seed=3), BreakoutParams(), "opg_unfilled:1")
    first, retry, exit_ = fated.orders
    entry_day = plain.scorecard.trades[0].entry_session
    assert (first.time_in_force, first.status, first.filled_qty) == ("opg", "expired", 0)
    assert (retry.time_in_force, retry.status) == ("day", "filled")
    buys = [f for f in fated.fills if f.side == "buy"]
    assert {f.session for f in buys} == {entry_day}
    assert (exit_.time_in_force, exit_.status, exit_.qty) == ("cls", "filled", retry.filled_qty)
    assert fated.scorecard.trades[0].exit_price == plain.scorecard.trades[0].exit_price


def test_an_unfilled_closing_auction_is_sold_at_the_next_session_s_open() -> None:
    frames = build_scenario("breakout", seed=3)
    fated, plain = both(frames, BreakoutParams(), "cls_unfilled:1")
    planned = plain.scorecard.trades[0].exit_session
    sessions: list[date] = list(frames["IWM"].index)
    following = sessions[sessions.index(planned) + 1]
    [sell] = [f for f in fated.fills if f.side == "sell"]
    assert sell.session == following
    assert sell.price == Decimal(str(frames["IWM"].loc[following, "open"])).quantize(Decimal("0.01"))
    assert sell.qty == plain.scorecard.trades[0].qty


@pytest.mark.parametrize("spec", ["auction_partial:1:fraction=0.5", "auction_partial:0.5", "paper_partial:1"])
def test_partial_auction_fills_never_sell_more_than_was_bought(spec: str) -> None:
    fated, _ = both(build_scenario("breakout", seed=3), BreakoutParams(), spec)
    bought = sum(f.qty for f in fated.fills if f.side == "buy")
    sold = sum(f.qty for f in fated.fills if f.side == "sell")
    assert bought > 0
    assert sold == bought  # the remainder of a partly filled exit is sold too, and nothing beyond what was held
    assert all(o.status in ("filled", "expired", "canceled") for o in fated.orders)


def test_an_entry_rejected_after_acceptance_is_not_sent_again() -> None:
    fated, _ = both(build_scenario("breakout", seed=3), BreakoutParams(), "reject_after_accept:1")
    assert [(o.side, o.status) for o in fated.orders] == [("buy", "rejected")]
    assert fated.fills == ()
    assert fated.scorecard.trades == ()


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    assert main(["backtest", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_bot_backtest_says_how_it_filled(capsys: pytest.CaptureFixture[str]) -> None:
    span = ["--scenario", "false-breakout", "--start", START.isoformat(), "--end", END.isoformat()]
    plain, fated = cli_json(capsys, *span), cli_json(capsys, *span, "--faults", "opg_unfilled:1", "--seed", "4")
    assert plain["provenance"]["engine"] == "the live loop's cycle on the local exchange's venue model, in-process"
    assert plain["provenance"]["fills"].endswith("every order filled in full")
    assert fated["provenance"]["fills"].endswith("order fates opg_unfilled:1 (seed 4)")
    assert plain["trades"] and fated["trades"]
    # An unfilled opening auction is bought by a day order the same session: at another price, the same day.
    assert fated["trades"][0]["entry_date"] == plain["trades"][0]["entry_date"]


def test_with_no_trade_the_backtest_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    span = ["--scenario", "no-breakout", "--start", START.isoformat(), "--end", END.isoformat()]
    why = cli_json(capsys, *span)["no_trade_reason"]
    closes = build_scenario("no-breakout", seed=0)["IWM"]["close"]
    highest = closes[(closes.index >= START) & (closes.index <= END)].max()
    assert f"the highest close was {highest:.2f}" in why and "against a threshold of 200.00" in why


@pytest.mark.parametrize(
    ("args", "named"),
    [(["--faults", "503:0.1"], "503"), (["--faults", "opg_unfilled:2"], "opg_unfilled")],
)
def test_faults_the_in_process_venue_cannot_apply_are_refused(
    args: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backtest", "--scenario", "breakout", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0]


@pytest.mark.skipif(not (SHARED / "IWM.csv").is_file(), reason="needs ../shared/data (the real history)")
def test_on_the_real_2023_24_season_the_backtest_trades_the_files_prices(capsys: pytest.CaptureFixture[str]) -> None:
    span = ["--data", str(SHARED), "--start", START.isoformat(), "--end", END.isoformat()]
    [trade] = cli_json(capsys, *span)["trades"]
    iwm = pd.read_csv(SHARED / "IWM.csv", index_col=0)
    iwm.index = [date.fromisoformat(str(day)[:10]) for day in iwm.index]
    days = list(iwm.index)
    above = [d for d in days if START <= d <= END and iwm.loc[d, "close"] > 200]
    signal = next(d for d in above if iwm.loc[days[days.index(d) - 1], "close"] <= 200)
    entry = days[days.index(signal) + 1]
    assert (trade["entry_date"], trade["entry_price"]) == (entry.isoformat(), round(iwm.loc[entry, "open"], 2))
    assert trade["exit_date"] == "2024-06-28" and trade["exit_price"] == round(iwm.loc[date(2024, 6, 28), "close"], 2)
    assert trade["excess_return_pct"] < 0  # the claim failed: IWM far behind SPY


def test_holding_the_intraday_trigger_asks_no_more_than_the_close_trigger() -> None:
    """The minute looks are for a flat bot: once it holds, it waits for the decision points like the close trigger
    (it made a whole pass every minute of every session before)."""
    frames = build_scenario("breakout", seed=3)
    intraday = run_backtest(
        frames, BreakoutParams(trigger=Trigger.INTRADAY), cash=CASH, start=START, end=END, every_pass=True
    )
    close = run_backtest(frames, BreakoutParams(), cash=CASH, start=START, end=END, every_pass=True)
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


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
@pytest.mark.parametrize(
    "params",
    [
        BreakoutParams(trigger=Trigger.INTRADAY),
        BreakoutParams(trigger=Trigger.INTRADAY, require_cross=False, buffer_pct=0.5),
        BreakoutParams(trigger=Trigger.INTRADAY, hold_sessions=3, allow_reentry=True),
    ],
    ids=["default", "no-cross-buffered", "reentry"],
)
def test_stepping_to_the_minute_that_can_buy_trades_as_looking_every_minute(
    scenario: str, params: BreakoutParams
) -> None:
    """The intraday replay skips the looks that cannot buy (and, holding, the passes that only mark the day); every
    order, fill, decision and mark is the same as a look each minute and a pass at every decision point make."""
    frames = build_scenario(scenario, seed=5)
    stepped = run_backtest(frames, params, cash=CASH, start=START, end=END)
    looked = run_backtest(frames, params, cash=CASH, start=START, end=END, every_pass=True)

    def sent(result: BacktestResult) -> list[OrderRecord]:
        return [replace(o, broker_order_id="") for o in result.orders]  # the venue's ids are random uuids

    assert (sent(stepped), stepped.fills, stepped.decisions, stepped.marks) == (
        sent(looked),
        looked.fills,
        looked.decisions,
        looked.marks,
    )
    assert scorecard_json(stepped.scorecard) == scorecard_json(looked.scorecard)
    assert stepped.passes < looked.passes
