"""The planning core as tables: what a pass saw (the time, the ledger's orders and fills, the account, the broker's
position, the bars) in, what is due and the plan out. No broker, no clock, no I/O: an in-memory ledger's records
are the portfolio, and the expected orders are worked out here from the table's own figures."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from bot.domain import NEW_YORK, Account
from bot.engine import planner
from bot.engine.plan_types import Facts, Market, Plan, Quiet, Step
from bot.engine.portfolio import Portfolio
from bot.engine.schedule import wake
from bot.ledger import FillRecord, Ledger, OrderRecord
from bot.market.calendar import nyse_sessions, session_for
from bot.season_calendar import TradingCalendar
from strategies.bars import DailyBar, MinuteBar
from strategies.params import BreakoutParams, LevelMode, Trigger

CALENDAR = TradingCalendar([session_for(d) for d in nyse_sessions(date(2023, 11, 1), date(2024, 7, 31))])
DEC_13, DEC_14, DEC_15 = date(2023, 12, 13), date(2023, 12, 14), date(2023, 12, 15)
CASH = Decimal(100000)


def et(month: int, day: int, hour: int, minute: int = 0, year: int = 2023) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def bars(through: date, last_close: float, before: float = 195.0) -> list[DailyBar]:
    """Closes of ``before`` up to the session before ``through``, and ``last_close`` on it."""
    days = [d for d in CALENDAR.days if d <= through][-30:]
    return [DailyBar(d, before, before, before, last_close if d == through else before) for d in days]


def account(cash: Decimal = CASH, **flags: bool) -> Account:
    return Account(status="ACTIVE", cash=cash, equity=cash, buying_power=2 * cash, non_marginable_buying_power=cash,
                   **flags)  # fmt: skip


@dataclass(frozen=True)
class Tried:
    """An order the ledger holds: filled ``filled`` shares of ``qty`` at ``price`` on ``session`` (priced)."""

    coid: str
    status: str
    at: datetime
    qty: int = 470
    filled: int = 0
    tif: str = "opg"
    rejection: str = ""
    price: Decimal = Decimal("200.50")
    session: date | None = None


def facts(now: datetime, tried: tuple[Tried, ...] = (), *, broker: int = 0, params: BreakoutParams | None = None,
          acct: Account | None = None, decided: frozenset[date] = frozenset()) -> Facts:  # fmt: skip
    params = params or BreakoutParams()
    ledger = Ledger.in_memory()
    for t in tried:
        season, intent = int(t.coid.split("-")[2].split(".")[0]), t.coid.split("-")[3]
        side = "buy" if intent == "entry" else "sell"
        ledger.upsert_order(OrderRecord(t.coid, "b-" + t.coid, "IWM", side, intent, season, Decimal(t.qty), t.tif,
                                        t.status, Decimal(t.filled), "test", t.at, t.at, t.rejection))  # fmt: skip
        if t.session is not None:
            moment = session_for(t.session).opens_at
            ledger.add_fill(FillRecord(t.coid, Decimal(t.filled), "IWM", side, intent, season, Decimal(t.filled),
                                       t.price, moment, t.session, Decimal("450")))  # fmt: skip
    return Facts(now=now, calendar=CALENDAR, params=params, portfolio=Portfolio(ledger, params),
                 account=acct or account(), broker_long=Decimal(broker), decided=decided)  # fmt: skip


def order_of(plan: Plan) -> tuple[str, str, int, str, str] | None:
    if plan.order is None:
        return None
    r = plan.order.request
    return (r.client_order_id, r.side.value, r.qty, r.time_in_force.value, plan.order.reason)


def events(plan: Plan) -> list[str]:
    return [e.name for e in plan.events]


def sized(price: float, cash: Decimal = CASH) -> int:
    """The default allocation: 95 % of equity, capped by cash over the 4 % market-buy collar."""
    p = Decimal(str(price))
    return int(min(cash * Decimal("0.95") / p, cash / (p * Decimal("1.04"))))


# The close trigger's entry: after the close, at 19:00 (or before the next open for a bot started late).

ENTRY_CASES = [
    # (what, now, last close, decided, the order, events)
    ("a breakout close, decided at 19:00", et(12, 13, 19), 201.0, False,
     ("brk-IWM-2024-entry-1", "buy", sized(201.0), "opg", "breakout_confirmed"), ["signal"]),
    ("below the level", et(12, 13, 19), 199.0, False, None, ["signal"]),
    ("the opg window missed: a day order", et(12, 14, 9, 29), 201.0, False,
     ("brk-IWM-2024-entry-1", "buy", sized(201.0), "day", "breakout_confirmed"), ["signal", "entry_type_switched"]),
    ("already decided", et(12, 13, 20), 201.0, True, None, []),
]  # fmt: skip


@pytest.mark.parametrize(("what", "now", "close", "decided", "order", "logged"), ENTRY_CASES,
                         ids=[c[0] for c in ENTRY_CASES])  # fmt: skip
def test_the_entry_after_a_close(
    what: str, now: datetime, close: float, decided: bool, order: tuple[str, str, int, str, str] | None,
    logged: list[str],
) -> None:  # fmt: skip
    seen = facts(now, decided=frozenset({DEC_13}) if decided else frozenset())
    due = planner.due(seen)
    assert (due.step, due.bars_through) == ((Step.NOTHING, None) if decided else (Step.ENTRY, DEC_13)), what
    plan = planner.plan(seen, due, Market(bars=bars(DEC_13, close)))
    assert order_of(plan) == order, what
    assert events(plan) == logged, what
    assert plan.decision == (None if decided else (DEC_13, "breakout_confirmed" if close > 200 else "below_level"))


def test_not_before_19_00_the_bar_may_not_be_final() -> None:
    assert planner.due(facts(et(12, 13, 16, 30))).step is Step.NOTHING


def test_a_missing_bar_is_said_once_and_nothing_is_decided() -> None:
    seen = facts(et(12, 13, 19))
    plan = planner.plan(seen, planner.due(seen), Market(bars=bars(date(2023, 12, 12), 201.0)))
    assert (plan.order, plan.decision, events(plan)) == (None, None, ["bars_missing"])
    assert plan.events[0].once == "bars:2023-12-13"


def test_a_sizing_of_zero_shares_sends_nothing_and_says_so() -> None:
    seen = facts(et(12, 13, 19), acct=account(Decimal(100)))
    plan = planner.plan(seen, planner.due(seen), Market(bars=bars(DEC_13, 201.0)))
    assert plan.order is None and events(plan) == ["signal", "order_skipped"]


def test_a_blocked_account_gets_no_orders() -> None:
    seen = facts(et(12, 13, 19), acct=account(trading_blocked=True))
    assert planner.due(seen).step is Step.BLOCKED
    assert planner.plan(seen, planner.due(seen), Market(bars=bars(DEC_13, 201.0))) == Plan()


# What follows an entry that did not fill: the next attempt, by the venue's answer.

OPG_SENT = et(12, 13, 19)
RETRY_CASES = [
    # (what, now, tried, latest price, the order)
    ("an expired opg: a day order the same session", et(12, 14, 9, 31),
     (Tried("brk-IWM-2024-entry-1", "expired", OPG_SENT),), "202.00",
     ("brk-IWM-2024-entry-2", "buy", sized(202.0), "day", "opg_unfilled_fallback")),
    ("refused for buying power: resized, still opg before 09:28", et(12, 14, 8),
     (Tried("brk-IWM-2024-entry-1", "rejected", et(12, 14, 7, 59), rejection="funds"),), "202.00",
     ("brk-IWM-2024-entry-2", "buy", sized(202.0), "opg", "resized_after_rejection")),
    ("refused for good: no more this session", et(12, 14, 9, 31),
     (Tried("brk-IWM-2024-entry-1", "rejected", et(12, 14, 9), rejection="other"),), None, None),
    ("still working: wait", et(12, 14, 9, 31), (Tried("brk-IWM-2024-entry-1", "accepted", OPG_SENT),), None, None),
    ("filled: nothing to retry", et(12, 14, 9, 31),
     (Tried("brk-IWM-2024-entry-1", "filled", OPG_SENT, filled=470),), None, None),
    ("after the cls cut-off: too late today", et(12, 14, 15, 51),
     (Tried("brk-IWM-2024-entry-1", "expired", OPG_SENT),), None, None),
]  # fmt: skip


@pytest.mark.parametrize(("what", "now", "tried", "latest", "order"), RETRY_CASES, ids=[c[0] for c in RETRY_CASES])
def test_the_next_attempt_at_an_entry(
    what: str, now: datetime, tried: tuple[Tried, ...], latest: str | None, order: tuple[str, str, int, str, str] | None
) -> None:
    seen = facts(now, tried, decided=frozenset({DEC_13}))
    due = planner.due(seen)
    assert (due.retry is not None) == (latest is not None), what
    plan = planner.plan(seen, due, Market(latest=Decimal(latest) if latest else None))
    assert order_of(plan) == order, what


def test_five_attempts_exhaust_the_intent_for_the_season() -> None:
    tried = tuple(Tried(f"brk-IWM-2024-entry-{n}", "expired", et(12, 13, 19) + timedelta(minutes=n), tif="day")
                  for n in range(1, 6))  # fmt: skip
    seen = facts(et(12, 14, 19), tried)
    plan = planner.plan(seen, planner.due(seen), Market(bars=bars(DEC_14, 201.0)))
    assert plan.order is None and "order_attempts_exhausted" in events(plan)
    assert plan.problems == {"exhausted:2024:entry": "entry orders of season 2024: 5 attempts used"}


# The exit, by the session and the venue's cut-offs (the timing tables are in test_plan.py).

BOUGHT = Tried("brk-IWM-2024-entry-1", "filled", OPG_SENT, filled=470, session=DEC_14)
EXIT_CASES = [
    # (what, params, now, tried, broker holds, the order, events)
    ("not yet", BreakoutParams(), et(6, 26, 19, year=2024), (BOUGHT,), 470, None, []),
    ("the evening before the June exit: cls", BreakoutParams(), et(6, 27, 19, year=2024), (BOUGHT,), 470,
     ("brk-IWM-2024-exit-1", "sell", 470, "cls", "exit_date_reached"), []),
    ("after the cls cut-off: a day order", BreakoutParams(), et(6, 28, 15, 51, year=2024), (BOUGHT,), 470,
     ("brk-IWM-2024-exit-1", "sell", 470, "day", "cls_cutoff_missed"), []),
    ("a holiday exit date (Good Friday): the session before it", BreakoutParams(exit_date=date(2024, 3, 29)),
     et(3, 27, 19, year=2024), (BOUGHT,), 470, ("brk-IWM-2024-exit-1", "sell", 470, "cls", "exit_date_reached"), []),
    ("a weekend exit date: the Friday", BreakoutParams(exit_date=date(2024, 3, 16)), et(3, 14, 19, year=2024),
     (BOUGHT,), 470, ("brk-IWM-2024-exit-1", "sell", 470, "cls", "exit_date_reached"), []),
    ("the remainder of a partial cls", BreakoutParams(), et(6, 28, 16, 1, year=2024),
     (BOUGHT, Tried("brk-IWM-2024-exit-1", "expired", et(6, 27, 19, year=2024), qty=470, filled=300, tif="cls",
                    session=date(2024, 6, 28), price=Decimal("202"))), 170,
     ("brk-IWM-2024-exit-2", "sell", 170, "day", "exit_overdue_after_unfilled_attempt"), []),
    ("the broker holds fewer: sell what it holds", BreakoutParams(), et(6, 27, 19, year=2024), (BOUGHT,), 400,
     ("brk-IWM-2024-exit-1", "sell", 400, "cls", "exit_date_reached"), ["position_mismatch"]),
    ("the broker holds none: never a short", BreakoutParams(), et(6, 27, 19, year=2024), (BOUGHT,), 0, None,
     ["position_mismatch"]),
]  # fmt: skip


@pytest.mark.parametrize(("what", "params", "now", "tried", "broker", "order", "logged"), EXIT_CASES,
                         ids=[c[0] for c in EXIT_CASES])  # fmt: skip
def test_the_exit(
    what: str, params: BreakoutParams, now: datetime, tried: tuple[Tried, ...], broker: int,
    order: tuple[str, str, int, str, str] | None, logged: list[str],
) -> None:  # fmt: skip
    seen = facts(now, tried, broker=broker, params=params)
    due = planner.due(seen)
    assert due.step is Step.EXIT, what
    plan = planner.plan(seen, due, Market())
    assert order_of(plan) == order, what
    assert events(plan) == logged, what


def test_a_filled_entry_waiting_for_its_price_decides_nothing() -> None:
    unpriced = replace(BOUGHT, session=None)
    assert planner.due(facts(et(12, 14, 19), (unpriced,), broker=470)).step is Step.PRICING


# Re-entry: a season's second round trip after a hold length ended the first.

HOLD_5 = BreakoutParams(hold_sessions=5, exit_date=date(2024, 6, 28))
FIRST_TRIP = (
    BOUGHT,
    Tried("brk-IWM-2024-exit-1", "filled", et(12, 20, 19), filled=470, tif="cls", session=date(2023, 12, 21)),
)


@pytest.mark.parametrize(("allow", "order", "reason"), [
    (True, ("brk-IWM-2024.2-entry-1", "buy", sized(201.0), "opg", "breakout_confirmed"), "breakout_confirmed"),
    (False, None, "season_already_traded"),
])  # fmt: skip
def test_a_second_trip_in_a_season_needs_allow_reentry(
    allow: bool, order: tuple[str, str, int, str, str] | None, reason: str
) -> None:
    seen = facts(et(3, 1, 19, year=2024), FIRST_TRIP, params=replace(HOLD_5, allow_reentry=allow))
    plan = planner.plan(seen, planner.due(seen), Market(bars=bars(date(2024, 3, 1), 201.0)))
    assert order_of(plan) == order
    assert plan.decision == (date(2024, 3, 1), reason)


# The intraday trigger's look, and when to look again.


def minutes(session: date, closes: list[float]) -> list[MinuteBar]:
    opens_at = session_for(session).opens_at
    return [MinuteBar(opens_at + timedelta(minutes=i), c, c, c, c) for i, c in enumerate(closes)]


def test_an_intraday_breakout_minute_buys_at_market_and_a_look_without_the_account_asks_for_it() -> None:
    intraday = BreakoutParams(trigger=Trigger.INTRADAY)
    now = et(12, 13, 9, 40)
    looked = facts(now, params=intraday)
    due = planner.due(looked)
    assert (due.step, due.closed.day if due.closed else None) == (Step.LOOK, date(2023, 12, 12))
    market = Market(bars=bars(date(2023, 12, 12), 199.0), minutes=minutes(DEC_13, [199.5, 200.5, 201.0]))
    assert planner.plan(replace(looked, account=None), due, market).needs_account
    plan = planner.plan(looked, due, market)
    assert order_of(plan) == ("brk-IWM-2024-entry-1", "buy", sized(200.5), "day", "breakout_confirmed")
    assert plan.decision == (DEC_13, "breakout_confirmed")


WAKE_CASES = [
    ("flat: the evening's decision", BreakoutParams(), et(12, 13, 19), (), et(12, 14, 19), False),
    ("an opg order working: a minute after the open", BreakoutParams(), et(12, 13, 19),
     (Tried("brk-IWM-2024-entry-1", "accepted", et(12, 13, 19)),), et(12, 14, 9, 31), False),
    ("an entry expired today: the evening, its open has passed", BreakoutParams(), et(12, 14, 15, 51),
     (Tried("brk-IWM-2024-entry-1", "expired", OPG_SENT, tif="day"),), et(12, 14, 19), False),
    ("intraday, flat in the session: a minute on", BreakoutParams(trigger=Trigger.INTRADAY), et(12, 13, 10), (),
     et(12, 13, 10, 1), True),
    ("intraday, holding: the evening", BreakoutParams(trigger=Trigger.INTRADAY), et(12, 14, 10), (BOUGHT,),
     et(12, 14, 19), False),
]  # fmt: skip


@pytest.mark.parametrize(("what", "params", "now", "tried", "at", "watching"), WAKE_CASES,
                         ids=[c[0] for c in WAKE_CASES])  # fmt: skip
def test_when_to_look_again(
    what: str, params: BreakoutParams, now: datetime, tried: tuple[Tried, ...], at: datetime, watching: bool
) -> None:
    then = wake(now, CALENDAR, params, facts(now, tried, params=params).portfolio, blocked=False)
    assert (then.at, then.watching_minutes) == (at, watching), what


def test_an_unfilled_entry_makes_the_next_open_a_decision_point() -> None:
    refused = (Tried("brk-IWM-2024-entry-1", "rejected", et(12, 13, 19), rejection="funds"),)
    then = wake(et(12, 13, 19), CALENDAR, BreakoutParams(), facts(et(12, 13, 19), refused).portfolio,
                blocked=False)  # fmt: skip
    assert then.at == et(12, 14, 9, 31)


# What the next passes can only repeat (a backtest records them without making them: test_backtest_quiet.py).

QUIET_CASES = [
    # (what, params, the close before, the last close, (threshold, above, reason) or None)
    ("below the level: alike while the closes stay at or below it", BreakoutParams(), 195.0, 199.0,
     (200.0, False, "below_level")),
    ("a buffer: the threshold is the buffered level", BreakoutParams(buffer_pct=1.0), 195.0, 201.0,
     (202.0, False, "below_level")),
    ("waiting for a cross: alike while the closes stay above", BreakoutParams(), 205.0, 206.0,
     (200.0, True, "already_above_waiting_for_cross")),
    ("a breakout: nothing to repeat", BreakoutParams(), 195.0, 201.0, None),
    ("confirming: the next close decides anew", BreakoutParams(confirm_days=2), 195.0, 201.0, None),
    ("a travelling level moves each session: none", BreakoutParams(level_mode=LevelMode.HIGH, level_lookback=5),
     195.0, 194.0, None),
]  # fmt: skip


@pytest.mark.parametrize(("what", "params", "before", "close", "quiet"), QUIET_CASES,
                         ids=[c[0] for c in QUIET_CASES])  # fmt: skip
def test_which_closes_decide_alike(
    what: str, params: BreakoutParams, before: float, close: float, quiet: tuple[float, bool, str] | None
) -> None:
    seen = facts(et(12, 13, 19), params=params)
    plan = planner.plan(seen, planner.due(seen), Market(bars=bars(DEC_13, close, before=before)))
    said = plan.quiet
    assert (None if said is None else (pytest.approx(said.threshold), said.above, said.reason)) == quiet, what


def test_holding_before_the_exit_only_marks_until_the_evening_before_it() -> None:
    seen = facts(et(6, 26, 19, year=2024), (BOUGHT,), broker=470)
    plan = planner.plan(seen, planner.due(seen), Market())
    assert plan.quiet == Quiet(until=et(6, 27, 19, year=2024))  # the June 28 close's cls goes out that evening
    sending = facts(et(6, 27, 19, year=2024), (BOUGHT,), broker=470)
    assert planner.plan(sending, planner.due(sending), Market()).quiet is None


@pytest.mark.parametrize(("quiet", "close", "repeats"), [
    (Quiet(threshold=200.0, reason="below_level"), 200.0, True),  # at the threshold is not above it
    (Quiet(threshold=200.0, reason="below_level"), 200.01, False),
    (Quiet(threshold=200.0, above=True, reason="already_above_waiting_for_cross"), 200.0, False),
    (Quiet(threshold=200.0, above=True, reason="already_above_waiting_for_cross"), 230.0, True),
    (Quiet(until=et(6, 27, 19, year=2024)), 1.0, True),  # holding: any close
])  # fmt: skip
def test_a_close_repeats_the_quiet_plan(quiet: Quiet, close: float, repeats: bool) -> None:
    assert quiet.repeats(close) is repeats


@pytest.mark.parametrize(("what", "now", "tried", "settled"), [
    ("flat", et(12, 13, 19), (), True),
    ("an opg order working", et(12, 13, 19), (Tried("brk-IWM-2024-entry-1", "accepted", et(12, 13, 19)),), False),
    ("an entry expired today: a retry may be due", et(12, 14, 15, 51),
     (Tried("brk-IWM-2024-entry-1", "expired", OPG_SENT, tif="day"),), False),
    ("holding, priced", et(12, 14, 19), (BOUGHT,), True),
    ("a fill waiting for its price", et(12, 14, 19), (replace(BOUGHT, session=None),), False),
])  # fmt: skip
def test_a_pass_is_settled_when_nothing_can_change_before_the_next_decision_point(
    what: str, now: datetime, tried: tuple[Tried, ...], settled: bool
) -> None:
    assert wake(now, CALENDAR, BreakoutParams(), facts(now, tried).portfolio, blocked=False).settled is settled, what
    assert not wake(now, CALENDAR, BreakoutParams(), facts(now, tried).portfolio, blocked=True).settled


def test_a_fill_is_looked_at_again_when_the_benchmark_s_prices_at_it_are_out() -> None:
    filled = (Tried("brk-IWM-2024-entry-1", "filled", et(12, 14, 9, 30), filled=470),)  # its fill not yet recorded
    now = et(12, 14, 9, 31)
    then = wake(now, CALENDAR, BreakoutParams(), facts(now, filled).portfolio, blocked=False)
    assert then.at == et(12, 14, 9, 51)  # SPY's 09:30-09:35 minutes, official 16 minutes after the last
