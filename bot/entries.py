"""The entry side of a pass: the close trigger's decision after each close and its retries, the intraday
trigger's minute looks, and the sized buy. The trader decides when each runs; the timing rules are in
bot/engine/plan.py, the refusal policies in bot/engine/policy.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.broker.base import Broker
from bot.domain import Account, OrderRequest, Side, TimeInForce
from bot.engine import plan, policy
from bot.engine.policy import Next
from bot.ledger import Ledger
from bot.minute_watch import MinuteWatch
from bot.money import price
from bot.order_desk import OrderDesk
from bot.orders import Intent, client_order_id
from bot.season_calendar import TradingCalendar
from strategies.breakout import (
    Action,
    entry_decision,
    first_intraday_breakout,
    intraday_entry_block,
    level_at,
    season_for,
    sessions_read,
)
from strategies.params import BreakoutParams, buffered
from strategies.sizing import entry_quantity

HISTORY_MARGIN_DAYS = 10  # weekends and holidays: twice the sessions the rule reads, plus this, in calendar days
MINUTE = timedelta(minutes=1)
Verdict = Callable[[int, Intent, date | None, TradingCalendar], policy.Verdict]


class Entries:
    def __init__(
        self,
        broker: Broker,
        ledger: Ledger,
        desk: OrderDesk,
        params: BreakoutParams,
        log: Any,
        *,
        verdict: Verdict,
        blocked: Callable[[Account], bool],
        warn_once: Callable[..., None],
    ) -> None:
        self.broker, self.ledger, self.desk, self.params, self.log = broker, ledger, desk, params, log
        self._verdict, self._blocked, self._warn_once = verdict, blocked, warn_once
        self._minutes = MinuteWatch(broker, params.symbol, self.history_from)

    def after_close(self, now: datetime, calendar: TradingCalendar, account: Account) -> None:
        due = plan.entry_due(now, calendar)
        if due is None or self.ledger.decision(due[0].day) is not None:
            return
        closed, upcoming = due
        bars = [b for b in self.broker.daily_bars(self.params.symbol, self.history_from(closed.day), closed.day)
                if b.session <= closed.day]  # fmt: skip
        if not bars or bars[-1].session != closed.day:
            self._warn_once(
                f"bars:{closed.day}",
                "bars_missing",
                symbol=self.params.symbol,
                session=closed.day.isoformat(),
                latest=bars[-1].session.isoformat() if bars else None,
            )
            return
        traded = self.desk.season_entered(season_for(upcoming.day, calendar.days, self.params))
        decision = entry_decision(bars, self.params, traded_this_season=traded)
        level = level_at(bars, len(bars) - 1, self.params)
        self._log_signal(closed.day, decision.action.value, decision.reason.value, level, close=bars[-1].close)
        if decision.action is Action.BUY:
            tif = plan.entry_time_in_force(now, upcoming)
            self._buy(now, calendar, account, upcoming.day, price(bars[-1].close), tif, decision.reason.value)
            if tif is TimeInForce.DAY:
                self.log.info("entry_type_switched", reason="opg_window_missed", time_in_force="day")
        self.ledger.record_decision(closed.day, decision.reason.value)

    def retry(self, now: datetime, calendar: TradingCalendar, account: Account) -> None:
        """An entry for today's session that ended unfilled or was refused: retry it as the policy says."""
        today = plan.retry_session(now, calendar)
        if today is None:
            return
        season = season_for(today.day, calendar.days, self.params)
        if self.desk.season_entered(season):
            return
        reason = policy.entry_retry(self.desk.attempts(season, Intent.ENTRY, calendar), today.day, now, today)
        if reason is None:
            return
        last = self.broker.latest_price(self.params.symbol)
        tif = plan.retry_time_in_force(reason, now, today)
        self._buy(now, calendar, account, today.day, price(last), tif, reason)

    def intraday(self, now: datetime, calendar: TradingCalendar, account: Account | None) -> None:
        session = calendar.current_or_next(now)
        if session is None or now < session.opens_at + MINUTE or self.ledger.decision(session.day):
            return
        season = season_for(session.day, calendar.days, self.params)
        blocked = intraday_entry_block(session.day, self.params, traded_this_season=self.desk.season_entered(season))
        previous = calendar.previous_before(session.day)
        if blocked is not None or previous is None:
            return
        prior = self._minutes.prior(previous.day)
        minutes = self._minutes.minutes(session.day, session.opens_at, now)
        reason, index = first_intraday_breakout(minutes, prior, self.params)
        if index is None:
            return
        account = account or self.broker.account()  # a look between passes reads the account only to buy
        if self._blocked(account):
            return
        level = level_at(prior, len(prior), self.params)
        self._log_signal(session.day, "buy", reason.value, level, price=minutes[index].close)
        self._buy(now, calendar, account, session.day, price(minutes[index].close), TimeInForce.DAY, reason.value)
        self.ledger.record_decision(session.day, reason.value)

    def _buy(
        self,
        now: datetime,
        calendar: TradingCalendar,
        account: Account,
        fill_day: date,
        last_price: Decimal,
        tif: TimeInForce,
        reason: str,
    ) -> None:
        season = season_for(fill_day, calendar.days, self.params)
        verdict = self._verdict(season, Intent.ENTRY, fill_day, calendar)
        if verdict.next is not Next.SEND:
            return
        fresh = self.broker.account() if verdict.after is not None else account
        qty = entry_quantity(self.params.sizing, equity=fresh.equity, spendable=fresh.spendable, price=last_price)
        if qty <= 0:
            self.log.warning(
                "order_skipped", reason="quantity_zero", price=str(last_price), spendable=str(fresh.spendable)
            )
            return
        coid = client_order_id(self.params.symbol, season, Intent.ENTRY, verdict.attempt)
        request = OrderRequest(
            symbol=self.params.symbol, side=Side.BUY, qty=qty, time_in_force=tif, client_order_id=coid
        )
        self.desk.submit(request, Intent.ENTRY, season, reason, now)

    def history_from(self, day: date) -> date:
        return day - timedelta(days=2 * sessions_read(self.params) + HISTORY_MARGIN_DAYS)

    def _log_signal(self, session: date, action: str, reason: str, level: float | None, **seen: float) -> None:
        self.log.info(
            "signal",
            symbol=self.params.symbol,
            session=session.isoformat(),
            **seen,
            breakout_level=level,
            threshold=None if level is None else buffered(level, self.params.buffer_pct),
            action=action,
            reason=reason,
            trigger=self.params.trigger.value,
        )
