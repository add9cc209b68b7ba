"""Every setting is documented in .env.example and the README, and every logged event in the README."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import AlpacaSettings, RuntimeSettings, StrategySettings, _variable_name

ROOT = Path(__file__).resolve().parents[1]


def variables() -> list[str]:
    return [
        _variable_name(model, field)
        for model in (StrategySettings, AlpacaSettings, RuntimeSettings)
        for field in model.model_fields
    ]


def test_every_setting_is_in_env_example_and_readme() -> None:
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    for name in variables():
        assert re.search(rf"^{name}=", example, re.M), f"{name} missing from .env.example"
        assert f"`{name}`" in readme, f"{name} missing from the README's configuration table"


def test_every_logged_event_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    source = "\n".join(p.read_text() for p in (ROOT / "bot").rglob("*.py"))
    events = set(re.findall(r'(?:log|self\.log)\.(?:info|warning|error)\(\s*"([a-z_]+)"', source))
    events |= set(re.findall(r'_warn_once\([^,]+,\s*"([a-z_]+)"', source))
    assert {"startup", "signal", "fill", "pnl", "trade_closed", "retry", "error", "shutdown"} <= events
    for event in events:
        assert f"`{event}`" in readme, f"log event {event} is not documented in the README"
