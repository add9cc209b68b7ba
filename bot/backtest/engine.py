"""Replays history through the rule and a simulated broker.

Fill conventions match what the live loop gets from the exchange:
- close trigger: the signal is decided after a session's close; the entry fills at the next
  session's open (an ``opg`` order live);
- intraday trigger: the entry fills at the open of the minute after the first minute closing
  above the threshold (minute data when given, else the exchange's intraday path);
- exit: at the close of the planned exit session (a ``cls`` order live).
Sizing uses the equity and the last price known when the decision is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

import pandas as pd

from bot.market.calendar import session_for
from bot.market.csv_data import daily_bars, daily_from_minutes, is_intraday, minute_bars, regular_hours
from bot.market.intraday import minute_path
from bot.money import price
from bot.scoring import HoldPoint, RoundTrip, Scorecard, max_drawdown_pct
from strategies.bars import DailyBar, MinuteBar
from strategies.breakout import (
    Action,
    Decision,
    entry_decision,
    exit_decision,
    exit_session,
    first_intraday_breakout,
    intraday_entry_block,
    season_for,
)
from strategies.params import BreakoutParams, Trigger
from strategies.sizing import entry_quantity


@dataclass(frozen=True, slots=True)
class Fill:
    side: str
    qty: int
    price: Decimal
    session: date
    benchmark_price: Decimal


@dataclass(slots=True)
class _Position:
    qty: int
    entry: Fill
    planned_exit: date
    season: int


@dataclass(slots=True)
class _Book:
    cash: Decimal
    position: _Position | None = None
    pending_qty: int = 0
    seasons_traded: set[int] = field(default_factory=set)
    fills: list[Fill] = field(default_factory=list)
    trades: list[RoundTrip] = field(default_factory=list)
    equity_curve: list[Decimal] = field(default_factory=list)
    hold_curve: list[HoldPoint] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    observer: BacktestObserver | None = None

    def record(self, decision: Decision) -> None:
        self.decisions.append(decision)
        if self.observer is not None:
            self.observer.decided(decision)

    def add_fill(self, fill: Fill) -> None:
        self.fills.append(fill)
        if self.observer is not None:
            self.observer.filled(fill)


@dataclass(frozen=True, slots=True)
class BacktestResult:
    scorecard: Scorecard
    fills: tuple[Fill, ...]
    decisions: tuple[Decision, ...]
    pending_entry_qty: int
    sessions: int


class _Market:
    """Bars of the symbol and the benchmark, by session, with minute prices on demand."""

    def __init__(self, frames: dict[str, pd.DataFrame], params: BreakoutParams) -> None:
        frames = {symbol: regular_hours(frame) for symbol, frame in frames.items()}
        self._frames = frames
        self._params = params
        self.daily = {s: daily_bars(self._as_daily(frames[s])) for s in (params.symbol, params.benchmark)}
        self.benchmark_by_day = {bar.session: bar for bar in self.daily[params.benchmark]}
        self._minute_rows = {s: _rows_by_session(frames[s]) for s in (params.symbol, params.benchmark)}

    @staticmethod
    def _as_daily(frame: pd.DataFrame) -> pd.DataFrame:
        return daily_from_minutes(frame) if is_intraday(frame) else frame

    def minutes(self, symbol: str, bar: DailyBar) -> list[MinuteBar]:
        frame = self._frames[symbol]
        if not is_intraday(frame):
            return minute_path(bar, session_for(bar.session))
        first, last = self._minute_rows[symbol].get(bar.session, (0, 0))
        return minute_bars(frame.iloc[first:last])

    def benchmark_minute_open(self, day: date, minute: MinuteBar) -> Decimal:
        bar = self.benchmark_by_day[day]
        for candidate in self.minutes(self._params.benchmark, bar):
            if candidate.start >= minute.start:
                return price(candidate.open)
        return price(bar.close)


def _rows_by_session(frame: pd.DataFrame) -> dict[date, tuple[int, int]]:
    """Row ranges of each New York session in an intraday frame, found once instead of per day."""
    if not isinstance(frame.index, pd.DatetimeIndex):
        return {}
    days = frame.index.tz_convert("America/New_York").date
    starts = [0, *[i for i in range(1, len(days)) if days[i] != days[i - 1]]]
    ends = [*starts[1:], len(days)]
    return {days[first]: (first, last) for first, last in zip(starts, ends, strict=True)}


class BacktestObserver(Protocol):
    """Sees every decision and fill as the replay makes them (the benchmark uses it to write a ledger and logs)."""

    def decided(self, decision: Decision) -> None: ...

    def filled(self, fill: Fill) -> None: ...


def run_backtest(
    frames: dict[str, pd.DataFrame],
    params: BreakoutParams,
    *,
    cash: Decimal,
    start: date | None = None,
    end: date | None = None,
    observer: BacktestObserver | None = None,
) -> BacktestResult:
    market = _Market(frames, params)
    bars = market.daily[params.symbol]
    calendar = [bar.session for bar in bars]
    book = _Book(cash=cash, observer=observer)
    last_index = -1
    history: list[DailyBar] = []
    for index, bar in enumerate(bars):
        history.append(bar)
        if (start and bar.session < start) or (end and bar.session > end):
            continue
        last_index = index
        if book.pending_qty:
            _buy(book, bar, price(bar.open), price(market.benchmark_by_day[bar.session].open), params, calendar)
        if book.position is None and params.trigger is Trigger.INTRADAY:
            _intraday_entry(book, market, bars, index, params, calendar)
        _maybe_exit(book, bar, market, params, calendar)
        _mark(book, bar, market)
        if book.position is None and params.trigger is Trigger.CLOSE:
            next_session = bars[index + 1].session if index + 1 < len(bars) else bar.session
            _close_entry(book, history, next_session, params, calendar)
    return _finish(book, bars, last_index, market, params, cash)


def _traded(book: _Book, entry_session: date, params: BreakoutParams, calendar: Sequence[date]) -> bool:
    """Whether the season a position entered on ``entry_session`` would belong to has been traded."""
    return season_for(entry_session, calendar, params) in book.seasons_traded


def _close_entry(
    book: _Book, history: list[DailyBar], next_session: date, params: BreakoutParams, calendar: list[date]
) -> None:
    today = history[-1]
    decision = entry_decision(history, params, traded_this_season=_traded(book, next_session, params, calendar))
    book.record(decision)
    if decision.action is Action.BUY:
        book.pending_qty = entry_quantity(
            params.sizing, equity=book.cash, spendable=book.cash, price=price(today.close)
        )


def _intraday_entry(
    book: _Book,
    market: _Market,
    bars: list[DailyBar],
    index: int,
    params: BreakoutParams,
    calendar: list[date],
) -> None:
    bar = bars[index]
    if intraday_entry_block(bar.session, params, traded_this_season=_traded(book, bar.session, params, calendar)):
        return
    minutes = market.minutes(params.symbol, bar)
    prior = bars[max(index - params.level_lookback - 1, 0) : index]
    _, signal = first_intraday_breakout(minutes, prior, params)
    if signal is None or signal + 1 >= len(minutes):
        return
    qty = entry_quantity(params.sizing, equity=book.cash, spendable=book.cash, price=price(minutes[signal].close))
    if qty <= 0:
        return
    book.pending_qty = qty
    fill_minute = minutes[signal + 1]
    benchmark_price = market.benchmark_minute_open(bar.session, fill_minute)
    _buy(book, bar, price(fill_minute.open), benchmark_price, params, calendar)


def _buy(
    book: _Book,
    bar: DailyBar,
    fill_price: Decimal,
    benchmark_price: Decimal,
    params: BreakoutParams,
    calendar: list[date],
) -> None:
    qty, book.pending_qty = book.pending_qty, 0
    if qty <= 0:
        return
    fill = Fill("buy", qty, fill_price, bar.session, benchmark_price)
    book.cash -= qty * fill_price
    season = season_for(bar.session, calendar, params)
    book.position = _Position(qty, fill, exit_session(bar.session, calendar, params), season)
    book.seasons_traded.add(season)
    book.add_fill(fill)


def _maybe_exit(book: _Book, bar: DailyBar, market: _Market, params: BreakoutParams, calendar: list[date]) -> None:
    position = book.position
    if position is None:
        return
    decision = exit_decision(bar.session, position.planned_exit)
    if decision.action is not Action.SELL:
        return
    book.record(decision)
    fill = Fill("sell", position.qty, price(bar.close), bar.session, price(market.benchmark_by_day[bar.session].close))
    book.cash += position.qty * fill.price
    book.add_fill(fill)
    book.trades.append(_round_trip(params, position, fill, closed=True))
    book.position = None


def _round_trip(params: BreakoutParams, position: _Position, exit_fill: Fill, *, closed: bool) -> RoundTrip:
    return RoundTrip(
        symbol=params.symbol,
        qty=position.qty,
        entry_session=position.entry.session,
        entry_price=position.entry.price,
        exit_session=exit_fill.session,
        exit_price=exit_fill.price,
        benchmark_entry_price=position.entry.benchmark_price,
        benchmark_exit_price=exit_fill.benchmark_price,
        closed=closed,
        season=position.season,
    )


def _mark(book: _Book, bar: DailyBar, market: _Market) -> None:
    position = book.position
    value = position.qty * price(bar.close) if position else Decimal(0)
    book.equity_curve.append(book.cash + value)
    if position:
        entry = position.entry
        benchmark_close = price(market.benchmark_by_day[bar.session].close)
        dollars = position.qty * entry.price
        book.hold_curve.append(HoldPoint(bar.session, value, dollars * benchmark_close / entry.benchmark_price))


def _finish(
    book: _Book, bars: list[DailyBar], last_index: int, market: _Market, params: BreakoutParams, cash: Decimal
) -> BacktestResult:
    trades = list(book.trades)
    if book.position is not None and last_index >= 0:
        last = bars[last_index]
        mark = Fill(
            "mark",
            book.position.qty,
            price(last.close),
            last.session,
            price(market.benchmark_by_day[last.session].close),
        )
        trades.append(_round_trip(params, book.position, mark, closed=False))
    card = Scorecard(
        symbol=params.symbol,
        benchmark=params.benchmark,
        trades=tuple(trades),
        start_equity=cash,
        end_equity=book.equity_curve[-1] if book.equity_curve else cash,
        max_drawdown_pct=max_drawdown_pct(book.equity_curve),
        hold_curve=tuple(book.hold_curve),
    )
    return BacktestResult(card, tuple(book.fills), tuple(book.decisions), book.pending_qty, len(book.equity_curve))
