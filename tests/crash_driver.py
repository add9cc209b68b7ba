"""Kill the real bot with SIGKILL at seeded random moments of a season and restart it each time.

The exchange runs as its own process on a manual clock that this driver moves through every session's wake
moments; after each move it waits until the bot's heartbeat shows it finished a pass at that moment. At the
chosen moments it waits a random few milliseconds (so the kill lands anywhere: mid-request, between an order's
submission and its fill being recorded, inside a ledger write) and sends SIGKILL.
"""

from __future__ import annotations

import json
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path

import requests

from bot.domain import NEW_YORK
from bot.market.calendar import nyse_sessions
from tests.processes import clean_environment, start_exchange

KEY, SECRET = "PKCRASHTEST", "crash-secret-7e1f0a"
WAKES = (
    clock_time(8, 0),
    clock_time(9, 31),
    clock_time(12, 0),
    clock_time(15, 40),
    clock_time(16, 5),
    clock_time(19, 5),
    clock_time(23, 0),
)
# The moments where a crash hurts most: the entry decision, the entry fill, the exit order and its fill.
CRITICAL = (
    datetime(2023, 12, 13, 19, 5, tzinfo=NEW_YORK),
    datetime(2023, 12, 14, 9, 31, tzinfo=NEW_YORK),
    datetime(2024, 6, 27, 19, 5, tzinfo=NEW_YORK),
    datetime(2024, 6, 28, 16, 5, tzinfo=NEW_YORK),
)


@dataclass
class CrashReport:
    kills: int = 0
    exchange_restarts: int = 0
    kill_moments: list[str] = field(default_factory=list)
    orders: list[dict[str, object]] = field(default_factory=list)
    output: str = ""


def _env(data_dir: Path, url: str) -> dict[str, str]:
    return clean_environment(
        APCA_API_KEY_ID=KEY,
        APCA_API_SECRET_KEY=SECRET,
        APCA_API_BASE_URL=url,
        APCA_API_DATA_URL=url,
        BOT_DATA_DIR=str(data_dir),
        BOT_POLL_SECONDS="0.01",
        LOG_FORMAT="json",
        BOT_RETRY_MAX_SECONDS="5",
    )


def _heartbeat_time(data_dir: Path) -> str:
    try:
        return str(json.loads((data_dir / "heartbeat.json").read_text()).get("broker_time", ""))
    except (OSError, ValueError):
        return ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_exchange(
    work: Path, port: int, start: date, end: date, faults: str | None
) -> tuple[subprocess.Popen[str], str]:
    return start_exchange(
        *(["--faults", faults] if faults else []),
        "--start",
        start.isoformat(),
        "--end",
        end.isoformat(),
        "--manual-clock",
        "--port",
        str(port),
        "--state",
        str(work / "exchange.state"),
    )


def run_season_with_kills(
    work: Path,
    *,
    kills: int,
    seed: int,
    exchange_restarts: int = 0,
    start: date = date(2023, 12, 1),
    end: date = date(2024, 7, 3),
    faults: str | None = None,
) -> CrashReport:
    rng = random.Random(seed)
    moments = [datetime.combine(d, t, NEW_YORK) for d in nyse_sessions(start, end) for t in WAKES]
    chosen = set(rng.sample(range(len(moments)), kills - len(CRITICAL)))
    chosen |= {moments.index(m) for m in CRITICAL}
    restarts = set(rng.sample(sorted(set(range(len(moments))) - chosen), exchange_restarts))
    data_dir = work / "data"
    logs = (work / "bot.log").open("a")
    port = _free_port()
    exchange, url = _start_exchange(work, port, start, end, faults)
    report = CrashReport()
    try:
        env = _env(data_dir, url)

        def launch() -> subprocess.Popen[bytes]:
            return subprocess.Popen([sys.executable, "-m", "bot", "run"], stdout=logs, stderr=logs, env=env)

        bot = launch()
        for index, moment in enumerate(moments):
            if index in restarts:
                exchange.send_signal(signal.SIGKILL)
                exchange.wait()
                time.sleep(rng.uniform(0.1, 1.0))  # the bot meets refused connections meanwhile
                exchange, url = _start_exchange(work, port, start, end, faults)
                report.exchange_restarts += 1
            requests.post(f"{url}/_exchange/clock", json={"now": moment.isoformat()}, timeout=10).raise_for_status()
            if index in chosen:
                time.sleep(rng.uniform(0.0, 0.08))
                bot.send_signal(signal.SIGKILL)
                bot.wait()
                report.kills += 1
                report.kill_moments.append(moment.isoformat())
                bot = launch()
            deadline = time.monotonic() + 60
            while _heartbeat_time(data_dir) < moment.isoformat():
                if bot.poll() is not None:
                    raise RuntimeError(f"the bot exited with {bot.returncode} at {moment}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the bot did not reach {moment}")
                time.sleep(0.005)
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=15)
        session = requests.Session()
        session.headers.update({"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET})
        report.orders = session.get(f"{url}/v2/orders", params={"status": "all", "limit": 500}, timeout=10).json()
    finally:
        exchange.send_signal(signal.SIGTERM)
        exchange.wait(timeout=15)
        logs.close()
    report.output = (work / "bot.log").read_text()
    return report
