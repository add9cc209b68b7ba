"""`bot status` and `bot health` through a season, as a user runs them: `bot run --once` at chosen moments of a
manual-clock exchange, then `bot status`. Waiting, entry queued, holding, exit queued, done, blocked, broker down."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.domain import NEW_YORK
from tests.admin import Admin
from tests.processes import clean_environment, run_bot, start_exchange

KEY, SECRET = "PKSTATUSTEST", "status-secret-7c1e4b9a"


@dataclass
class Venue:
    url: str
    env: dict[str, str]
    process: Any

    def at(self, *moment: int) -> None:
        now = datetime(*moment, tzinfo=NEW_YORK)  # type: ignore[misc]
        requests.post(f"{self.url}/_exchange/clock", json={"now": now.isoformat()}, timeout=10).raise_for_status()
        once = run_bot("run", "--once", env=self.env)
        assert once.returncode == 0, once.stderr

    def status(self) -> dict[str, Any]:
        shown = run_bot("status", "--json", env=self.env)
        assert shown.returncode == 0, shown.stderr
        return dict(json.loads(shown.stdout))

    @property
    def admin(self) -> Admin:
        return Admin(self.url, KEY)


@pytest.fixture
def venue(tmp_path: Path) -> Iterator[Venue]:
    process, url = start_exchange("--start", "2023-12-11", "--end", "2024-07-03", "--manual-clock")
    env = clean_environment(
        APCA_API_KEY_ID=KEY,
        APCA_API_SECRET_KEY=SECRET,
        APCA_API_BASE_URL=url,
        APCA_API_DATA_URL=url,
        BOT_DATA_DIR=str(tmp_path / "data"),
        BOT_RETRY_MAX_SECONDS="1",
        LOG_FORMAT="json",
    )
    yield Venue(url, env, process)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def test_status_tells_each_state_of_a_season_and_health_its_cause(venue: Venue) -> None:
    venue.at(2023, 12, 12, 12, 0)
    waiting = venue.status()
    assert waiting["health"]["ok"] is True
    assert waiting["next_action"]["text"].startswith("after the close on 2023-12-12: buy IWM at the next open (opg)")
    assert waiting["ledger"]["last_decision"] == {"session": "2023-12-11", "reason": "below_level"}
    assert waiting["broker"]["reachable"] is True and waiting["broker"]["position_qty"] == "0"

    venue.at(2023, 12, 13, 19, 5)  # the 13th closed above 200: an opg buy for the 14th's open
    queued = venue.status()
    (entry,) = venue.admin.orders()
    assert [o["client_order_id"] for o in queued["ledger"]["open_orders"]] == [entry.client_order_id]
    assert queued["next_action"]["text"] == (
        f"waiting for the entry order {entry.client_order_id}: buy {entry.qty} IWM (opg)"
    )
    assert queued["ledger"]["last_decision"]["reason"] == "breakout_confirmed"

    venue.at(2023, 12, 14, 11, 0)
    holding = venue.status()
    held = venue.admin.position("IWM")
    assert held == Decimal(str(entry.qty)) and holding["ledger"]["position_qty"] == str(held)
    assert holding["broker"]["position_qty"] == str(held)
    expected = f"after the close on 2024-06-27: send a cls sell of {held} IWM for 2024-06-28"
    assert holding["next_action"]["text"] == expected
    text = run_bot("status", env=venue.env)
    assert f"position: the bot's orders hold {held} IWM; the broker holds {held}" in text.stdout
    assert "next: after the close on 2024-06-27: send a cls sell" in text.stdout

    venue.at(2024, 6, 27, 19, 5)
    exiting = venue.status()
    exit_order = next(o for o in venue.admin.orders() if o.side == "sell")
    assert exiting["next_action"]["text"] == (
        f"waiting for the exit order {exit_order.client_order_id}: sell {held} IWM (cls)"
    )

    venue.at(2024, 6, 28, 16, 30)
    done = venue.status()
    assert done["ledger"]["position_qty"] == "0" and venue.admin.position("IWM") == 0
    assert [t["closed"] for t in done["ledger"]["score"]["trades"]] == [True]
    # The exit session's close is the first decision of the 2025 season (a breakout there buys at July's open).
    assert done["next_action"]["text"].startswith("after the close on 2024-06-28: buy IWM at the next open")
    assert "closed trade: " in run_bot("status", "--offline", env=venue.env).stdout
    check_report_vs_backtest(venue)

    venue.admin.flags(trading_blocked=True)
    venue.at(2024, 7, 1, 12, 0)
    blocked = venue.status()
    assert blocked["health"]["ok"] is False and "account_blocked: trading_blocked" in blocked["health"]["cause"]
    assert blocked["broker"]["blocked_by"] == "trading_blocked"
    assert blocked["next_action"]["text"] == "no orders until the account is unblocked (trading_blocked)"
    health = run_bot("health", env=venue.env)
    assert health.returncode == 1 and "account_blocked: trading_blocked" in health.stdout

    venue.process.send_signal(signal.SIGTERM)
    venue.process.wait(timeout=10)
    down = run_bot("status", env=venue.env)
    assert down.returncode == 0, down.stderr
    assert "broker: unreachable" in down.stdout and "from the ledger and the heartbeat only" in down.stdout
    assert "position: the bot's orders hold 0 IWM" in down.stdout
    assert "last decision: " in down.stdout
    down_json = json.loads(run_bot("status", "--json", env=venue.env).stdout)
    assert down_json["broker"]["reachable"] is False
    assert down_json["ledger"]["score"] == done["ledger"]["score"]
    assert SECRET not in down.stdout + down.stderr


def test_status_without_a_ledger_says_what_to_do(tmp_path: Path) -> None:
    shown = run_bot("status", env=clean_environment(BOT_DATA_DIR=str(tmp_path / "none")))
    assert shown.returncode == 2
    assert shown.stderr.startswith("error: no ledger at ") and "start `bot run` first" in shown.stderr


def check_report_vs_backtest(venue: Venue) -> None:
    """`bot report --vs-backtest`: the season just traded, replayed on the exchange's bars, fill for fill."""
    shown = run_bot("report", "--vs-backtest", "--json", env=venue.env)
    assert shown.returncode == 0, shown.stderr
    versus = json.loads(shown.stdout)["vs_backtest"]
    live_fills = {(f["side"], f["session"]): f for f in versus["fills"]}
    orders = {o.side.value if hasattr(o.side, "value") else str(o.side): o for o in venue.admin.orders()}
    assert set(live_fills) == {("buy", "2023-12-14"), ("sell", "2024-06-28")}
    for (side, _), fill in live_fills.items():
        assert fill["live_price"] == float(orders[side].filled_avg_price)  # the exchange's own fill
        assert fill["backtest_price"] == fill["live_price"] and fill["slippage_bps"] == 0.0
        assert fill["slippage_dollars"] == 0.0
    assert versus["decisions_that_differ"] == []
    text = run_bot("report", "--vs-backtest", env=venue.env).stdout
    assert "Decisions: the same on every session both decided." in text
