"""`bot run`, `report` and `health` against what a real account throws at them: revoked keys, someone else's
ledger, the demo's ledger, and a pass that cannot trade."""

from __future__ import annotations

import json
import os
import signal
import stat
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests

from bot.ledger import Ledger
from tests.processes import clean_environment, run_bot, start_exchange

KEY, SECRET = "PKVENUE", "venue-secret-91c3e0"


@pytest.fixture
def exchange(tmp_path: Path) -> Iterator[str]:
    process, url = start_exchange("--start", "2023-12-11", "--end", "2023-12-15", "--speed", "60")
    yield url
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def settings(tmp_path: Path, url: str, secret: str = SECRET) -> dict[str, str]:
    return clean_environment(
        BOT_DATA_DIR=str(tmp_path / "data"),
        LOG_FORMAT="json",
        APCA_API_KEY_ID=KEY,
        APCA_API_SECRET_KEY=secret,
        APCA_API_BASE_URL=url,
        APCA_API_DATA_URL=url,
    )


def test_revoked_keys_stop_the_bot_with_exit_2_naming_the_variables(tmp_path: Path, exchange: str) -> None:
    assert run_bot("run", "--once", env=settings(tmp_path, exchange)).returncode == 0
    revoked = run_bot("run", "--once", env=settings(tmp_path, exchange, secret="revoked-secret-000000"))
    assert revoked.returncode == 2
    assert "APCA_API_KEY_ID and APCA_API_SECRET_KEY" in revoked.stderr and "HTTP 401" in revoked.stderr
    assert "Traceback" not in revoked.stderr
    assert "revoked-secret-000000" not in revoked.stdout + revoked.stderr and SECRET not in revoked.stderr


def test_run_refuses_the_demos_ledger_and_another_accounts(tmp_path: Path, exchange: str) -> None:
    env = settings(tmp_path, exchange)
    ledger_file = tmp_path / "data" / "ledger.sqlite"
    ledger_file.parent.mkdir(parents=True)
    demo = Ledger(ledger_file)
    demo.remember(demo=True)
    demo.close()
    refused = run_bot("run", "--once", env=env)
    assert refused.returncode == 2 and "is the demo's" in refused.stderr and "BOT_DATA_DIR" in refused.stderr
    ledger_file.unlink()
    other = Ledger(ledger_file)
    other.remember(account_id="11111111-2222-3333-4444-555555555555", account_url="https://paper-api.alpaca.markets")
    other.close()
    refused = run_bot("run", "--once", env=env)
    assert refused.returncode == 2
    assert "belongs to account 11111111-2222-3333-4444-555555555555" in refused.stderr
    report = run_bot("report", env=env)
    assert report.returncode == 2 and "was written against https://paper-api.alpaca.markets" in report.stderr


def test_run_sets_no_shorting_on_the_account(tmp_path: Path, exchange: str) -> None:
    once = run_bot("run", "--once", env=settings(tmp_path, exchange))
    configured = [json.loads(line) for line in once.stdout.splitlines() if "account_configured" in line]
    assert configured and configured[0]["no_shorting"] is True and configured[0]["changed"] is True
    again = run_bot("run", "--once", env=settings(tmp_path, exchange))
    assert [json.loads(line)["changed"] for line in again.stdout.splitlines() if "account_configured" in line] == [
        False
    ]


