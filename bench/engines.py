"""The same strategy in each engine, returning its trades as (entry time, entry price, exit time, exit price).

Strategy (the bot's defaults): buy on the first close above 200 after a close at or below it, at the next
bar's open (intraday: the first minute closing above 200 on a day whose previous session closed at or below
200, bought at the next minute's open); sell at the close of the last June session of the entry's year (the
next year's after June); one round trip per season.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from bench.data import new_york_dates
from bot.backtest.engine import run_backtest
from strategies.breakout import exit_session, season_of
from strategies.params import BreakoutParams, Trigger

LEVEL = 200.0
Trade = tuple[str, float, str, float]


def _key(stamp: Any) -> str:
    return pd.Timestamp(stamp).isoformat()[:16] if not isinstance(stamp, date) else stamp.isoformat()


# --- ours ---------------------------------------------------------------------------------------------------


def ours(frames: dict[str, pd.DataFrame], *, intraday: bool) -> list[Trade]:
    """`bot backtest`: the live loop's cycle, pass for pass, on the in-process venue model."""
    params = BreakoutParams(trigger=Trigger.INTRADAY if intraday else Trigger.CLOSE)
    result = run_backtest(frames, params, cash=Decimal(100000))
    return [
        (t.entry_session.isoformat(), float(t.entry_price), t.exit_session.isoformat(), float(t.exit_price))
        for t in result.scorecard.trades
        if t.closed
    ]


# --- shared signal logic for the other engines ---------------------------------------------------------------


def _daily_trades_by_index(closes: np.ndarray, sessions: list[date]) -> list[tuple[int, int]]:
    """(entry index, exit index) pairs under the strategy's rules, for engines that take precomputed signals."""
    params = BreakoutParams()
    index_of = {day: i for i, day in enumerate(sessions)}
    trades, traded, i = [], set(), 1
    while i < len(closes) - 1:
        if closes[i] > LEVEL >= closes[i - 1] and season_of(sessions[i], sessions) not in traded:
            planned = exit_session(sessions[i + 1], sessions, params)
            if planned not in index_of:
                break
            trades.append((i + 1, index_of[planned]))
            traded.add(planned.year)
            i = index_of[planned] + 1
            continue
        i += 1
    return trades


# --- vectorbt -------------------------------------------------------------------------------------------------


def vectorbt_daily(frames: dict[str, pd.DataFrame]) -> list[Trade]:
    import vectorbt as vbt

    iwm = frames["IWM"]
    sessions = list(iwm.index)
    pairs = _daily_trades_by_index(iwm["close"].to_numpy(), sessions)
    return _vectorbt_run(vbt, iwm["open"].to_numpy(), iwm["close"].to_numpy(), pd.Index(sessions), pairs)


def vectorbt_minute(frames: dict[str, pd.DataFrame]) -> list[Trade]:
    import vectorbt as vbt

    iwm = frames["IWM"]
    pairs = _minute_pairs(iwm)
    return _vectorbt_run(vbt, iwm["open"].to_numpy(), iwm["close"].to_numpy(), iwm.index, pairs)


def _vectorbt_run(
    vbt: Any, opens: np.ndarray, closes: np.ndarray, index: pd.Index, pairs: list[tuple[int, int]]
) -> list[Trade]:
    entries = np.zeros(closes.size, dtype=bool)
    exits = np.zeros(closes.size, dtype=bool)
    fill_price = closes.copy()
    for entry, exit_ in pairs:
        entries[entry], exits[exit_] = True, True
        fill_price[entry] = opens[entry]
    portfolio = vbt.Portfolio.from_signals(
        pd.Series(closes, index=pd.RangeIndex(closes.size)),
        entries,
        exits,
        price=fill_price,
        init_cash=100000,
        size=np.inf,
        size_granularity=1,
        freq="1D",
    )
    records = portfolio.trades.records_arr
    return [
        (
            _key(index[int(r["entry_idx"])]),
            round(float(r["entry_price"]), 4),
            _key(index[int(r["exit_idx"])]),
            round(float(r["exit_price"]), 4),
        )
        for r in records
        if int(r["status"]) == 1
    ]


