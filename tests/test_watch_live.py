"""Watching a running `bot run`: /metrics checked against the ledger and the broker, the status page in headless
Chromium, and notifications to a local receiver exactly once across a SIGKILL restart."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from bot.domain import NEW_YORK
from bot.ledger import Ledger
from tests.admin import Admin
from tests.processes import clean_environment, start_exchange
from tests.receiver import Receiver

KEY, SECRET = "PKWATCHTEST", "watch-secret-2b8d4f61"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TAB_BLUE, TAB_ORANGE = (31, 119, 180), (255, 127, 14)  # matplotlib's first two line colours: position, benchmark


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(what: str, check: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class Bot:
    def __init__(self, tmp_path: Path, url: str, **settings: str) -> None:
        self.url, self.data = url, tmp_path / "data"
        self.env = clean_environment(
            APCA_API_KEY_ID=KEY,
            APCA_API_SECRET_KEY=SECRET,
            APCA_API_BASE_URL=url,
            APCA_API_DATA_URL=url,
            BOT_DATA_DIR=str(self.data),
            BOT_POLL_SECONDS="0.02",
            BOT_RETRY_MAX_SECONDS="2",
            LOG_FORMAT="json",
            **settings,
        )
        self.log = (tmp_path / "bot.log").open("a")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "bot", "run"]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=self.log, env=self.env)

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait(timeout=15)

    def beat(self) -> dict[str, Any]:
        try:
            return dict(json.loads((self.data / "heartbeat.json").read_text()))
        except (OSError, ValueError):
            return {}

    def at(self, *moment: int) -> None:
        now = datetime(*moment, tzinfo=NEW_YORK)  # type: ignore[misc]
        requests.post(f"{self.url}/_exchange/clock", json={"now": now.isoformat()}, timeout=10).raise_for_status()
        wait_for(f"a pass at {now}", lambda: self.beat().get("broker_time", "") >= now.isoformat())

    def ledger(self) -> Ledger:
        return Ledger(self.data / "ledger.sqlite")


@pytest.fixture
def exchange() -> Iterator[str]:
    process, url = start_exchange("--start", "2023-12-11", "--end", "2024-07-03", "--manual-clock")
    yield url
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_and_the_status_page_show_what_the_ledger_and_broker_hold(tmp_path: Path, exchange: str) -> None:
    port = free_port()
    bot = Bot(tmp_path, exchange, BOT_METRICS_PORT=str(port))
    bot.start()
    try:
        for moment in ((2023, 12, 13, 19, 5), (2023, 12, 14, 11, 0), (2023, 12, 15, 17), (2023, 12, 18, 17),
                       (2023, 12, 19, 17)):  # fmt: skip
            bot.at(*moment)
        metrics = scrape(port)
        ledger = bot.ledger()
        orders, fills, snapshots = ledger.orders(), ledger.fills(), ledger.snapshots()
        ledger.close()
        admin = Admin(exchange, KEY)
        account = requests.get(
            f"{exchange}/v2/account", headers={"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}, timeout=10
        ).json()
        assert metrics[("bot_position_shares", (("symbol", "IWM"),))] == float(admin.position("IWM")) > 0
        assert metrics[("bot_account_equity_dollars", ())] == pytest.approx(float(account["equity"]))
        assert metrics[("bot_orders", (("intent", "entry"), ("status", "filled")))] == len(orders) == 1
        assert metrics[("bot_fills", (("intent", "entry"),))] == len(fills) == 1
        last = snapshots[-1]
        value = metrics[("bot_position_value_dollars", (("symbol", "IWM"),))]
        assert value == pytest.approx(float(last.position_value))
        cost = last.position_qty * fills[0].price
        mine, theirs = last.position_value / cost - 1, last.benchmark_value / cost - 1
        assert metrics[("bot_open_trade_return_ratio", (("leg", "symbol"),))] == pytest.approx(float(mine))
        assert metrics[("bot_open_trade_return_ratio", (("leg", "excess"),))] == pytest.approx(float(mine - theirs))
        posts = ("bot_broker_requests_total", (("code", "200"), ("method", "POST"), ("route", "/v2/orders")))
        assert metrics[posts] == 1  # one order sent
        assert metrics[("bot_healthy", ())] == 1
        beat = bot.beat()
        assert metrics[("bot_next_decision_timestamp_seconds", ())] == pytest.approx(
            datetime.fromisoformat(beat["next_action_at"]).timestamp()
        )
        assert requests.post(f"http://127.0.0.1:{port}/", timeout=10).status_code == 405  # read-only
        page = requests.get(f"http://127.0.0.1:{port}/", timeout=10).text
        assert "<script" not in page and SECRET not in page and KEY not in page
        check_page_in_chromium(port, tmp_path, held=admin.position("IWM"))
    finally:
        bot.kill(signal.SIGTERM)


def check_page_in_chromium(port: int, tmp_path: Path, *, held: Decimal) -> None:
    assert CHROMIUM, "the status page test needs Debian's chromium (apt-get install chromium); .ci/run installs it"
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1100,1400"]  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True).stdout
    assert "healthy</strong>" in dom
    assert f"after the close on 2024-06-27: send a cls sell of {held} IWM for 2024-06-28" in dom
    assert f"<td>{held} IWM</td>" in dom and "breakout_confirmed" in dom
    shot = tmp_path / "page.png"
    subprocess.run([*flags, f"--screenshot={shot}", url], capture_output=True, timeout=120, check=True)
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    near = {
        name: sum(count for count, rgb in colours if all(abs(a - b) <= 40 for a, b in zip(rgb, ref, strict=True)))
        for name, ref in (("position", TAB_BLUE), ("benchmark", TAB_ORANGE))
    }
    assert near["position"] > 150 and near["benchmark"] > 150, f"the chart's lines did not render: {near}"


def sent_keys(data: Path) -> list[str]:
    with sqlite3.connect(data / "ledger.sqlite") as db:
        return [row[0] for row in db.execute("SELECT key FROM notifications WHERE sent_at IS NOT NULL")]


def test_notifications_arrive_once_each_across_a_sigkill_and_health_turns_are_told(
    tmp_path: Path, exchange: str
) -> None:
    receiver = Receiver(refuse_first=1)  # the first delivery fails once: the sender retries it
    notify = f"json://127.0.0.1:{receiver.port}"
    ping = f"http://127.0.0.1:{receiver.port}/ping/dms-token-5e0c2a"
    bot = Bot(tmp_path, exchange, NOTIFY_URLS=notify, BOT_PING_URL=ping)
    bot.start()
    try:
        bot.at(2023, 12, 13, 19, 5)
        bot.at(2023, 12, 14, 11, 0)
        wait_for("the entry fill's notification", lambda: any(k.startswith("1:fill:") for k in sent_keys(bot.data)))
        bot.kill()  # SIGKILL: the outbox, not memory, knows what was sent
        bot.start()
        bot.at(2024, 6, 27, 19, 5)
        bot.at(2024, 6, 28, 16, 30)
        wait_for("the trade's notifications", lambda: len(receiver.received.titles()) >= 3)
        Admin(exchange, KEY).flags(trading_blocked=True)
        bot.at(2024, 7, 1, 12, 0)
        wait_for("the unhealthy notification", lambda: "Bot unhealthy" in receiver.received.titles())
        Admin(exchange, KEY).flags(trading_blocked=False)
        bot.at(2024, 7, 1, 12, 15)  # a blocked account is looked at again a quarter of an hour later
        wait_for("healthy again", lambda: "Bot healthy again" in receiver.received.titles())
    finally:
        bot.kill(signal.SIGTERM)
        receiver.close()
    titles = receiver.received.titles()
    ledger = bot.ledger()
    fills = ledger.fills()
    ledger.close()
    entry, exit_ = fills
    assert titles == [
        f"Filled: buy {entry.qty} IWM @ {entry.price}",
        f"Filled: sell {exit_.qty} IWM @ {exit_.price}",
        titles[2],
        "Bot unhealthy",
        "Bot healthy again",
    ]
    assert titles[2].startswith("Trade closed: IWM ")
    assert receiver.received.refused == 1
    assert receiver.received.pings and all(p == "/ping/dms-token-5e0c2a" for p in receiver.received.pings)
    output = (tmp_path / "bot.log").read_text()
    assert notify not in output and "dms-token-5e0c2a" not in output and SECRET not in output
