"""The orders the bot sent and their fills: submit once, follow, record, and say what the broker holds for us.

Order records follow the broker at once (status, filled quantity). A fill's priced record waits until the
benchmark's minute bars around it are on the SIP tape (16 minutes on the free plan), so that both legs are
scored on official prices; until then the order record already counts toward the bot's position.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.benchmark_price import benchmark_price_at
from bot.broker.base import Broker
from bot.broker.validate import same_order
from bot.domain import NEW_YORK, Account, Order, OrderRequest, OrderStatus
from bot.engine.plan import benchmark_window, fill_priced_at
from bot.engine.portfolio import OpenTrade, Portfolio, Trip, trip_of
from bot.errors import OrderRejected
from bot.ledger import FillRecord, Ledger, OrderRecord
from bot.money import price
from bot.orders import Intent
from bot.season_calendar import TradingCalendar
from bot.watch.next_action import PassView
from strategies.breakout import season_for
from strategies.params import BreakoutParams


class OrderDesk:
    def __init__(self, broker: Broker, ledger: Ledger, params: BreakoutParams, log: Any) -> None:
        self.broker, self.ledger, self.params, self.log = broker, ledger, params, log

    def observe(
        self,
        portfolio: Portfolio,
        now: datetime,
        calendar: TradingCalendar,
        account: Account,
        broker_long: Decimal,
        trade: OpenTrade | None,
    ) -> PassView:
        """What a pass saw, for `bot status`, the metrics and the status page."""
        current = calendar.current_or_next(now)
        nearby = [s.day for s in (calendar.last_closed(now), current) if s is not None]
        return PassView(
            now=now,
            calendar=calendar,
            params=self.params,
            trade=trade,
            held=portfolio.held,
            live_orders=portfolio.live_orders(),
            fills_pending=portfolio.fills_pending(),
            blocked_by=account.blocked_by,
            season_entered=current is not None
            and portfolio.season_entered(season_for(current.day, calendar.days, self.params)),
            decided=frozenset(d for d in nearby if self.ledger.decision(d) is not None),
            equity=account.equity,
            broker_qty=broker_long,
        )

    # Sending

    def submit(self, request: OrderRequest, intent: Intent, season: int, reason: str, now: datetime) -> bool:
        """Send once; True when the broker took it. A refusal is recorded with its kind and logged."""
        try:
            order = self.broker.submit(request)
        except OrderRejected as exc:
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
                    exc.kind.value,
                )
            )
            self.log.error(
                "order_rejected", client_order_id=request.client_order_id, cause=str(exc), rejection=exc.kind.value
            )
            return False
        self.record_order(order, intent, season, reason)
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
        return True

    def record_order(self, order: Order, intent: Intent, season: int, reason: str) -> bool:
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

    # Following

    def follow(self, records: Sequence[OrderRecord], now: datetime, calendar: TradingCalendar) -> list[Trip]:
        """Refresh these orders (those still working or with fills not yet recorded); return the round trips
        whose exit recorded a fill."""
        closed: list[Trip] = []
        for record in records:
            if not record.broker_order_id:
                continue  # refused at submission: nothing at the broker
            order = self.broker.order_by_client_id(record.client_order_id)
            if order is None:
                continue
            same_order(order, record.symbol, record.side, record.qty, record.time_in_force)
            intent = Intent(record.intent)
            if self.record_order(order, intent, record.season, record.reason) and order.status != record.status:
                self.log.info(
                    "order_update",
                    client_order_id=order.client_order_id,
                    status=order.status,
                    previous_status=record.status,
                    filled_qty=str(order.filled_qty),
                    reason=_update_reason(order),
                )
            if self.record_fills(order, intent, record.season, now, calendar) and intent is Intent.EXIT:
                closed.append(trip_of(record.client_order_id, record.season))
        return closed

    def record_fills(self, order: Order, intent: Intent, season: int, now: datetime, calendar: TradingCalendar) -> bool:
        recorded = [f for f in self.ledger.fills() if f.client_order_id == order.client_order_id]
        recorded_qty = sum((f.qty for f in recorded), Decimal(0))
        new_qty = order.filled_qty - recorded_qty
        if new_qty <= 0 or order.filled_avg_price is None:
            return False
        filled_at = order.filled_at or order.updated_at
        if now < fill_priced_at(filled_at, calendar):
            return False  # the benchmark's official prices at the fill are not on the tape yet
        recorded_cost = sum((f.qty * f.price for f in recorded), Decimal(0))
        fill_price = price((order.filled_avg_price * order.filled_qty - recorded_cost) / new_qty)
        benchmark_price = benchmark_price_at(
            self.broker, self.params.benchmark, filled_at, benchmark_window(filled_at, calendar), self.log
        )
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
            session=filled_at.astimezone(NEW_YORK).date(),
            benchmark_price=benchmark_price,
        )
        if not self.ledger.add_fill(fill):
            return False
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
        return True


def _update_reason(order: Order) -> str | None:
    if order.status is OrderStatus.EXPIRED:
        return f"{order.time_in_force}_order_expired_unfilled" if order.filled_qty == 0 else "remainder_expired"
    return {
        OrderStatus.CANCELED: "canceled_by_broker",
        OrderStatus.REJECTED: "rejected_after_acceptance",
        OrderStatus.PARTIALLY_FILLED: "partial_fill",
    }.get(order.status)