def _minute_pairs(iwm: pd.DataFrame) -> list[tuple[int, int]]:
    days = new_york_dates(iwm.index)
    closes = iwm["close"].to_numpy()
    starts = np.flatnonzero(np.concatenate([[True], days[1:] != days[:-1]]))
    ends = np.concatenate([starts[1:], [days.size]])
    sessions = [days[s] for s in starts]
    params = BreakoutParams()
    for k in range(1, len(starts)):
        if closes[ends[k - 1] - 1] > LEVEL:
            continue
        above = np.flatnonzero(closes[starts[k] : ends[k]] > LEVEL)
        if above.size and starts[k] + above[0] + 1 < ends[k]:
            planned = exit_session(sessions[k], sessions, params)
            if planned not in sessions:
                return []
            return [(int(starts[k] + above[0] + 1), int(ends[sessions.index(planned)] - 1))]
    return []


# --- backtrader -----------------------------------------------------------------------------------------------


def backtrader_run(frames: dict[str, pd.DataFrame], *, intraday: bool) -> list[Trade]:
    import backtrader as bt

    iwm = frames["IWM"].copy()
    if intraday:
        iwm.index = pd.DatetimeIndex(iwm.index).tz_convert("America/New_York").tz_localize(None)
        bar_days = [stamp.date() for stamp in iwm.index]
    else:
        bar_days = list(iwm.index)
        iwm.index = pd.DatetimeIndex(pd.to_datetime([day.isoformat() for day in bar_days]))
    sessions = sorted(set(bar_days))
    last_bar_of = {day: position for position, day in enumerate(bar_days)}
    session_close = iwm["close"].groupby(bar_days).last()
    prior_close = {day: float(session_close.iloc[i - 1]) for i, day in enumerate(session_close.index) if i > 0}
    params = BreakoutParams()
    trades: list[Trade] = []

    class Breakout(bt.Strategy):  # type: ignore[misc]
        def __init__(self) -> None:
            self.traded: set[int] = set()
            self.tried: set[date] = set()
            self.exit_bar: int | None = None
            self.entry: tuple[str, float] | None = None
            self.pending_size = 0

        def notify_order(self, order: Any) -> None:
            if order.status != order.Completed:
                return
            stamp = bt.num2date(order.executed.dt)
            key = stamp.isoformat()[:16] if intraday else stamp.date().isoformat()
            if order.isbuy():
                self.entry = (key, round(order.executed.price, 4))
            elif self.entry:
                trades.append((*self.entry, key, round(order.executed.price, 4)))
                self.entry, self.exit_bar = None, None

        def next_open(self) -> None:
            if self.pending_size:  # cheat-on-open: filled at this bar's open, the bar after the signal
                self.buy(size=self.pending_size, coc=False)
                self.pending_size = 0

        def next(self) -> None:
            position = len(self.data) - 1
            today, close = bar_days[position], float(self.data.close[0])
            if self.exit_bar is not None:
                if position == self.exit_bar:  # cheat-on-close: filled at this bar's close
                    self.close()
                return
            if intraday:
                prior = prior_close.get(today)
                if (
                    prior is not None
                    and prior <= LEVEL < close
                    and today not in self.tried
                    and position < last_bar_of[today]
                ):
                    self.tried.add(today)
                    self._enter(today, today)
            elif position > 0 and close > LEVEL >= float(self.data.close[-1]) and position + 1 < len(bar_days):
                self._enter(today, bar_days[position + 1])

        def _enter(self, signal_day: date, fill_day: date) -> None:
            if season_of(signal_day, sessions) in self.traded:
                return
            planned = exit_session(fill_day, sessions, params)
            if planned not in last_bar_of:
                return
            self.traded.add(planned.year)
            self.exit_bar = last_bar_of[planned]
            self.pending_size = int(self.broker.getvalue() * 0.95 // float(self.data.close[0]))

    cerebro = bt.Cerebro(stdstats=False, cheat_on_open=True)
    timeframe = bt.TimeFrame.Minutes if intraday else bt.TimeFrame.Days
    cerebro.adddata(bt.feeds.PandasData(dataname=iwm, timeframe=timeframe))
    cerebro.addstrategy(Breakout)
    cerebro.broker.setcash(100000.0)
    cerebro.broker.set_coc(True)
    cerebro.run(runonce=False, preload=True)
    return trades


ENGINES: dict[str, Callable[[dict[str, pd.DataFrame]], list[Trade]]] = {
    "ours-daily": lambda f: ours(f, intraday=False),
    "ours-minute": lambda f: ours(f, intraday=True),
    "backtrader-daily": lambda f: backtrader_run(f, intraday=False),
    "backtrader-minute": lambda f: backtrader_run(f, intraday=True),
    "vectorbt-daily": vectorbt_daily,
    "vectorbt-minute": vectorbt_minute,
}
