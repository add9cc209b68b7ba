"""The cycle: gather what the broker and the ledger know, plan (bot/engine/planner.py), submit once, record, log.

Every pass is idempotent: it reads what the broker and the ledger already know and does only what is still
due, so a restart at any moment picks up where the last pass stopped without repeating an order. The same
cycle runs `bot run` and `bot demo` on the alpaca-py adapter and the backtest on the in-process venue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.broker.base import Broker
from bot.domain import Account, Session
from bot.engine import planner
from bot.engine.clock import BrokerClock
from bot.engine.mark import plan_mark, settled_session
from bot.engine.plan_types import Due, Event, Facts, Market, Plan, Quiet, Step, Wake
from bot.engine.planner import history_from
from bot.engine.portfolio import OpenTrade, Portfolio
from bot.engine.schedule import wake
from bot.ledger import Ledger
from bot.minute_watch import MinuteWatch
from bot.order_desk import OrderDesk
from bot.outside import watch_position
from bot.pnl import log_trade_closed, record_mark_dividends
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
        self._planned: Plan | None = None  # the last plan a pass carried out
        self.awaiting: float | None = None  # the last look's Plan.awaiting (the backtest steps by it)

    @property
    def decision_at(self) -> datetime | None:
        """The next moment a pass must see (the demo's lockstep holds its replay there)."""
        return self._wake.decision_at if self._wake else None

    @property
    def watching_minutes(self) -> bool:
        return self._wake is not None and self._wake.watching_minutes

    @property
    def quiet(self) -> Quiet | None:
        """The last plan's Plan.quiet, when its pass left nothing working, waiting or blocked."""
        planned, settled = self._planned, self._wake is not None and self._wake.settled
        return planned.quiet if planned is not None and settled else None

    def tick(self) -> datetime:  # do what is due now; return the broker time of the next decision point
        watching, self.awaiting, self._planned = self.watching_minutes, None, None
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
        self._blocked(account)  # no orders then (the planner sees it too), but the day's mark all the same
        self._act(self._facts(now, calendar, account, broker_long), self._mark_due(now, calendar))
        self._seen = (now, calendar, account, broker_long)
        return self._next_wake(now, calendar)

    def _facts(self, now: datetime, calendar: TradingCalendar, account: Account | None, broker_long: Decimal) -> Facts:
        return Facts(now=now, calendar=calendar, params=self.params, portfolio=self.portfolio, account=account,
                     broker_long=broker_long, decided=self.ledger.decided(),
                     start_equity=self.ledger.meta().start_equity or Decimal(0))  # fmt: skip

    def _mark_due(self, now: datetime, calendar: TradingCalendar) -> Session | None:
        """The settled session not marked yet; sessions that closed before the bot first ran are not its to score."""
        settled = settled_session(now, calendar)
        if settled is None or self.ledger.has_snapshot(settled.day):
            return None
        first = self.ledger.meta().first_session
        if first is None:
            self.ledger.remember(first_session=(calendar.next_after(settled.day) or settled).day)
            return None
        return settled if settled.day >= first else None

    def _act(self, facts: Facts, mark: Session | None = None) -> None:
        """Mark the settled session, plan and carry out; a refused order is planned again at once, from fresh
        facts."""
        for _ in range(ROUNDS_A_PASS):
            due = planner.due(facts)
            market = self._read(due, facts, mark)
            if mark is not None:
                self._mark(facts, mark, market)
                mark = None
            plan = planner.plan(facts, due, market)
            if plan.needs_account:  # a look between passes reads the account only to buy
                account = self.broker.account()
                if self._blocked(account):
                    return
                facts = replace(facts, account=account)
                plan = planner.plan(facts, planner.due(facts), market)
            self.awaiting, self._planned = plan.awaiting, plan
            if self._carry_out(plan, facts.now):
                return
            facts = replace(facts, account=self.broker.account())  # the decisions are a live view already

    def _read(self, due: Due, facts: Facts, mark: Session | None) -> Market:
        """The market data the plan reads for what is due, and the closes of the session to mark: the symbol's
        daily bars in one request for both."""
        params = self.params
        # A session is marked at its closes only when the bot held shares at its close (flat, equity is the cash).
        priced = mark if mark is not None and self.portfolio.holdings_at(mark.closes_at)[0] else None
        spans = [(priced.day, priced.day)] if priced is not None else []
        benchmark = self.broker.daily_bars(params.benchmark, priced.day, priced.day) if priced is not None else []
        if due.step is Step.LOOK:
            assert due.closed is not None and due.upcoming is not None
            session = due.upcoming
            minutes = self._minutes.minutes(session.day, session.opens_at, facts.now)
            # The daily bars before today's session hold the settled session's close too.
            return Market(bars=self._minutes.prior(due.closed.day), minutes=minutes, benchmark_bars=benchmark)
        through = due.bars_through if due.step is Step.ENTRY else None
        if through is not None:
            spans.append((history_from(through, params), through))
        firsts, lasts = zip(*spans, strict=True) if spans else ((), ())
        bars = self.broker.daily_bars(params.symbol, min(firsts), max(lasts)) if spans else []
        latest = self.broker.latest_price(params.symbol) if due.step is Step.ENTRY and due.retry is not None else None
        return Market(bars=bars, latest=latest, benchmark_bars=benchmark)

    def _mark(self, facts: Facts, session: Session, market: Market, logged: bool = True) -> None:
        snapshot, events = plan_mark(facts, session, market, logged)
        if snapshot is not None:
            held = self.open_trade(facts.calendar) if snapshot.position_qty > 0 else None
            record_mark_dividends(self.ledger, self.portfolio, self.broker, session.day, held)
            self.ledger.add_snapshot(snapshot)
        for event in events:
            self._log(event)

    def record_quiet(self, marks: Sequence[tuple[Session, Market]], reason: str | None) -> None:
        """Record what the passes at these sessions' decision points would, which the last plan said could only
        repeat its records (``quiet``): each day's mark from its closes, and the decision ``reason``. Their ``pnl``
        lines are not made: a replay steps over passes only when no log listens."""
        assert self._seen is not None
        facts = self._facts(*self._seen)  # a mark reads no time: the fills so far and the session's closes
        for session, market in marks:
            self._mark(facts, session, market, logged=False)
            if reason is not None:
                self.ledger.record_decision(session.day, reason)

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
        self._wake = wake(now, calendar, self.params, self.portfolio, blocked=blocked)
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
