"""A bad input stops `bot run` before anything happens: exit 2, a message naming the input, no order, no file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.domain import NEW_YORK
from bot.local_exchange.clock import ManualClock
from bot.local_exchange.server import LocalExchange
from bot.market.scenarios import build_scenario
from tests.admin import Admin
from tests.test_config import BAD_SETTINGS, SECRET

KEY = "PKBADINPUT"


@pytest.fixture(scope="module")
def exchange() -> Iterator[LocalExchange]:
    clock = ManualClock(datetime(2023, 12, 13, 20, tzinfo=NEW_YORK))  # a breakout evening: a bot would buy
    with LocalExchange(build_scenario("breakout"), clock=clock) as ex:
        yield ex


@pytest.mark.parametrize(("env", "names", "allowed"), BAD_SETTINGS, ids=[next(iter(c[0])) for c in BAD_SETTINGS])
def test_bad_setting_stops_run_before_any_order_or_write(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    exchange: LocalExchange,
    env: dict[str, str],
    names: str,
    allowed: str,
) -> None:
    data_dir = tmp_path / "ledger-here"
    monkeypatch.setenv("BOT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("APCA_API_KEY_ID", KEY)
    monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET)
    monkeypatch.setenv("APCA_API_BASE_URL", exchange.url)
    monkeypatch.setenv("APCA_API_DATA_URL", exchange.url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["run", "--once"]) == 2
    out, err = capsys.readouterr()
    assert names in err and allowed in err
    assert out == ""
    assert SECRET not in err
    assert not data_dir.exists()
    assert Admin(exchange.url, KEY).orders() == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["backtest", "--data", "missing-dir"], "missing-dir: data directory not found"),
        (["backtest", "--scenario", "breakout", "--cash", "-5"], "must be a positive number"),
        (["backtest", "--scenario", "breakout", "--start", "2024-02-30"], "is not a date"),
        (["demo", "--data", "x"], "needs --start and --end"),
        (["exchange", "--scenario", "breakout", "--faults", "503:2"], "a rate is between 0 and 1"),
        (["exchange", "--scenario", "breakout", "--faults", "503"], "give a rate"),
        (["exchange", "--scenario", "breakout", "--port", "70000"], "--port 70000"),
        (["exchange", "--data", "nowhere"], "--data nowhere: not a directory"),
        (["exchange", "--scenario", "breakout", "--host", "0.0.0.0"], "add --allow-remote"),
        (["exchange", "--scenario", "breakout", "--rate-limit", "-1"], "--rate-limit -1"),
    ],
)
def test_bad_arguments_exit_2_with_the_reason(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    try:
        code = main(args)
    except SystemExit as exited:  # argparse rejects malformed values itself
        code = int(exited.code or 0)
    assert code == 2
    assert expected in capsys.readouterr().err
