"""Configured keys never appear in any log line, report, file or error the bot produces."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.local_exchange.faults import parse_faults
from bot.logs import configure_logging
from bot.market.scenarios import build_scenario
from tests.live_harness import harness
from tests.processes import clean_environment, run_bot

KEY = "PKCANARYKEY0123456789"
SECRET = "sk-canary-secret-4d9a7c0e5b1f"


def bot(*args: str, env: dict[str, str]) -> str:
    done = run_bot(*args, env=env)
    return done.stdout + done.stderr


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield clean_environment(
        APCA_API_KEY_ID=KEY,
        APCA_API_SECRET_KEY=SECRET,
        BOT_DATA_DIR=str(tmp_path / "data"),
        LOG_FORMAT="json",
        BOT_RETRY_MAX_SECONDS="0.5",
    )


def assert_clean(text: str) -> None:
    assert KEY not in text
    assert SECRET not in text


def test_outputs_and_files_of_every_command_hold_no_key(env: dict[str, str], tmp_path: Path) -> None:
    produced = [
        bot("check", env={**env, "APCA_API_BASE_URL": "http://127.0.0.1:9", "APCA_API_DATA_URL": "http://127.0.0.1:9"}),
        bot(
            "run",
            "--once",
            env={**env, "APCA_API_BASE_URL": "http://127.0.0.1:9", "APCA_API_DATA_URL": "http://127.0.0.1:9"},
        ),
        bot("check", env={**env, "APCA_API_KEY_ID": f" {KEY}", "APCA_API_SECRET_KEY": f"{SECRET} "}),
        bot("run", env={**env, "STRATEGY_BREAKOUT_LEVEL": SECRET}),
        bot(
            "backtest",
            "--source",
            "alpaca",
            "--start",
            "2024-01-02",
            "--end",
            "2024-01-05",
            env={**env, "APCA_API_DATA_URL": "http://127.0.0.1:9"},
        ),
        bot(
            "demo", "--scenario", "breakout", "--start", "2023-12-11", "--end", "2023-12-18", "--speed", "0.2", env=env
        ),
        bot("report", "--json", env=env),
    ]
    for text in produced:
        assert_clean(text)
    assert "STRATEGY_BREAKOUT_LEVEL" in produced[3]  # a bad value is quoted back, except a secret's
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert_clean(path.read_bytes().decode("latin-1"))


def test_logs_under_faults_and_retries_hold_no_key(tmp_path: Path) -> None:
    frames = build_scenario("breakout")
    with harness(
        tmp_path,
        frames,
        start=date(2023, 12, 11),
        end=date(2023, 12, 20),
        faults=parse_faults("500:0.1,reset:0.05,429:0.05:retry_after=0"),
    ) as h:
        settings = h.settings()
        alpaca = settings.alpaca.model_copy(update={"key_id": SecretStr(KEY), "secret_key": SecretStr(SECRET)})
        configure_logging(secrets=(KEY, SECRET), stream=h.log_stream)
        h.run(h.trader(Settings(settings.strategy, alpaca, settings.runtime)))
        assert any('"event": "retry"' in line for line in h.log_lines())
        assert_clean(h.log_stream.getvalue())
