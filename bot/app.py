"""Composition in one place: the trading bot is a Trader over a broker and a ledger, assembled the same way for
`bot run` and `bot demo` (on the alpaca-py adapter), the backtest's live engine (on the in-process venue) and the
tests' harness. Assembling asks the broker nothing and sends nothing: `bot run` checks the account before it opens
the ledger, and claims the ledger before the first pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.broker.base import Broker
from bot.engine.clock import BrokerClock
from bot.ledger import Ledger
from bot.trader import Trader
from strategies.params import BreakoutParams


@dataclass(frozen=True, slots=True)
class Bot:
    broker: Broker
    ledger: Ledger
    trader: Trader

    def close(self) -> None:
        self.ledger.close()


def assemble(
    broker: Broker, ledger_file: Path, params: BreakoutParams, log: Any, *, monotonic: Callable[[], float] | None = None
) -> Bot:
    """The Trader on ``broker`` with its ledger at ``ledger_file``; with ``monotonic``, its clock counts wall time
    on that clock (a test's) between its readings of the broker's."""
    ledger = Ledger(ledger_file)
    clock = BrokerClock(lambda: broker.clock().now, monotonic) if monotonic else None
    return Bot(broker, ledger, Trader(broker, ledger, params, log, clock))
