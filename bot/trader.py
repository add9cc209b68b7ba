"""One pass of the trading logic: reconcile, follow orders, check the account and position, decide, act.

Every pass is idempotent: it reads what the broker and the ledger already know and does only what is still
due, so a restart at any moment picks up where the last pass stopped without repeating an order. What to send
after a refusal, an unfilled auction or a partial fill is decided by bot/engine/policy.py.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from bot.broker.base import Account, Broker, OrderRequest, Side, TimeInForce
from bot.engine import plan, policy
from bot.engine.clock import BrokerClock
from bot.engine.plan import ExitOrder, Hold, order_session
from bot.engine.policy import Next
from bot.engine.schedule import next_wake
from bot.ledger import Ledger
from bot.minute_watch import MinuteWatch
from bot.money import price
from bot.order_desk import OrderDesk
from bot.orders import Intent, client_order_id
from bot.outside import watch_position
from bot.pnl import log_trade_closed, take_snapshot
from bot.reconcile import reconcile
from bot.round_trips import OpenTrade, open_trade
from bot.season_calendar import CalendarCache, TradingCalendar
from bot.watch.next_action import PassView
from strategies.breakout import (
    Action,
    entry_decision,
    first_intraday_breakout,
    intraday_entry_block,
    level_at,
    season_for,
    sessions_read,
)
from strategies.params import BreakoutParams, Trigger, buffered
from strategies.sizing import entry_quantity

HISTORY_MARGIN_DAYS = 10  # weekends and holidays: twice the sessions the rule reads, plus this, in calendar days
MINUTE = timedelta(minutes=1)


class Trader:
    def __init__(
        self, broker: Broker, ledger: Ledger, params: BreakoutParams, log: Any, clock: BrokerClock | None = None
    ) -> None:
        self.broker, self.ledger, self.params, self.log = broker, ledger, params, log
        self.clock = clock or BrokerClock(lambda: broker.clock().now)
        self.desk = OrderDesk(broker, ledger, params, log)
        self.now: datetime | None = None  # the broker's time at the start of the last pass
        self._seen: tuple[datetime, TradingCalendar, Account, Decimal] | None = None  # the last complete pass
        self._view: tuple[object, PassView] | None = None
        self.problems: dict[str, str] = {}  # what keeps the bot from trading now (bot health reports them)
        self._calendars = CalendarCache(broker.calendar)
        self._reconciled = False
        self._warned: set[str] = set()
        self.decision_at: datetime | None = None  # the next moment a pass must see (the demo's lockstep holds it)
        self._watching_minutes = False  # the last pass left only the intraday trigger's minutes to watch
        self._minutes = MinuteWatch(broker, params.symbol, self._history_from)

    def tick(self) -> datetime:  # do what is due now; return the broker time of the next decision point
        now, read = self.clock.for_look() if self._watching_minutes else (self.clock.for_pass(), True)
        if self._watching_minutes and self.decision_at is not None and now < self.decision_at:
            # Between decision points, flat and with nothing working: the intraday trigger only reads the minutes.
            self._intraday_entry_if_due(now, self._calendars.at(now), None)
            return self._next_wake(now, self._calendars.at(now))
        now = self.now = now if read else self.clock.read()  # a pass goes by the broker's clock itself
        calendar = self._calendars.at(now)
        account = self.broker.account()
        if not self._reconciled:
            reconcile(self.desk, now, calendar, account, self.open_trade(calendar), self.log)
            self._reconciled = True
        for _, season in self.desk.follow_open_orders(now, calendar):
            if self.open_trade(calendar) is None:
                log_trade_closed(self.ledger, self.broker, self.params, season, self.log)
        position = self.broker.position(self.params.symbol)
        broker_long = position.long_qty if position else Decimal(0)
        if not self.desk.any_live():
            watch_position(self.ledger, self.desk, self.params, position, now, self.open_trade(calendar), self.log)
        take_snapshot(
            self.ledger, self.broker, self.params, now, calendar, self.open_trade(calendar), self.log, self._warn_once
        )
        if not self._blocked(account):
            self._decide(now, calendar, account, broker_long)
        self._seen = (now, calendar, account, broker_long)
        return self._next_wake(now, calendar)

    def _next_wake(self, now: datetime, calendar: TradingCalendar) -> datetime:
        working = [(o.time_in_force, order_session(o.time_in_force, o.submitted_at, calendar))
                   for o in self.desk.live_orders()]  # fmt: skip
        pending, blocked = self.desk.fills_pending(), "account_blocked" in self.problems
        wake = partial(next_wake, now, calendar, working=working, fills_pending=pending, blocked=blocked)
        idle = not (working or pending or blocked or self.desk.bot_quantity() or self.open_trade(calendar))
        self._watching_minutes = self.params.trigger is Trigger.INTRADAY and idle
        # The intraday trigger's minute looks can be skipped (the first breakout minute is found later); these not.
        self.decision_at = wake(Trigger.CLOSE)
        return self.decision_at if self.params.trigger is Trigger.CLOSE else wake(self.params.trigger)

    @property
    def view(self) -> PassView | None:
        """What the last complete pass saw, for `bot status`, the metrics and the page (built when asked)."""
        if self._seen is None:
            return None
        if self._view is None or self._view[0] is not self._seen:
            now, calendar, account, broker_long = self._seen
            self._view = (self._seen, self.desk.observe(now, calendar, account, broker_long, self.open_trade(calendar)))
        return self._view[1]

    def _decide(self, now: datetime, calendar: TradingCalendar, account: Account, broker_long: Decimal) -> None:
        trade, held = self.open_trade(calendar), self.desk.bot_quantity()
        if trade is not None and held > 0:
            self._exit_if_due(now, calendar, trade, broker_long)
        elif trade is not None or held > 0:
            pass  # a fill's priced record waits for the benchmark's official prices: nothing to decide yet
        elif self.params.trigger is Trigger.INTRADAY:
            self._intraday_entry_if_due(now, calendar, account)
        else:
            self._entry_if_due(now, calendar, account)
            self._entry_retry_if_due(now, calendar, account)

    def _blocked(self, account: Account) -> bool:
        cause = account.blocked_by
        if cause is None:
            if self.problems.pop("account_blocked", None) is not None:
                self.log.info("account_unblocked")
                self._warned.discard("account_blocked")
            return False
        self.problems["account_blocked"] = cause
        self._warn_once("account_blocked", "account_blocked", cause=cause, action="no_orders_until_cleared")
        return True

    def open_trade(self, calendar: TradingCalendar) -> OpenTrade | None:
        return open_trade(self.ledger, self.params, calendar.days)

    def _verdict(self, season: int, intent: Intent, session: date | None, calendar: TradingCalendar) -> policy.Verdict:
        verdict = policy.next_attempt(self.desk.attempts(season, intent, calendar), session)
        if verdict.next is Next.EXHAUSTED:
            self._exhausted(season, intent)
        return verdict

    def _exhausted(self, season: int, intent: Intent) -> None:
        key = f"exhausted:{season}:{intent.value}"
        self.problems[key] = f"{intent.value} orders of season {season}: {policy.MAX_ORDER_ATTEMPTS} attempts used"
        self._warn_once(key, "order_attempts_exhausted", season=season, intent=intent.value,
                        attempts=policy.MAX_ORDER_ATTEMPTS, action="stopped_trying")  # fmt: skip

    # Entry

    def _entry_if_due(self, now: datetime, calendar: TradingCalendar, account: Account) -> None:
        due = plan.entry_due(now, calendar)
        if due is None or self.ledger.fact(f"decided:{due[0].day}") is not None:
            return
        closed, upcoming = due
        bars = [b for b in self.broker.daily_bars(self.params.symbol, self._history_from(closed.day), closed.day)
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
            self._enter(now, calendar, account, upcoming.day, price(bars[-1].close), tif, decision.reason.value)
            if tif is TimeInForce.DAY:
                self.log.info("entry_type_switched", reason="opg_window_missed", time_in_force="day")
        self.ledger.remember(f"decided:{closed.day}", decision.reason.value)

    def _entry_retry_if_due(self, now: datetime, calendar: TradingCalendar, account: Account) -> None:
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
        self._enter(now, calendar, account, today.day, price(last), tif, reason)

    def _intraday_entry_if_due(self, now: datetime, calendar: TradingCalendar, account: Account | None) -> None:
        session = calendar.current_or_next(now)
        if session is None or now < session.opens_at + MINUTE or self.ledger.fact(f"decided:{session.day}"):
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
        self._enter(now, calendar, account, session.day, price(minutes[index].close), TimeInForce.DAY, reason.value)
        self.ledger.remember(f"decided:{session.day}", reason.value)

    def _enter(
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
        request = OrderRequest(self.params.symbol, Side.BUY, qty, tif, coid)
        self.desk.submit(request, Intent.ENTRY, season, reason, now)

    # Exit

    def _exit_if_due(self, now: datetime, calendar: TradingCalendar, trade: OpenTrade, broker_long: Decimal) -> None:
        attempts = self.desk.attempts(trade.season, Intent.EXIT, calendar)
        ledger_open = min(trade.qty, self.desk.bot_quantity())
        order = plan.plan_exit(now, calendar, trade.planned_exit, attempts, ledger_open, broker_long)
        mismatch = {"symbol": self.params.symbol, "broker_qty": str(broker_long), "ledger_qty": str(ledger_open)}
        if order is Hold.NO_EXIT_SESSION:
            self._warn_once(
                f"exit:{trade.planned_exit}", "exit_session_unknown", planned_exit=trade.planned_exit.isoformat()
            )
        elif order is Hold.EXHAUSTED:
            self._exhausted(trade.season, Intent.EXIT)
        elif order is Hold.NOTHING_HELD:
            symbol = self.params.symbol
            self.problems["position_mismatch"] = f"broker holds {broker_long} {symbol}, the bot {ledger_open}"
            self._warn_once(f"mismatch:{trade.season}:{broker_long}", "position_mismatch", **mismatch, action="no_sell")
        if not isinstance(order, ExitOrder):
            return
        if order.short_of_ledger:
            self.log.warning("position_mismatch", **mismatch, action=f"sell_{order.qty}")
        coid = client_order_id(self.params.symbol, trade.season, Intent.EXIT, order.attempt)
        request = OrderRequest(self.params.symbol, Side.SELL, order.qty, order.time_in_force, coid)
        self.problems.pop("position_mismatch", None)
        self.desk.submit(request, Intent.EXIT, trade.season, order.reason, now)

    def _history_from(self, day: date) -> date:
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

    def _warn_once(self, key: str, event: str, **fields: Any) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.log.warning(event, **fields)
