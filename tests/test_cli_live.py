"""The installed commands end to end: demo, report, exchange, run, check and health, as a user runs them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import clean_environment, run_bot, start_exchange

KEY, SECRET = "PKCLITEST", "cli-secret-3f2a9c"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_environment(BOT_DATA_DIR=str(tmp_path / "data"), LOG_FORMAT="json")


@pytest.fixture
def exchange(env: dict[str, str]) -> Iterator[str]:
    process, url = start_exchange("--start", "2023-12-11", "--end", "2023-12-15", "--speed", "2", env=env)
    yield url
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


@pytest.mark.parametrize("speed", ["0.25", "0.002"], ids=["default-pace", "a-hundred-times-faster"])
def test_demo_then_report_tell_the_same_season_as_the_backtest(env: dict[str, str], speed: str) -> None:
    # In lockstep the replay waits for the bot at each decision point, so even a pace at which a decision window
    # lasts a few milliseconds trades the backtest's days.
    demo = run_bot("demo", "--scenario", "breakout", "--speed", speed, env=env)
    assert demo.returncode == 0, demo.stderr
    events = [json.loads(line) for line in demo.stdout.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events if e["event"] in ("fill", "trade_closed")] == ["fill", "fill", "trade_closed"]
    assert "Verdict:" in demo.stdout
    report = run_bot("report", "--demo", "--json", env=env)  # the demo keeps its own ledger
    assert report.returncode == 0, report.stderr
    backtest = run_bot(
        "backtest", "--scenario", "breakout", "--start", "2023-12-01", "--end", "2024-07-03", "--json", env=env
    )
    scored = json.loads(report.stdout)
    assert scored.pop("changed_outside_the_bot") == []
    replayed = json.loads(backtest.stdout)
    assert replayed.pop("provenance")["data"]["kind"] == "scenario" and replayed.pop("no_trade_reason") is None
    assert scored == replayed
    [trade] = scored["trades"]  # dividends came through the exchange's corporate actions, as the scenario's
    assert trade["dividends_per_share"] > 0 and trade["benchmark"]["dividends_per_share"] > 0
    assert KEY not in demo.stdout + demo.stderr


def test_run_trades_against_the_exchange_and_stops_cleanly_on_sigterm(
    env: dict[str, str], exchange: str, tmp_path: Path
) -> None:
    run_env = {
        **env,
        "APCA_API_KEY_ID": KEY,
        "APCA_API_SECRET_KEY": SECRET,
        "APCA_API_BASE_URL": exchange,
        "APCA_API_DATA_URL": exchange,
        "BOT_POLL_SECONDS": "0.02",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=run_env
    )
    deadline = time.monotonic() + 60
    heartbeat = tmp_path / "data" / "heartbeat.json"
    while not heartbeat.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    health = run_bot("health", env=run_env)
    assert health.returncode == 0, health.stdout
    while time.monotonic() < deadline:  # until the 13th's breakout and the next open have gone by
        beat = json.loads(heartbeat.read_text())
        if beat.get("broker_time", "") >= "2023-12-14T10:00":
            break
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert time.monotonic() - started < 10
    events = [json.loads(line) for line in out.splitlines()]
    names = [e["event"] for e in events]
    assert names[0] == "startup" and names[-1] == "shutdown"
    assert events[-1]["reason"] == "SIGTERM"
    assert "order_submitted" in names and "fill" in names
    assert SECRET not in out + err and KEY not in out + err
    check = run_bot("check", env=run_env)
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout)["account_status"] == "ACTIVE"


def test_run_once_evaluates_and_exits(env: dict[str, str], exchange: str) -> None:
    run_env = {
        **env,
        "APCA_API_KEY_ID": KEY,
        "APCA_API_SECRET_KEY": SECRET,
        "APCA_API_BASE_URL": exchange,
        "APCA_API_DATA_URL": exchange,
    }
    once = run_bot("run", "--once", env=run_env)
    assert once.returncode == 0, once.stderr
    names = [json.loads(line)["event"] for line in once.stdout.splitlines()]
    assert names[0] == "startup" and "reconciled" in names and names[-1] == "shutdown"


def test_check_fails_with_the_reason_when_the_broker_is_unreachable(env: dict[str, str]) -> None:
    unreachable = {
        **env,
        "APCA_API_KEY_ID": KEY,
        "APCA_API_SECRET_KEY": SECRET,
        "APCA_API_BASE_URL": "http://127.0.0.1:9",
        "APCA_API_DATA_URL": "http://127.0.0.1:9",
        "BOT_RETRY_MAX_SECONDS": "0.5",
    }
    check = run_bot("check", env=unreachable)
    assert check.returncode == 3
    assert "broker unavailable" in check.stderr
    assert SECRET not in check.stderr


def test_health_fails_without_a_fresh_heartbeat(env: dict[str, str], tmp_path: Path) -> None:
    assert run_bot("health", env=env).returncode == 1
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "heartbeat.json").write_text(json.dumps({"at": "2020-01-01T00:00:00+00:00"}))
    stale = run_bot("health", env=env)
    assert stale.returncode == 1 and "unhealthy" in stale.stdout


def test_report_without_a_ledger_says_what_to_do(env: dict[str, str]) -> None:
    report = run_bot("report", env=env)
    assert report.returncode == 2
    assert "no ledger" in report.stderr


def test_exchange_rejects_bad_arguments(env: dict[str, str]) -> None:
    bad_faults = run_bot("exchange", "--scenario", "breakout", "--faults", "boom:0.1", env=env)
    assert bad_faults.returncode == 2 and "unknown kind 'boom'" in bad_faults.stderr
    bad_speed = run_bot("exchange", "--scenario", "breakout", "--speed", "-1", env=env)
    assert bad_speed.returncode == 2 and "--speed" in bad_speed.stderr
