"""The breakout-and-hold rule, case by case and by property."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import NEW_YORK
from bot.market.calendar import nyse_sessions
from strategies.bars import DailyBar, MinuteBar
from strategies.breakout import (
    Action,
    Reason,
    entry_decision,
    exit_decision,
    exit_session,
    first_intraday_breakout,
    intraday_entry_block,
    last_june_session,
    season_of,
)
from strategies.params import Allocation, BreakoutParams, FixedNotional, FixedQuantity
from strategies.sizing import order_quantity

DAYS = nyse_sessions(date(2023, 11, 1), date(2025, 7, 31))
DEFAULT = BreakoutParams()


def bars(*closes: float, highs: list[float] | None = None, start: int = 0) -> list[DailyBar]:
    return [DailyBar(DAYS[start + i], c, (highs[i] if highs else c) + 0.0, c - 1, c, 1.0) for i, c in enumerate(closes)]


def decide(history: list[DailyBar], params: BreakoutParams = DEFAULT, traded: bool = False) -> tuple[Action, Reason]:
    decision = entry_decision(history, params, traded_this_season=traded)
    return decision.action, decision.reason


def test_touch_above_without_a_close_above_is_no_signal() -> None:
    assert decide(bars(198, 199, highs=[198, 203])) == (Action.HOLD, Reason.BELOW_LEVEL)


def test_close_exactly_at_the_level_is_no_signal() -> None:
    assert decide(bars(198, 200.0)) == (Action.HOLD, Reason.BELOW_LEVEL)


def test_close_one_cent_above_after_a_close_below_is_the_signal() -> None:
    assert decide(bars(198, 200.01)) == (Action.BUY, Reason.BREAKOUT_CONFIRMED)


def test_gap_up_through_the_level_is_the_signal() -> None:
    assert decide(bars(196, 205)) == (Action.BUY, Reason.BREAKOUT_CONFIRMED)


def test_already_above_at_start_waits_for_a_fresh_cross() -> None:
    assert decide(bars(205, 206, 207)) == (Action.HOLD, Reason.ALREADY_ABOVE_WAITING_FOR_CROSS)
    assert decide(bars(205, 206, 199)) == (Action.HOLD, Reason.BELOW_LEVEL)
    assert decide(bars(205, 206, 199, 201)) == (Action.BUY, Reason.BREAKOUT_CONFIRMED)


def test_first_bar_above_with_no_prior_close_cannot_prove_a_cross() -> None:
    assert decide(bars(201)) == (Action.HOLD, Reason.ALREADY_ABOVE_WAITING_FOR_CROSS)


def test_confirm_days_counts_consecutive_closes() -> None:
    three = BreakoutParams(confirm_days=3)
    assert decide(bars(199, 201), three) == (Action.HOLD, Reason.CONFIRMING)
    assert decide(bars(199, 201, 202), three) == (Action.HOLD, Reason.CONFIRMING)
    assert decide(bars(199, 201, 202, 203), three) == (Action.BUY, Reason.BREAKOUT_CONFIRMED)
    assert decide(bars(199, 201, 202, 203, 204), three) == (Action.HOLD, Reason.ALREADY_ABOVE_WAITING_FOR_CROSS)
    assert decide(bars(199, 201, 199.5, 203), three) == (Action.HOLD, Reason.CONFIRMING)


def test_buffer_raises_the_threshold() -> None:
    buffered = BreakoutParams(buffer_pct=1.0)
    assert buffered.threshold == pytest.approx(202.0)
    assert decide(bars(199, 201.5), buffered) == (Action.HOLD, Reason.BELOW_LEVEL)
    assert decide(bars(199, 202.5), buffered) == (Action.BUY, Reason.BREAKOUT_CONFIRMED)


def test_without_require_cross_the_bot_chases() -> None:
    chase = BreakoutParams(require_cross=False)
    assert decide(bars(205, 206, 207), chase) == (Action.BUY, Reason.BREAKOUT_CONFIRMED)


def test_entry_window_and_exit_date_block_signals() -> None:
    history = bars(199, 201)  # signal on DAYS[1]
    assert decide(history, BreakoutParams(entry_start=DAYS[2])) == (Action.HOLD, Reason.BEFORE_ENTRY_WINDOW)
    assert decide(history, BreakoutParams(entry_end=DAYS[0])) == (Action.HOLD, Reason.AFTER_ENTRY_WINDOW)
    assert decide(history, BreakoutParams(exit_date=DAYS[1])) == (Action.HOLD, Reason.AFTER_EXIT_DATE)
    assert decide(history, BreakoutParams(entry_start=DAYS[1], entry_end=DAYS[1]))[0] is Action.BUY


def test_one_round_trip_per_season_unless_reentry() -> None:
    history = bars(199, 201)
    assert decide(history, traded=True) == (Action.HOLD, Reason.SEASON_ALREADY_TRADED)
    assert decide(history, BreakoutParams(allow_reentry=True), traded=True)[0] is Action.BUY


def test_no_data() -> None:
    assert decide([]) == (Action.HOLD, Reason.NO_DATA)


def test_exit_is_the_last_june_session_of_the_entry_year_or_the_next() -> None:
    assert exit_session(date(2023, 12, 14), DAYS, DEFAULT) == date(2024, 6, 28)
    assert exit_session(date(2024, 6, 28), DAYS, DEFAULT) == date(2024, 6, 28)  # entry on the last June day
    assert exit_session(date(2024, 7, 1), DAYS, DEFAULT) == date(2025, 6, 30)  # entry after June rolls over


def test_signal_on_the_last_day_of_june_enters_next_season() -> None:
    assert season_of(date(2024, 6, 28), DAYS) == 2024
    assert season_of(date(2024, 7, 1), DAYS) == 2025
    assert exit_session(date(2024, 7, 1), DAYS, DEFAULT).year == 2025


def test_a_june_holiday_on_the_last_weekday_moves_the_exit_earlier() -> None:
    without_june_30 = [d for d in DAYS if d != date(2025, 6, 30)]
    assert last_june_session(2025, without_june_30) == date(2025, 6, 27)


def test_calendar_not_reaching_june_falls_back_to_the_last_weekday() -> None:
    assert last_june_session(2030, DAYS) == date(2030, 6, 28)  # June 30, 2030 is a Sunday


def test_exit_date_override_uses_the_last_session_on_or_before_it() -> None:
    params = BreakoutParams(exit_date=date(2024, 7, 4))  # Independence Day
    assert exit_session(date(2024, 1, 2), DAYS, params) == date(2024, 7, 3)  # an early close


def test_exit_decision_holds_then_sells_then_sells_overdue() -> None:
    planned = date(2024, 6, 28)
    assert exit_decision(date(2024, 6, 27), planned).reason is Reason.HOLDING
    assert exit_decision(planned, planned).action is Action.SELL
    assert exit_decision(planned, planned).reason is Reason.EXIT_DATE_REACHED
    assert exit_decision(date(2024, 7, 1), planned).reason is Reason.EXIT_OVERDUE


def minutes(*closes: float) -> list[MinuteBar]:
    start = datetime(2023, 12, 13, 9, 30, tzinfo=NEW_YORK)
    return [MinuteBar(start + timedelta(minutes=i), c, c, c, c) for i, c in enumerate(closes)]


def test_intraday_signal_is_the_first_minute_closing_above() -> None:
    below = bars(198.0)
    assert first_intraday_breakout(minutes(199, 199.9, 200.2, 201), below, DEFAULT) == (Reason.BREAKOUT_CONFIRMED, 2)
    assert first_intraday_breakout(minutes(199, 200), below, DEFAULT) == (Reason.BELOW_LEVEL, None)
    assert first_intraday_breakout(minutes(201), bars(201.0), DEFAULT) == (Reason.ALREADY_ABOVE_WAITING_FOR_CROSS, None)
    assert first_intraday_breakout(minutes(201), [], DEFAULT)[1] is None
    assert first_intraday_breakout(minutes(201), bars(205.0), BreakoutParams(require_cross=False))[1] == 0
    assert intraday_entry_block(DAYS[0], DEFAULT, traded_this_season=True) is Reason.SEASON_ALREADY_TRADED


def test_sizing_in_whole_shares() -> None:
    assert order_quantity(Allocation(Decimal("0.95")), equity=Decimal(100000), price=Decimal("202.29")) == 469
    assert order_quantity(FixedNotional(Decimal(10000)), equity=Decimal(1), price=Decimal(201)) == 49
    assert order_quantity(FixedQuantity(7), equity=Decimal(0), price=Decimal(201)) == 7
    with pytest.raises(ValueError):
        order_quantity(Allocation(), equity=Decimal(1000), price=Decimal(0))


closes_strategy = st.lists(st.floats(min_value=190, max_value=210, allow_nan=False), min_size=1, max_size=60)
params_strategy = st.builds(
    BreakoutParams,
    confirm_days=st.integers(1, 4),
    buffer_pct=st.sampled_from([0.0, 0.25, 1.0]),
    require_cross=st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(closes_strategy, params_strategy)
def test_a_buy_always_has_its_confirming_closes_and_cross(closes: list[float], params: BreakoutParams) -> None:
    history = bars(*closes)
    if decide(history, params)[0] is Action.BUY:
        assert all(b.close > params.threshold for b in history[-params.confirm_days :])
        if params.require_cross:
            assert history[-params.confirm_days - 1].close <= params.threshold


@settings(max_examples=200, deadline=None)
@given(closes_strategy)
def test_with_require_cross_at_most_one_buy_per_run_above_the_level(closes: list[float]) -> None:
    history = bars(*closes)
    buys = [i for i in range(len(history)) if decide(history[: i + 1])[0] is Action.BUY]
    for first, second in itertools.pairwise(buys):
        assert any(b.close <= DEFAULT.level for b in history[first + 1 : second + 1])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(DAYS[:400]), params_strategy)
def test_exit_is_a_calendar_session_on_or_after_the_entry(entry: date, params: BreakoutParams) -> None:
    planned = exit_session(entry, DAYS, params)
    assert planned >= entry and planned in DAYS and planned.month == 6


@settings(max_examples=200, deadline=None)
@given(
    st.decimals(min_value=1, max_value=10**7, places=2),
    st.decimals(min_value=1, max_value=1000, places=2),
    st.decimals(min_value=Decimal("0.01"), max_value=1, places=2),
)
def test_allocation_spends_at_most_its_share_and_within_one_share(
    equity: Decimal, price: Decimal, fraction: Decimal
) -> None:
    qty = order_quantity(Allocation(fraction), equity=equity, price=price)
    assert qty * price <= equity * fraction < (qty + 1) * price
