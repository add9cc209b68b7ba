"""Breakout-and-hold: buy on a confirmed breakout above a level, sell at the end of June.

Every function here is pure: it reads the bars and the calendar it is given and nothing else,
so the backtest and the live loop make the same decision from the same history.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from strategies.bars import DailyBar, MinuteBar
from strategies.params import BreakoutParams


class Action(StrEnum):
    BUY = "buy"
    SELL = "sell"
    HOLD = "hold"


class Reason(StrEnum):
    NO_DATA = "no_data"
    BELOW_LEVEL = "below_level"
    CONFIRMING = "confirming"
    ALREADY_ABOVE_WAITING_FOR_CROSS = "already_above_waiting_for_cross"
    BREAKOUT_CONFIRMED = "breakout_confirmed"
    BEFORE_ENTRY_WINDOW = "before_entry_window"
    AFTER_ENTRY_WINDOW = "after_entry_window"
    AFTER_EXIT_DATE = "after_exit_date"
    SEASON_ALREADY_TRADED = "season_already_traded"
    HOLDING = "holding"
    EXIT_DATE_REACHED = "exit_date_reached"
    EXIT_OVERDUE = "exit_overdue"


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: Reason
    session: date | None = None
    price: float | None = None


def closes_above_streak(bars: Sequence[DailyBar], threshold: float) -> int:
    """How many of the latest closes, counted back from the last bar, are above ``threshold``."""
    streak = 0
    for bar in reversed(bars):
        if bar.close <= threshold:
            break
        streak += 1
    return streak


def _breakout_reason(bars: Sequence[DailyBar], params: BreakoutParams) -> Reason:
    streak = closes_above_streak(bars, params.threshold)
    if streak == 0:
        return Reason.BELOW_LEVEL
    if streak < params.confirm_days:
        return Reason.CONFIRMING
    if not params.require_cross:
        return Reason.BREAKOUT_CONFIRMED
    # A fresh cross: this bar completes the confirmation, and the close before the
    # first confirming close was at or below the level.
    if streak > params.confirm_days or len(bars) == streak:
        return Reason.ALREADY_ABOVE_WAITING_FOR_CROSS
    if bars[-streak - 1].close > params.level:
        return Reason.ALREADY_ABOVE_WAITING_FOR_CROSS
    return Reason.BREAKOUT_CONFIRMED


def _window_block(session: date, params: BreakoutParams) -> Reason | None:
    if params.entry_start is not None and session < params.entry_start:
        return Reason.BEFORE_ENTRY_WINDOW
    if params.entry_end is not None and session > params.entry_end:
        return Reason.AFTER_ENTRY_WINDOW
    if params.exit_date is not None and session >= params.exit_date:
        return Reason.AFTER_EXIT_DATE
    return None


def entry_decision(bars: Sequence[DailyBar], params: BreakoutParams, *, traded_this_season: bool) -> Decision:
    """Decide, after the close of ``bars[-1]``, whether to buy at the next session's open."""
    if not bars:
        return Decision(Action.HOLD, Reason.NO_DATA)
    last = bars[-1]
    reason = _breakout_reason(bars, params)
    if reason is not Reason.BREAKOUT_CONFIRMED:
        return Decision(Action.HOLD, reason, last.session, last.close)
    blocked = _window_block(last.session, params)
    if blocked is None and traded_this_season and not params.allow_reentry:
        blocked = Reason.SEASON_ALREADY_TRADED
    if blocked is not None:
        return Decision(Action.HOLD, blocked, last.session, last.close)
    return Decision(Action.BUY, Reason.BREAKOUT_CONFIRMED, last.session, last.close)


def first_intraday_breakout(
    minutes: Sequence[MinuteBar], previous_close: float | None, params: BreakoutParams
) -> tuple[Reason, int | None]:
    """The index of the first minute bar of a session closing above the threshold.

    With ``require_cross`` the previous session must have closed at or below the level.
    """
    if params.require_cross and (previous_close is None or previous_close > params.level):
        return Reason.ALREADY_ABOVE_WAITING_FOR_CROSS, None
    for index, minute in enumerate(minutes):
        if minute.close > params.threshold:
            return Reason.BREAKOUT_CONFIRMED, index
    return Reason.BELOW_LEVEL, None


def intraday_entry_block(session: date, params: BreakoutParams, *, traded_this_season: bool) -> Reason | None:
    """Why an intraday breakout on ``session`` may not be bought, or None when it may."""
    blocked = _window_block(session, params)
    if blocked is None and traded_this_season and not params.allow_reentry:
        return Reason.SEASON_ALREADY_TRADED
    return blocked


def _last_session_on_or_before(day: date, sessions: Sequence[date]) -> date | None:
    """Sessions are sorted; a bisect keeps a 25-year replay linear."""
    index = bisect_right(sessions, day)
    return sessions[index - 1] if index else None


def last_june_session(year: int, sessions: Sequence[date]) -> date:
    """The last trading session of June ``year`` in the (sorted) calendar.

    A calendar that does not reach that June (a backtest whose data ends earlier) falls back to
    the last weekday of June, which is what the calendar would say barring a holiday on it.
    """
    candidate = _last_session_on_or_before(date(year, 6, 30), sessions)
    if candidate is not None and candidate >= date(year, 6, 1) and sessions[-1] >= date(year, 6, 30):
        return candidate
    day = date(year, 6, 30)
    while day.weekday() >= 5:
        day = date(year, 6, day.day - 1)
    return day


def exit_session(entry_session: date, sessions: Sequence[date], params: BreakoutParams) -> date:
    """The session at whose close a position entered on ``entry_session`` is sold."""
    if params.exit_date is not None:
        on_or_before = _last_session_on_or_before(params.exit_date, sessions)
        return on_or_before if on_or_before is not None and on_or_before >= entry_session else params.exit_date
    this_june = last_june_session(entry_session.year, sessions)
    if entry_session <= this_june:
        return this_june
    return last_june_session(entry_session.year + 1, sessions)


def season_of(session: date, sessions: Sequence[date]) -> int:
    """The year whose June close ends the season ``session`` belongs to."""
    if session <= last_june_session(session.year, sessions):
        return session.year
    return session.year + 1


def exit_decision(today: date, planned_exit: date) -> Decision:
    """While holding: sell on the planned exit session, or at once if it has passed."""
    if today < planned_exit:
        return Decision(Action.HOLD, Reason.HOLDING, today)
    if today == planned_exit:
        return Decision(Action.SELL, Reason.EXIT_DATE_REACHED, today)
    return Decision(Action.SELL, Reason.EXIT_OVERDUE, today)