def test_health_fails_with_the_cause_while_the_bot_cannot_trade(tmp_path: Path) -> None:
    env = clean_environment(BOT_DATA_DIR=str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    now = datetime.now(UTC).isoformat()
    beat = {"at": now, "state": "ok", "last_ok_at": now, "problems": {"account_blocked": "trading_blocked"}}
    (tmp_path / "data" / "heartbeat.json").write_text(json.dumps(beat))
    health = run_bot("health", env=env)
    assert health.returncode == 1 and "account_blocked: trading_blocked" in health.stdout
    (tmp_path / "data" / "heartbeat.json").write_text(json.dumps({**beat, "problems": {}}))
    assert run_bot("health", env=env).returncode == 0


def test_a_second_bot_on_the_same_data_directory_is_refused_naming_the_holder(tmp_path: Path, exchange: str) -> None:
    from bot.instance_lock import InstanceLock

    with InstanceLock(tmp_path / "data"):  # the first bot, alive in this process
        second = run_bot("run", "--once", env=settings(tmp_path, exchange))
    assert second.returncode == 2
    assert f"is in use by another bot (pid {os.getpid()})" in second.stderr and "Traceback" not in second.stderr
    assert run_bot("run", "--once", env=settings(tmp_path, exchange)).returncode == 0  # the lock went with it


def test_local_files_are_private(tmp_path: Path, exchange: str) -> None:
    assert run_bot("run", "--once", env=settings(tmp_path, exchange)).returncode == 0
    data = tmp_path / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("ledger.sqlite", "heartbeat.json"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name


@pytest.mark.parametrize("damage", ["corrupt-ledger", "heartbeat-is-a-directory", "data-dir-under-a-file"])
def test_broken_local_files_stop_the_bot_before_any_order_with_exit_2(
    tmp_path: Path, exchange: str, damage: str
) -> None:
    env = settings(tmp_path, exchange)
    data = tmp_path / "data"
    data.mkdir()
    if damage == "corrupt-ledger":
        (data / "ledger.sqlite").write_bytes(b"this is not a database" * 100)
    elif damage == "heartbeat-is-a-directory":
        (data / "heartbeat.json").mkdir()
    else:
        (tmp_path / "a-file").write_text("")
        env["BOT_DATA_DIR"] = str(tmp_path / "a-file" / "data")
    result = run_bot("run", "--once", env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    orders = requests.get(f"{exchange}/_exchange/accounts/{KEY}", timeout=5)
    assert orders.status_code == 404 or orders.json()["orders"] == []  # nothing was sent


def test_a_corrupt_ledger_is_rebuilt_from_the_broker_and_the_season_ends_as_the_backtest(tmp_path: Path) -> None:
    from decimal import Decimal

    from bot.backtest.engine import run_backtest
    from bot.market.scenarios import build_scenario
    from bot.report import ledger_scorecard
    from bot.score_output import scorecard_json
    from tests.live_harness import KEY_ID, SECRET, harness

    frames = build_scenario("breakout")
    start, end = date(2023, 12, 1), date(2024, 7, 3)
    with harness(tmp_path, frames, start=start, end=end) as h:
        first = h.trader()
        h.run(first, end=date(2024, 3, 1))
        before = [(f.client_order_id, f.qty, f.price, f.benchmark_price) for f in first.ledger.fills()]
        first.ledger.close()
        ledger_file = h.data_dir / "ledger.sqlite"
        for suffix in ("-wal", "-shm"):
            Path(f"{ledger_file}{suffix}").unlink(missing_ok=True)
        ledger_file.write_bytes(b"garbage" * 500)
        env = clean_environment(
            APCA_API_KEY_ID=KEY_ID,
            APCA_API_SECRET_KEY=SECRET,
            APCA_API_BASE_URL=h.exchange.url,
            APCA_API_DATA_URL=h.exchange.url,
            BOT_DATA_DIR=str(h.data_dir),
        )
        refused = run_bot("report", env=env)
        assert refused.returncode == 2 and "bot reconcile --rebuild" in refused.stderr
        rebuilt = run_bot("reconcile", "--rebuild", env=env)
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert json.loads(rebuilt.stdout.splitlines()[-1])["orders"] == 1
        assert list(h.data_dir.glob("ledger.sqlite.replaced-*"))  # the broken file is kept, not deleted
        second = h.trader()
        assert [(f.client_order_id, f.qty, f.price, f.benchmark_price) for f in second.ledger.fills()] == before
        assert second.ledger.meta().start_equity == 100000
        h.run(second, start=date(2024, 3, 4))
        orders = sorted(o.client_order_id for o in h.orders())
        live = scorecard_json(ledger_scorecard(second.ledger, second.params))
    assert orders == ["brk-IWM-2024-entry-1", "brk-IWM-2024-exit-1"]
    expected = run_backtest(frames, second.params, cash=Decimal(100000), start=start, end=end).scorecard
    assert live["trades"] == scorecard_json(expected)["trades"]
