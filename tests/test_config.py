"""Bad settings give one clear error naming the variable, the value and what is allowed; exit 2."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_settings
from bot.errors import ConfigError
from strategies.params import Allocation, FixedNotional, FixedQuantity, Trigger

SECRET = "sk-super-secret-value-42"

BAD_SETTINGS = [
    ({"STRATEGY_BREAKOUT_LEVEL": "abc"}, "STRATEGY_BREAKOUT_LEVEL='abc'", "number"),
    ({"STRATEGY_BREAKOUT_LEVEL": "-5"}, "STRATEGY_BREAKOUT_LEVEL='-5'", "greater than 0"),
    ({"STRATEGY_BREAKOUT_LEVEL": "0"}, "STRATEGY_BREAKOUT_LEVEL='0'", "greater than 0"),
    ({"STRATEGY_BREAKOUT_LEVEL": "1e9"}, "STRATEGY_BREAKOUT_LEVEL='1e9'", "less than or equal"),
    ({"STRATEGY_TRIGGER": "open"}, "STRATEGY_TRIGGER='open'", "'close' or 'intraday'"),
    ({"STRATEGY_CONFIRM_DAYS": "0"}, "STRATEGY_CONFIRM_DAYS='0'", "greater than or equal to 1"),
    ({"STRATEGY_CONFIRM_DAYS": "2.5"}, "STRATEGY_CONFIRM_DAYS='2.5'", "integer"),
    ({"STRATEGY_BUFFER_PCT": "-1"}, "STRATEGY_BUFFER_PCT='-1'", "greater than or equal to 0"),
    ({"STRATEGY_REQUIRE_CROSS": "maybe"}, "STRATEGY_REQUIRE_CROSS='maybe'", "boolean"),
    ({"STRATEGY_ENTRY_START": "2024-13-01"}, "STRATEGY_ENTRY_START='2024-13-01'", "date"),
    ({"STRATEGY_EXIT_DATE": "tomorrow"}, "STRATEGY_EXIT_DATE='tomorrow'", "date"),
    ({"STRATEGY_ALLOCATION": "1.5"}, "STRATEGY_ALLOCATION='1.5'", "less than or equal to 1"),
    ({"STRATEGY_ALLOCATION": "0"}, "STRATEGY_ALLOCATION='0'", "greater than 0"),
    ({"STRATEGY_NOTIONAL": "-100"}, "STRATEGY_NOTIONAL='-100'", "greater than 0"),
    ({"STRATEGY_QUANTITY": "ten"}, "STRATEGY_QUANTITY='ten'", "integer"),
    ({"STRATEGY_SYMBOL": "iwm!"}, "STRATEGY_SYMBOL='iwm!'", "pattern"),
    ({"STRATEGY_SYMBOL": "SPY"}, "STRATEGY_SYMBOL and STRATEGY_BENCHMARK must differ", ""),
    ({"STRATEGY_NOTIONAL": "1000", "STRATEGY_QUANTITY": "5"}, "at most one of STRATEGY_NOTIONAL", ""),
    (
        {"STRATEGY_ENTRY_START": "2024-02-01", "STRATEGY_ENTRY_END": "2024-01-01"},
        "STRATEGY_ENTRY_END is before STRATEGY_ENTRY_START",
        "",
    ),
    (
        {"STRATEGY_ENTRY_START": "2024-02-01", "STRATEGY_EXIT_DATE": "2024-01-15"},
        "STRATEGY_EXIT_DATE must be after STRATEGY_ENTRY_START",
        "",
    ),
    ({"STRATEGY_BREAKOUT_LEVL": "200"}, "STRATEGY_BREAKOUT_LEVL is not a known setting", "STRATEGY_BREAKOUT_LEVEL"),
    ({"APCA_API_BASE_URL": "https://api.alpaca.markets"}, "LIVE trading endpoint", "ALLOW_LIVE_TRADING=true"),
    ({"APCA_API_BASE_URL": "http://example.com"}, "APCA_API_BASE_URL='http://example.com'", "loopback"),
    ({"APCA_API_BASE_URL": "http://10.0.0.5:8080"}, "APCA_API_BASE_URL='http://10.0.0.5:8080'", "loopback"),
    ({"APCA_API_BASE_URL": "ftp://paper"}, "APCA_API_BASE_URL='ftp://paper'", "http(s) URL"),
    ({"APCA_API_DATA_URL": "https://data.alpaca.markets/v2"}, "APCA_API_DATA_URL=", "adds /v2 itself"),
    ({"APCA_API_KEY_ID": " PKSTRAY"}, "APCA_API_KEY_ID: has leading or trailing whitespace", ""),
    ({"APCA_API_SECRET_KEY": SECRET + "\n"}, "APCA_API_SECRET_KEY: has leading or trailing whitespace", ""),
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT='xml'", "'json', 'console' or 'auto'"),
    ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD'", "'DEBUG'"),
    ({"BOT_POLL_SECONDS": "0"}, "BOT_POLL_SECONDS='0'", "greater than 0"),
    ({"ALLOW_LIVE_TRADING": "perhaps"}, "ALLOW_LIVE_TRADING='perhaps'", "boolean"),
]


@pytest.mark.parametrize(("env", "names", "allowed"), BAD_SETTINGS, ids=[next(iter(c[0])) for c in BAD_SETTINGS])
def test_bad_setting_names_variable_value_and_what_is_allowed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str], names: str, allowed: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["backtest", "--scenario", "breakout", "--json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert names in err
    assert allowed in err
    assert SECRET not in err


def test_secret_values_are_never_quoted_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APCA_API_SECRET_KEY", f" {SECRET}")
    monkeypatch.setenv("APCA_API_KEY_ID", f"{SECRET} ")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert SECRET not in str(caught.value)
    assert "APCA_API_SECRET_KEY" in str(caught.value)


def test_every_problem_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATEGY_BREAKOUT_LEVEL", "abc")
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "STRATEGY_BREAKOUT_LEVEL" in str(caught.value)
    assert "LOG_LEVEL" in str(caught.value)


def test_defaults_reproduce_the_article() -> None:
    params = load_settings().strategy.params()
    assert (params.symbol, params.benchmark, params.level) == ("IWM", "SPY", 200.0)
    assert params.trigger is Trigger.CLOSE
    assert params.require_cross is True
    assert params.confirm_days == 1
    assert params.sizing == Allocation(Decimal("0.95"))


def test_dotenv_file_is_read(isolated_environment: Path) -> None:
    (isolated_environment / ".env").write_text("STRATEGY_BREAKOUT_LEVEL=210\nSTRATEGY_SYMBOL=iwm\n")
    strategy = load_settings().strategy
    assert strategy.breakout_level == 210.0
    assert strategy.symbol == "IWM"


def test_mistyped_variable_in_dotenv_is_refused(isolated_environment: Path) -> None:
    (isolated_environment / ".env").write_text("STRATEGY_CONFIRMDAYS=2\n")
    with pytest.raises(ConfigError, match="STRATEGY_CONFIRMDAYS is not a known setting"):
        load_settings()


def test_sizing_alternatives(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATEGY_NOTIONAL", "25000")
    assert load_settings().strategy.sizing() == FixedNotional(Decimal("25000"))
    monkeypatch.delenv("STRATEGY_NOTIONAL")
    monkeypatch.setenv("STRATEGY_QUANTITY", "7")
    assert load_settings().strategy.sizing() == FixedQuantity(7)


def test_live_endpoint_allowed_only_with_explicit_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APCA_API_BASE_URL", "https://api.alpaca.markets")
    monkeypatch.setenv("ALLOW_LIVE_TRADING", "true")
    assert load_settings().alpaca.is_live


def test_plain_http_is_accepted_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APCA_API_BASE_URL", "http://127.0.0.1:8700/")
    monkeypatch.setenv("APCA_API_DATA_URL", "http://localhost:8700")
    alpaca = load_settings().alpaca
    assert alpaca.base_url == "http://127.0.0.1:8700"
    assert alpaca.data_url == "http://localhost:8700"


def test_redacted_settings_hide_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", "PKVISIBLE")
    monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET)
    shown = repr(load_settings().redacted())
    assert SECRET not in shown
    assert "PKVISIBLE" not in shown
    assert "'APCA_API_SECRET_KEY': 'set'" in shown


def test_commands_needing_keys_say_which_are_missing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 2
    assert "APCA_API_KEY_ID and APCA_API_SECRET_KEY must be set" in capsys.readouterr().err
