"""Drive the real trader through alpaca-py against the local exchange on a clock the test moves.

Each replayed session is visited at the moments a running loop would wake: before the open, just after
it, midday, before the cls cut-off, after the close and after 19:00. Nothing is faked: the trader talks
HTTP to the exchange through the real SDK clients.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import structlog
from pydantic import SecretStr

from bot.app import assemble
from bot.broker.alpaca import AlpacaBroker
from bot.config import Settings, load_settings
from bot.domain import NEW_YORK
from bot.local_exchange.clock import ManualClock
from bot.local_exchange.faults import FaultSpec
from bot.local_exchange.server import LocalExchange
from bot.logs import configure_logging
from bot.trader import Trader
from tests.admin import Admin

KEY_ID = "PKTESTHARNESS"
SECRET = "harness-secret-d41d8cd98f00b204"
WAKE_TIMES = (time(8, 0), time(9, 31), time(12, 0), time(15, 40), time(16, 5), time(19, 5), time(23, 0))


@dataclass
class Harness:
    exchange: LocalExchange
    clock: ManualClock
    data_dir: Path
    log_stream: io.StringIO

    def settings(self, **runtime: Any) -> Settings:
        base = load_settings()
        alpaca = base.alpaca.model_copy(
            update={
                "key_id": SecretStr(KEY_ID),
                "secret_key": SecretStr(SECRET),
                "base_url": self.exchange.url,
                "data_url": self.exchange.url,
            }
        )
        tuned = base.runtime.model_copy(update={"data_dir": self.data_dir, "retry_max_seconds": 5.0, **runtime})
        return Settings(base.strategy, alpaca, tuned)

    def trader(self, settings: Settings | None = None, monotonic: Callable[[], float] | None = None) -> Trader:
        """A trader on this exchange; with ``monotonic``, its clock counts wall time on that (a test's) clock."""
        settings = settings or self.settings()
        broker = AlpacaBroker(settings, sleep=lambda seconds: None)
        params, log = settings.strategy.params(), structlog.get_logger()
        return assemble(broker, self.data_dir / "ledger.sqlite", params, log, monotonic=monotonic).trader

    def moments(self, start: date | None = None, end: date | None = None) -> Iterator[datetime]:
        for session in self.exchange.sessions:
            if (start and session.day < start) or (end and session.day > end):
                continue
            for moment in WAKE_TIMES:
                yield datetime.combine(session.day, moment, NEW_YORK)

    def run(
        self,
        trader: Trader,
        start: date | None = None,
        end: date | None = None,
        skip: tuple[datetime, datetime] | None = None,
    ) -> None:
        """Tick at every wake moment from ``start`` to ``end``; moments inside ``skip`` pass with the bot down."""
        for moment in self.moments(start, end):
            if skip and skip[0] <= moment < skip[1]:
                continue
            self.clock.set(moment)
            trader.tick()

    @property
    def admin(self) -> Admin:
        return Admin(self.exchange.url, KEY_ID)

    def orders(self) -> list[Any]:
        return self.admin.orders()

    def log_lines(self) -> list[str]:
        return self.log_stream.getvalue().splitlines()


@contextmanager
def harness(
    tmp_path: Path,
    frames: dict[str, pd.DataFrame],
    *,
    start: date,
    end: date,
    faults: FaultSpec | None = None,
    partial_fills: bool = False,
) -> Iterator[Harness]:
    clock = ManualClock(datetime.combine(start, time(0), NEW_YORK))
    exchange = LocalExchange(frames, start=start, end=end, clock=clock, faults=faults, partial_fills=partial_fills)
    exchange.start()
    stream = io.StringIO()
    configure_logging(secrets=(KEY_ID, SECRET), stream=stream)
    try:
        yield Harness(exchange, clock, tmp_path / "data", stream)
    finally:
        exchange.stop()


def cash_of(h: Harness) -> Decimal:
    return h.admin.cash()
