"""One pass of the trading logic: reconcile, follow orders, record, decide, act.

Every pass is idempotent: it reads what the broker and the ledger already know and does only what
is still due, so a restart at any moment picks up where the last pass stopped without repeating an
order. The run loop calls ``tick`` whenever a decision point may have passed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.broker.base import FINAL_STATUSES, UNFILLED_FINAL_STATUSES, Broker, Order, OrderRequest, Side, TimeInForce
from bot.errors import BrokerUnavailable, OrderRejected
from bot.ledger import FillRecord, Ledger, OrderRecord, Snapshot
from bot.market.calendar import NEW_YORK
from bot.money import cents, pct, price
from bot.orders import Intent, client_order_id
from bot.round_trips import OpenTrade, closed_round_trips, holdings_at, open_trade, season_traded
from bot.scoring import claim_holds
from bot.season_calendar import (
    CLS_CUTOFF_BEFORE_CLOSE,
    OPG_CUTOFF_BEFORE_OPEN,
    TradingCalendar,
    evening_of,
)
from strategies.breakout import (
    Action,
    entry_decision,
    exit_session,
    first_intraday_breakout,
    intraday_entry_block,
    season_of,
)
from strategies.params import BreakoutParams, Trigger
from strategies.sizing import order_quantity

HISTORY_DAYS = 120
CALENDAR_BACK_DAYS = 400
MINUTE = timedelta(minutes=1)
MAX_ATTEMPTS_PROBED = 5


class Trader:
    def __init__(self, broker: Broker, ledger: Ledger, params: BreakoutParams, log: Any) -> None:
        self.broker = broker
        self.ledger = ledger
        self.params = params
        self.log = log
        self._calendar: TradingCalendar | None = None
        self._calendar_day: date | None = None
        self._reconciled = False
        self._warned: set[str] = set()

    # The pass

    def tick(self) -> datetime:
        """Do what is due now; return the broker time of the next decision point."""
        now = self.broker.clock().now
        calendar = self._calendar_for(now)
        if not self._reconciled:
            self._reconcile(now, calendar)
            self._reconciled = True
        self._follow_open_orders(calendar)
        self._snapshot(now, calendar)
        trade = self.open_trade(calendar)
        if trade is not None:
            self._exit_if_due(now, calendar, trade)
        elif self.params.trigger is Trigger.INTRADAY:
            self._intraday_entry_if_due(now, calendar)
        else:
            self._entry_if_due(now, calendar)
        return self._next_wake(now, calendar)

    def _calendar_for(self, now: datetime) -> TradingCalendar:
        today = now.astimezone(NEW_YORK).date()
        if self._calendar is None or self._calendar_day != today:
            start = today - timedelta(days=CALENDAR_BACK_DAYS)
            end = date(today.year + 2, 1, 31)
            self._calendar = TradingCalendar(self.broker.calendar(start, end))
            self._calendar_day = today
        return self._calendar

    # Restart safety

    def _reconcile(self, now: datetime, calendar: TradingCalendar) -> None:
        """Adopt what the broker already has for the seasons around now, before anything else."""
        if self.ledger.fact("start_equity") is None:
            self.ledger.remember("start_equity", str(self.broker.account().equity))
        season = season_of(now.astimezone(NEW_YORK).date(), calendar.days)
        adopted = 0
        for candidate in (season - 1, season, season + 1):
            for intent in Intent:
                for attempt in range(1, MAX_ATTEMPTS_PROBED + 1):
                    coid = client_order_id(self.params.symbol, candidate, intent, attempt)
                    order = self.broker.order_by_client_id(coid)
                    if order is None:
                        break
                    known = {o.client_order_id for o in self.ledger.orders()}
                    if coid not in known:
                        adopted += 1
                        self.log.info("order_adopted", client_order_id=coid, status=order.status)
                    self._record_order(order, intent, candidate, reason="reconciled")
                    self._record_fills(order, intent, candidate, calendar)
        position = self.broker.position(self.params.symbol)
        trade = self.open_trade(calendar)
        held = position.qty if position else Decimal(0)
        expected = trade.qty if trade else Decimal(0)
        if held != expected:
            self.log.warning(
                "position_mismatch", symbol=self.params.symbol, broker_qty=str(held), ledger_qty=str(expected)
            )
        self.log.info(
            "reconciled",
            orders_adopted=adopted,
            position_qty=str(held),
            planned_exit=trade.planned_exit.isoformat() if trade else None,
        )

    # Orders and fills

    def _order_records(self, season: int, intent: Intent) -> list[OrderRecord]:
        return [o for o in self.ledger.orders() if o.season == season and o.intent == intent.value]

    def _record_order(self, order: Order, intent: Intent, season: int, reason: str) -> bool:
        return self.ledger.upsert_order(
            OrderRecord(
                client_order_id=order.client_order_id,
                broker_order_id=order.id,
                symbol=order.symbol,
                side=order.side,
                intent=intent.value,
                season=season,
                qty=order.qty,
                time_in_force=order.time_in_force,
                status=order.status,
                filled_qty=order.filled_qty,
                reason=reason,
                submitted_at=order.submitted_at,
                updated_at=order.updated_at,
            )
        )

    def _follow_open_orders(self, calendar: TradingCalendar) -> None:
        for record in self.ledger.orders():
            if record.status in FINAL_STATUSES and self.ledger.filled_qty(record.client_order_id) == record.filled_qty:
                continue
            order = self.broker.order_by_client_id(record.client_order_id)
            if order is None:
                continue
            intent = Intent(record.intent)
            if self._record_order(order, intent, record.season, record.reason) and order.status != record.status:
                self.log.info(
                    "order_update",
                    client_order_id=order.client_order_id,
                    status=order.status,
                    previous_status=record.status,
                    filled_qty=str(order.filled_qty),
                    reason=_update_reason(order),
                )
            self._record_fills(order, intent, record.season, calendar)

    def _record_fills(self, order: Order, intent: Intent, season: int, calendar: TradingCalendar) -> None:
        recorded = [f for f in self.ledger.fills() if f.client_order_id == order.client_order_id]
        recorded_qty = sum((f.qty for f in recorded), Decimal(0))
        new_qty = order.filled_qty - recorded_qty
        if new_qty <= 0 or order.filled_avg_price is None:
            return
        recorded_cost = sum((f.qty * f.price for f in recorded), Decimal(0))
        fill_price = price((order.filled_avg_price * order.filled_qty - recorded_cost) / new_qty)
        filled_at = order.filled_at or order.updated_at
        session = filled_at.astimezone(NEW_YORK).date()
        benchmark_price = self._benchmark_price_at(filled_at, calendar)
        fill = FillRecord(
            client_order_id=order.client_order_id,
            cum_qty=order.filled_qty,
            symbol=order.symbol,
            side=order.side,
            intent=intent.value,
            season=season,
            qty=new_qty,
            price=fill_price,
            filled_at=filled_at,
            session=session,
            benchmark_price=benchmark_price,
        )
        if not self.ledger.add_fill(fill):
            return
        self.log.info(
            "fill",
            symbol=order.symbol,
            side=order.side,
            qty=str(new_qty),
            price=str(fill_price),
            client_order_id=order.client_order_id,
            filled_at=filled_at.isoformat(),
            cum_qty=str(order.filled_qty),
            order_qty=str(order.qty),
            benchmark=self.params.benchmark,
            benchmark_price=str(benchmark_price),
        )
        if intent is Intent.EXIT and self.open_trade(calendar) is None:
            self._log_trade_closed(season)

    def _benchmark_price_at(self, moment: datetime, calendar: TradingCalendar) -> Decimal:
        """The benchmark's price when a fill happened: the open of that minute, or the close for a fill at the close.

        Without minute bars it falls back to the latest trade, then to the last daily close before the fill.
        """
        symbol = self.params.benchmark
        session = calendar.session(moment.astimezone(NEW_YORK).date())
        if session is not None and moment >= session.closes_at:
            bars = self.broker.minute_bars(symbol, session.closes_at - 5 * MINUTE, session.closes_at - MINUTE)
            if bars:
                return price(bars[-1].close)
        else:
            start = moment.replace(second=0, microsecond=0)
            bars = self.broker.minute_bars(symbol, start, start + 5 * MINUTE)
            if bars:
                return price(bars[0].open)
        try:
            fallback, source = price(self.broker.latest_price(symbol)), "latest_trade"
        except BrokerUnavailable:
            day = moment.astimezone(NEW_YORK).date()
            daily = self.broker.daily_bars(symbol, day - timedelta(days=10), day)
            if not daily:
                raise
            fallback, source = price(daily[-1].close), f"close_of_{daily[-1].session.isoformat()}"
        self.log.warning(
            "benchmark_price_fallback", symbol=symbol, at=moment.isoformat(), source=source, price=str(fallback)
        )
        return fallback

    def _submit(self, request: OrderRequest, intent: Intent, season: int, reason: str) -> None:
        try:
            order = self.broker.submit(request)
        except OrderRejected as exc:
            now = self.broker.clock().now
            self.ledger.upsert_order(
                OrderRecord(
                    request.client_order_id,
                    "",
                    request.symbol,
                    request.side.value,
                    intent.value,
                    season,
                    Decimal(request.qty),
                    request.time_in_force.value,
                    "rejected",
                    Decimal(0),
                    reason,
                    now,
                    now,
                )
            )
            self.log.error("order_rejected", client_order_id=request.client_order_id, cause=str(exc))
            return
        self._record_order(order, intent, season, reason)
        self.log.info(
            "order_submitted",
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            qty=str(order.qty),
            time_in_force=order.time_in_force,
            status=order.status,
            reason=reason,
            broker_order_id=order.id,
        )

    def _next_attempt(self, season: int, intent: Intent) -> int | None:
        """The attempt number for a new order, or None while an earlier one is live or filled."""
        records = self._order_records(season, intent)
        if any(r.status not in UNFILLED_FINAL_STATUSES or r.filled_qty > 0 for r in records):
            return None
        return len(records) + 1

    # Positions

    def open_trade(self, calendar: TradingCalendar) -> OpenTrade | None:
        return open_trade(self.ledger, self.params, calendar.days)

    def _season_traded(self, season: int) -> bool:
        return season_traded(self.ledger, self.params, season)

    # Entry

    def _entry_if_due(self, now: datetime, calendar: TradingCalendar) -> None:
        closed = calendar.last_closed(now)
        if closed is None or self.ledger.fact(f"decided:{closed.day}") is not None:
            return
        upcoming = calendar.next_after(closed.day)
        if upcoming is None or (now < evening_of(closed) and now < upcoming.opens_at):
            return
        bars = [
            b
            for b in self.broker.daily_bars(self.params.symbol, closed.day - timedelta(days=HISTORY_DAYS), closed.day)
            if b.session <= closed.day
        ]
        if not bars or bars[-1].session != closed.day:
            self._warn_once(
                f"bars:{closed.day}",
                "bars_missing",
                symbol=self.params.symbol,
                session=closed.day.isoformat(),
                latest=bars[-1].session.isoformat() if bars else None,
            )
            return
        traded = self._season_traded(season_of(closed.day, calendar.days))
        decision = entry_decision(bars, self.params, traded_this_season=traded)
        self.log.info(
            "signal",
            symbol=self.params.symbol,
            session=closed.day.isoformat(),
            close=bars[-1].close,
            breakout_level=self.params.level,
            threshold=self.params.threshold,
            action=decision.action.value,
            reason=decision.reason.value,
            trigger=self.params.trigger.value,
        )
        if decision.action is Action.BUY:
            late = now >= upcoming.opens_at - OPG_CUTOFF_BEFORE_OPEN
            self._enter(
                calendar,
                upcoming.day,
                price(bars[-1].close),
                TimeInForce.DAY if late else TimeInForce.OPG,
                "opg_window_missed" if late else decision.reason.value,
            )
        self.ledger.remember(f"decided:{closed.day}", decision.reason.value)

    def _intraday_entry_if_due(self, now: datetime, calendar: TradingCalendar) -> None:
        session = calendar.current_or_next(now)
        if session is None or now < session.opens_at + MINUTE or self.ledger.fact(f"decided:{session.day}"):
            return
        season = season_of(session.day, calendar.days)
        blocked = intraday_entry_block(session.day, self.params, traded_this_season=self._season_traded(season))
        previous = calendar.previous_before(session.day)
        if blocked is not None or previous is None:
            return
        prior = self.broker.daily_bars(self.params.symbol, previous.day, previous.day)
        minutes = self.broker.minute_bars(self.params.symbol, session.opens_at, now)
        reason, index = first_intraday_breakout(minutes, prior[-1].close if prior else None, self.params)
        if index is None:
            return
        self.log.info(
            "signal",
            symbol=self.params.symbol,
            session=session.day.isoformat(),
            price=minutes[index].close,
            breakout_level=self.params.level,
            threshold=self.params.threshold,
            action="buy",
            reason=reason.value,
            trigger=self.params.trigger.value,
        )
        self._enter(calendar, session.day, price(minutes[index].close), TimeInForce.DAY, reason.value)
        self.ledger.remember(f"decided:{session.day}", reason.value)

    def _enter(
        self, calendar: TradingCalendar, fill_day: date, last_price: Decimal, tif: TimeInForce, reason: str
    ) -> None:
        season = exit_session(fill_day, calendar.days, self.params).year
        attempt = self._next_attempt(season, Intent.ENTRY)
        if attempt is None:
            return
        qty = order_quantity(self.params.sizing, equity=self.broker.account().equity, price=last_price)
        if qty <= 0:
            self.log.warning("order_skipped", reason="quantity_zero", price=str(last_price))
            return
        coid = client_order_id(self.params.symbol, season, Intent.ENTRY, attempt)
        self._submit(OrderRequest(self.params.symbol, Side.BUY, qty, tif, coid), Intent.ENTRY, season, reason)

    # Exit

    def _exit_if_due(self, now: datetime, calendar: TradingCalendar, trade: OpenTrade) -> None:
        exit_day = calendar.session(trade.planned_exit)
        if exit_day is None:
            self._warn_once(
                f"exit:{trade.planned_exit}", "exit_session_unknown", planned_exit=trade.planned_exit.isoformat()
            )
            return
        day_before = calendar.previous_before(exit_day.day)
        if now < (evening_of(day_before) if day_before else exit_day.opens_at):
            return
        attempt = self._next_attempt(trade.season, Intent.EXIT)
        if attempt is None:
            return
        if now < exit_day.closes_at - CLS_CUTOFF_BEFORE_CLOSE:
            tif, reason = TimeInForce.CLS, "exit_date_reached"
        elif now < exit_day.closes_at:
            tif, reason = TimeInForce.DAY, "cls_cutoff_missed"
        else:
            tif, reason = TimeInForce.DAY, "exit_overdue"
        if attempt > 1:
            reason = f"{reason}_after_unfilled_attempt"
        coid = client_order_id(self.params.symbol, trade.season, Intent.EXIT, attempt)
        qty = int(trade.qty)
        self._submit(OrderRequest(self.params.symbol, Side.SELL, qty, tif, coid), Intent.EXIT, trade.season, reason)

    # P&L

    def _snapshot(self, now: datetime, calendar: TradingCalendar) -> None:
        closed = calendar.last_closed(now)
        if closed is None or self.ledger.has_snapshot(closed.day):
            return
        first = self.ledger.fact("first_session")
        if first is None:
            # Sessions that closed before the bot first ran are not ours to score.
            self.ledger.remember("first_session", (calendar.next_after(closed.day) or closed).day.isoformat())
            return
        if closed.day < date.fromisoformat(first):
            return
        symbol_bars = self.broker.daily_bars(self.params.symbol, closed.day, closed.day)
        benchmark_bars = self.broker.daily_bars(self.params.benchmark, closed.day, closed.day)
        if not symbol_bars or not benchmark_bars:
            self._warn_once(
                f"snap:{closed.day}",
                "bars_missing",
                session=closed.day.isoformat(),
                symbol=self.params.symbol if not symbol_bars else self.params.benchmark,
            )
            return
        close, benchmark_close = price(symbol_bars[-1].close), price(benchmark_bars[-1].close)
        held, cash_flow = holdings_at(self.ledger, self.params.symbol, closed.closes_at)
        trade = self.open_trade(calendar)
        start_equity = Decimal(self.ledger.fact("start_equity") or "0")
        equity = start_equity + cash_flow + held * close
        benchmark_value = Decimal(0)
        if trade is not None and held > 0:
            dollars = held * trade.entry_price
            benchmark_value = dollars * benchmark_close / trade.benchmark_entry_price
        self.ledger.add_snapshot(Snapshot(closed.day, equity, held, held * close, benchmark_value))
        if trade is not None and held > 0:
            mine = close / trade.entry_price - 1
            theirs = benchmark_close / trade.benchmark_entry_price - 1
            self.log.info(
                "pnl",
                session=closed.day.isoformat(),
                symbol=self.params.symbol,
                position_qty=str(held),
                close=str(close),
                position_value=str(cents(held * close)),
                unrealized_pnl=str(cents(held * (close - trade.entry_price))),
                symbol_return_pct=str(pct(mine)),
                benchmark=self.params.benchmark,
                benchmark_close=str(benchmark_close),
                benchmark_return_pct=str(pct(theirs)),
                excess_return_pct=str(pct(mine - theirs)),
                ratio=str(round(mine / theirs, 4)) if theirs != 0 else None,
                equity=str(cents(equity)),
            )

    def _log_trade_closed(self, season: int) -> None:
        trip = next(trip for s, trip in closed_round_trips(self.ledger, self.params) if s == season)
        self.log.info(
            "trade_closed",
            symbol=trip.symbol,
            season=season,
            qty=trip.qty,
            entry_date=trip.entry_session.isoformat(),
            entry_price=str(trip.entry_price),
            exit_date=trip.exit_session.isoformat(),
            exit_price=str(trip.exit_price),
            realized_pnl=str(trip.pnl),
            return_pct=str(pct(trip.return_ratio)),
            benchmark=self.params.benchmark,
            benchmark_return_pct=str(pct(trip.benchmark_return_ratio)),
            excess_return_pct=str(pct(trip.return_ratio - trip.benchmark_return_ratio)),
            claim_holds=claim_holds(trip.return_ratio, trip.benchmark_return_ratio),
        )

    # Scheduling

    def _next_wake(self, now: datetime, calendar: TradingCalendar) -> datetime:
        candidates: list[datetime] = []
        for session in filter(None, (calendar.last_closed(now), calendar.current_or_next(now))):
            candidates += [session.opens_at + MINUTE, session.closes_at + MINUTE, evening_of(session)]
            if self.params.trigger is Trigger.INTRADAY and session.opens_at <= now < session.closes_at:
                candidates.append(now + MINUTE)
        if any(r.status not in FINAL_STATUSES for r in self.ledger.orders()):
            candidates.append(now + MINUTE)
        future = [moment for moment in candidates if moment > now]
        return min(future) if future else now + timedelta(hours=1)

    def _warn_once(self, key: str, event: str, **fields: Any) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.log.warning(event, **fields)


def _update_reason(order: Order) -> str | None:
    if order.status == "expired":
        return f"{order.time_in_force}_order_expired_unfilled"
    if order.status == "canceled":
        return "canceled_by_broker"
    if order.status == "partially_filled":
        return "partial_fill"
    return None
