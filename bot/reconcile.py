"""Restart safety: before anything else, adopt what the broker already has for the seasons around now."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.domain import NEW_YORK, Account
from bot.engine.policy import MAX_ORDER_ATTEMPTS
from bot.engine.portfolio import OpenTrade
from bot.order_desk import OrderDesk
from bot.orders import Intent, client_order_id
from bot.season_calendar import TradingCalendar
from strategies.breakout import season_of


def reconcile(
    desk: OrderDesk, now: datetime, calendar: TradingCalendar, account: Account, trade: OpenTrade | None, log: Any
) -> None:
    ledger, params, broker = desk.ledger, desk.params, desk.broker
    ledger.remember(start_equity=account.equity)
    season = season_of(now.astimezone(NEW_YORK).date(), calendar.days)
    known = {o.client_order_id for o in ledger.orders()}
    adopted = 0
    for candidate in (season - 1, season, season + 1):
        trip, found = 1, True
        while found:  # a later round trip of the season (re-entry) exists only if the one before it does
            found = False
            for intent in Intent:
                # Every id up to the bound: a refused attempt leaves no order at the broker, only a gap.
                for attempt in range(1, MAX_ORDER_ATTEMPTS + 1):
                    coid = client_order_id(params.symbol, candidate, intent, attempt, trip)
                    if coid in known:
                        found = True
                        continue  # followed every pass anyway
                    order = broker.order_by_client_id(coid)
                    if order is None:
                        continue
                    found = True
                    adopted += 1
                    log.info("order_adopted", client_order_id=coid, status=order.status)
                    desk.record_order(order, intent, candidate, reason="reconciled")
            trip += 1
    position = broker.position(params.symbol)
    log.info(
        "reconciled",
        orders_adopted=adopted,
        position_qty=str(position.qty if position else Decimal(0)),
        planned_exit=trade.planned_exit.isoformat() if trade else None,
    )
