"""Breakout-and-hold: buy on a confirmed breakout above a level, sell at the end of June.

Every function here is pure: it reads the bars and the calendar it is given and nothing else,
so the backtest and the live loop make the same decision from the same history.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from strategies.bars import DailyBar, MinuteBar
from strategies.params import BreakoutParams, LevelMode, buffered


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


def level_at(bars: Sequence[DailyBar], index: int, params: BreakoutParams) -> float | None:
    """The breakout level the close of ``bars[index]`` is measured against (``index`` may be ``len(bars)``, the
    session after the last bar). With LevelMode.HIGH it is the highest close of the ``level_lookback`` sessions
    before it, and unknown (None) until there are that many."""
    if params.level_mode is LevelMode.ABSOLUTE:
        return params.level
    if index < params.level_lookback:
        return None
    return max(bar.close for bar in bars[index - params.level_lookback : index])


def sessions_read(params: BreakoutParams) -> int:
    """How many daily bars up to a decision the rule reads (fetch at least these)."""
    lookback = params.level_lookback if params.level_mode is LevelMode.HIGH else 0
    return lookback + params.confirm_days + 1


def threshold_at(bars: Sequence[DailyBar], index: int, params: BreakoutParams) -> float | None:
    """The price the close of ``bars[index]`` must exceed: its level raised by the buffer."""
    level = level_at(bars, index, params)
    return None if level is None else buffered(level, params.buffer_pct)


def _above(bars: Sequence[DailyBar], index: int, params: BreakoutParams) -> bool:
    threshold = threshold_at(bars, index, params)
    return threshold is not None and bars[index].close > threshold


def _breakout_reason(bars: Sequence[DailyBar], params: BreakoutParams) -> Reason:
    last = len(bars) - 1
    # Counting further back than one close past the confirmation cannot change the answer.
    needed = params.confirm_days + (1 if params.require_cross else 0)
    streak = 0
    while streak < min(needed, len(bars)) and _above(bars, last - streak, params):
        streak += 1
    if streak == 0:
        return Reason.NO_DATA if threshold_at(bars, last, params) is None else Reason.BELOW_LEVEL
    if streak < params.confirm_days:
        return Reason.CONFIRMING
    if not params.require_cross:
        return Reason.BREAKOUT_CONFIRMED
    # A fresh cross: this bar completes the confirmation, and the close before the first confirming close was at
    # or below its threshold (a close with no level yet is not a cross).
    before = last - streak
    if streak > params.confirm_days or before < 0 or threshold_at(bars, before, params) is None:
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
    minutes: Sequence[MinuteBar], prior: Sequence[DailyBar], params: BreakoutParams
) -> tuple[Reason, int | None]:
    """The index of the first minute bar of a session closing above its threshold, given the daily bars before it.

    With ``require_cross`` the previous session must have closed at or below its own threshold.
    """
    threshold = threshold_at(prior, len(prior), params)
    if threshold is None:
        return Reason.NO_DATA, None
    if params.require_cross and (not prior or threshold_at(prior, len(prior) - 1, params) is None):
        return Reason.ALREADY_ABOVE_WAITING_FOR_CROSS, None
    if params.require_cross and _above(prior, len(prior) - 1, params):
        return Reason.ALREADY_ABOVE_WAITING_FOR_CROSS, None
    for index, minute in enumerate(minutes):
        if minute.close > threshold:
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


def season_exit(entry_session: date, sessions: Sequence[date], params: BreakoutParams) -> date:
    """The session that ends the season of a position entered on ``entry_session``: the last on or before
    ``exit_date`` (the date itself when the calendar does not reach it), else the last June session."""
    if params.exit_date is not None:
        if not sessions or sessions[-1] < params.exit_date:
            return params.exit_date
        on_or_before = _last_session_on_or_before(params.exit_date, sessions)
        return on_or_before if on_or_before is not None and on_or_before >= entry_session else params.exit_date
    this_june = last_june_session(entry_session.year, sessions)
    if entry_session <= this_june:
        return this_june
    return last_june_session(entry_session.year + 1, sessions)


def season_for(entry_session: date, sessions: Sequence[date], params: BreakoutParams) -> int:
    """The season a position entered on ``entry_session`` belongs to (the year of the session that ends it)."""
    return season_exit(entry_session, sessions, params).year


def exit_session(entry_session: date, sessions: Sequence[date], params: BreakoutParams) -> date:
    """The session at whose close a position entered on ``entry_session`` is sold: ``hold_sessions`` after the
    entry when that comes before the season's exit, else the season's exit."""
    end = season_exit(entry_session, sessions, params)
    if params.hold_sessions is None:
        return end
    index = bisect_left(sessions, entry_session)
    if index < len(sessions) and sessions[index] == entry_session and index + params.hold_sessions < len(sessions):
        return min(sessions[index + params.hold_sessions], end)
    return end


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
