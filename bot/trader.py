"""One pass of the trading logic: reconcile, follow orders, check the account and position, decide, act.

Every pass is idempotent: it reads what the broker and the ledger already know and does only what is still
due, so a restart at any moment picks up where the last pass stopped without repeating an order. What to send
after a refusal, an unfilled auction or a partial fill is decided by bot/engine/policy.py.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from bot.broker.base import Broker
from bot.domain import Account, OrderRequest, Side
from bot.engine import plan, policy
from bot.engine.clock import BrokerClock
from bot.engine.plan import ExitOrder, Hold, order_session
from bot.engine.policy import Next
from bot.engine.schedule import next_wake
from bot.entries import Entries
from bot.ledger import Ledger
from bot.order_desk import OrderDesk
from bot.orders import Intent, client_order_id
from bot.outside import watch_position
from bot.pnl import log_trade_closed, take_snapshot
from bot.reconcile import reconcile
from bot.round_trips import OpenTrade, open_trade
from bot.season_calendar import CalendarCache, TradingCalendar
from bot.watch.next_action import PassView
from strategies.params import BreakoutParams, Trigger


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
        self.entries = Entries(broker, ledger, self.desk, params, log, verdict=self._verdict, blocked=self._blocked,
                               warn_once=self._warn_once)  # fmt: skip

    def tick(self) -> datetime:  # do what is due now; return the broker time of the next decision point
        now, read = self.clock.for_look() if self._watching_minutes else (self.clock.for_pass(), True)
        if self._watching_minutes and self.decision_at is not None and now < self.decision_at:
            # Between decision points, flat and with nothing working: the intraday trigger only reads the minutes.
            self.now, calendar = now, self._calendars.at(now)
            self.entries.intraday(now, calendar, None)
            return self._next_wake(now, calendar)
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
        # Only a flat bot with nothing working looks each minute for the intraday trigger's breakout; holding, it
        # waits for the decision points like the close trigger. Minute looks can be skipped (the first breakout
        # minute is found later); the decision points not.
        self._watching_minutes = self.params.trigger is Trigger.INTRADAY and idle
        self.decision_at = wake(Trigger.CLOSE)
        return wake(Trigger.INTRADAY) if self._watching_minutes else self.decision_at

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
            self.entries.intraday(now, calendar, account)
        else:
            self.entries.after_close(now, calendar, account)
            self.entries.retry(now, calendar, account)

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
        request = OrderRequest(
            symbol=self.params.symbol,
            side=Side.SELL,
            qty=order.qty,
            time_in_force=order.time_in_force,
            client_order_id=coid,
        )
        self.problems.pop("position_mismatch", None)
        self.desk.submit(request, Intent.EXIT, trade.season, order.reason, now)

    def _warn_once(self, key: str, event: str, **fields: Any) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.log.warning(event, **fields)
