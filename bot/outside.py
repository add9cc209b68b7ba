"""Changes made behind the bot's back: the broker's position compared with what the bot's orders hold.

Run only while none of the bot's orders is working, so that a fill between the two reads cannot pass for an
outside change. A position closed or reduced outside the bot is adopted as a fact (the bot never sells what it
no longer holds, and does not re-enter the season); shares added by hand are logged and never sold.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.domain import Position
from bot.engine.portfolio import OpenTrade, Portfolio
from bot.ledger import Ledger, OutsideChange


def watch_position(
    ledger: Ledger,
    portfolio: Portfolio,
    position: Position | None,
    now: datetime,
    trade: OpenTrade | None,
    log: Any,
) -> None:
    params = portfolio.params
    broker_qty = position.qty if position else Decimal(0)
    ours = portfolio.held
    if broker_qty == ours:
        return
    if broker_qty < ours:
        if trade is None:
            return  # the bot's fills are still being priced: look again once they are
        adopted = max(broker_qty, Decimal(0)) - ours
    else:
        adopted = Decimal(0)
        last = next((c for c in reversed(ledger.outside_changes()) if c.symbol == params.symbol), None)
        if last is not None and (last.broker_qty, last.ledger_qty) == (broker_qty, ours):
            return  # the same extra shares as last time: said once already
    season = trade.season if trade is not None else 0
    ledger.add_outside_change(OutsideChange(now, params.symbol, season, broker_qty, ours, adopted))
    log.warning(
        "position_changed_outside",
        symbol=params.symbol,
        observed_at=now.isoformat(),
        broker_qty=str(broker_qty),
        ledger_qty=str(ours),
        difference=str(broker_qty - ours),
        adopted_qty=str(adopted),
        action="adopted_reduction" if adopted else "extra_shares_left_alone",
    )
