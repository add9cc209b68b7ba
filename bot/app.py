"""Composition in one place: the trading bot is a Trader over a broker and a ledger, assembled the same way for
`bot run` and `bot demo` (on the alpaca-py adapter), the backtest's live engine (on the in-process venue) and the
tests' harness. Assembling asks the broker nothing and sends nothing: `bot run` checks the account before it opens
the ledger, and claims the ledger before the first pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
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
    broker: Broker,
    ledger_file: Path | None,
    params: BreakoutParams,
    log: Any,
    *,
    monotonic: Callable[[], float] | None = None,
    now: Callable[[], datetime] | None = None,
) -> Bot:
    """The Trader on ``broker`` with its ledger at ``ledger_file`` (None: in memory, the backtest's). Its clock
    reads the broker's (or ``now``: the backtest's own, which the in-process venue shares) and, with
    ``monotonic``, counts wall time on that clock (a test's) between readings."""
    ledger = Ledger(ledger_file) if ledger_file is not None else Ledger.in_memory()
    read = now or (lambda: broker.clock().now)
    clock = BrokerClock(read, monotonic) if monotonic else BrokerClock(read)
    return Bot(broker, ledger, Trader(broker, ledger, params, log, clock))
