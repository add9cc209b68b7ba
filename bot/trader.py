"""The cycle: gather what the broker and the ledger know, plan (bot/engine/planner.py), submit once, record, log.

Every pass is idempotent: it reads what the broker and the ledger already know and does only what is still
due, so a restart at any moment picks up where the last pass stopped without repeating an order. The same
cycle runs `bot run` and `bot demo` on the alpaca-py adapter and the backtest on the in-process venue.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.broker.base import Broker
from bot.domain import Account
from bot.engine import planner
from bot.engine.clock import BrokerClock
from bot.engine.plan_types import Due, Event, Facts, Market, Plan, Step, Wake
from bot.engine.planner import history_from
from bot.engine.portfolio import OpenTrade, Portfolio
from bot.ledger import Ledger
from bot.minute_watch import MinuteWatch
from bot.order_desk import OrderDesk
from bot.outside import watch_position
from bot.pnl import log_trade_closed, take_snapshot
from bot.reconcile import reconcile
from bot.season_calendar import CalendarCache, TradingCalendar
from bot.watch.next_action import PassView
from strategies.params import BreakoutParams

ROUNDS_A_PASS = 3  # a refused order is answered in the same pass from fresh facts, at most this often


class Trader:
    def __init__(
        self, broker: Broker, ledger: Ledger, params: BreakoutParams, log: Any, clock: BrokerClock | None = None
    ) -> None:
        self.broker, self.ledger, self.params, self.log = broker, ledger, params, log
        self.clock = clock or BrokerClock(lambda: broker.clock().now)
        self.portfolio = Portfolio(ledger, params)
        ledger.subscribe(self.portfolio)
        self.desk = OrderDesk(broker, ledger, params, log)
        self.now: datetime | None = None  # the broker's time at the start of the last pass
        self._seen: tuple[datetime, TradingCalendar, Account, Decimal] | None = None  # the last complete pass
        self._view: tuple[object, PassView] | None = None
        self.problems: dict[str, str] = {}  # what keeps the bot from trading now (bot health reports them)
        self._calendars = CalendarCache(broker.calendar)
        self._minutes = MinuteWatch(broker, params.symbol, lambda day: history_from(day, params))
        self._reconciled = False
        self._warned: set[str] = set()
        self._wake: Wake | None = None

    @property
    def decision_at(self) -> datetime | None:
        """The next moment a pass must see (the demo's lockstep holds its replay there)."""
        return self._wake.decision_at if self._wake else None

    def tick(self) -> datetime:  # do what is due now; return the broker time of the next decision point
        watching = self._wake is not None and self._wake.watching_minutes
        now, read = self.clock.for_look() if watching else (self.clock.for_pass(), True)
        if watching and self.decision_at is not None and now < self.decision_at:
            # Between decision points, flat and with nothing working: the intraday trigger only reads the minutes.
            self.now, calendar = now, self._calendars.at(now)
            self._act(self._facts(now, calendar, None, Decimal(0)))
            return self._next_wake(now, calendar)
        now = self.now = now if read else self.clock.read()  # a pass goes by the broker's clock itself
        calendar = self._calendars.at(now)
        account = self.broker.account()
        if not self._reconciled:
            reconcile(self.desk, now, calendar, account, self.open_trade(calendar), self.log)
            self._reconciled = True
        for trip in self.desk.follow(self.portfolio.to_follow(), now, calendar):
            if self.open_trade(calendar) is None:
                log_trade_closed(self.ledger, self.portfolio, self.broker, trip, self.log)
        position = self.broker.position(self.params.symbol)
        broker_long = position.long_qty if position else Decimal(0)
        if not self.portfolio.live_orders():
            watch_position(self.ledger, self.portfolio, position, now, self.open_trade(calendar), self.log)
        take_snapshot(self.ledger, self.portfolio, self.broker, now, calendar, self.log, self._warn_once)
        if not self._blocked(account):
            self._act(self._facts(now, calendar, account, broker_long))
        self._seen = (now, calendar, account, broker_long)
        return self._next_wake(now, calendar)

    def _facts(self, now: datetime, calendar: TradingCalendar, account: Account | None, broker_long: Decimal) -> Facts:
        return Facts(now=now, calendar=calendar, params=self.params, portfolio=self.portfolio, account=account,
                     broker_long=broker_long, decided=self.ledger.decided())  # fmt: skip

    def _act(self, facts: Facts) -> None:
        """Plan and carry out; a refused order is planned again at once, from fresh facts."""
        for _ in range(ROUNDS_A_PASS):
            due = planner.due(facts)
            market = self._read(due, facts)
            plan = planner.plan(facts, due, market)
            if plan.needs_account:  # a look between passes reads the account only to buy
                account = self.broker.account()
                if self._blocked(account):
                    return
                facts = replace(facts, account=account)
                plan = planner.plan(facts, planner.due(facts), market)
            if self._carry_out(plan, facts.now):
                return
            facts = replace(facts, account=self.broker.account(), decided=self.ledger.decided())

    def _read(self, due: Due, facts: Facts) -> Market:
        """The market data the plan reads for what is due."""
        symbol, through = self.params.symbol, due.bars_through
        if due.step is Step.LOOK:
            assert due.closed is not None and due.upcoming is not None
            session = due.upcoming
            minutes = self._minutes.minutes(session.day, session.opens_at, facts.now)
            return Market(bars=self._minutes.prior(due.closed.day), minutes=minutes)
        if due.step is not Step.ENTRY:
            return Market()
        bars = self.broker.daily_bars(symbol, history_from(through, self.params), through) if through else ()
        latest = self.broker.latest_price(symbol) if due.retry is not None else None
        return Market(bars=bars, latest=latest)

    def _carry_out(self, plan: Plan, now: datetime) -> bool:
        """Log, submit, record; False when the broker refused the order (so that the pass plans again)."""
        for event in plan.events:
            self._log(event)
        for key, problem in plan.problems.items():
            if problem is None:
                self.problems.pop(key, None)
            else:
                self.problems[key] = problem
        taken = True
        if plan.order is not None:
            order = plan.order
            taken = self.desk.submit(order.request, order.intent, order.season, order.reason, now)
        if plan.decision is not None:
            self.ledger.record_decision(*plan.decision)
        return taken

    def _next_wake(self, now: datetime, calendar: TradingCalendar) -> datetime:
        blocked = "account_blocked" in self.problems
        self._wake = planner.wake(now, calendar, self.params, self.portfolio, blocked=blocked)
        return self._wake.at

    @property
    def view(self) -> PassView | None:
        """What the last complete pass saw, for `bot status`, the metrics and the page (built when asked)."""
        if self._seen is None:
            return None
        if self._view is None or self._view[0] is not self._seen:
            now, calendar, account, broker_long = self._seen
            view = self.desk.observe(self.portfolio, now, calendar, account, broker_long, self.open_trade(calendar))
            self._view = (self._seen, view)
        return self._view[1]

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
        return self.portfolio.open_trade(calendar.days)

    def _log(self, event: Event) -> None:
        if event.once is not None:
            self._warn_once(event.once, event.name, **event.fields)
        elif event.level == "warning":
            self.log.warning(event.name, **event.fields)
        else:
            self.log.info(event.name, **event.fields)

    def _warn_once(self, key: str, event: str, **fields: Any) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.log.warning(event, **fields)
