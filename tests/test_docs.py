"""Every setting is documented in .env.example and the README, and every logged event, with its fields, in the
README."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.config import AlpacaSettings, RuntimeSettings, StrategySettings, _variable_name
from tests.processes import clean_environment, run_bot

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
    events |= set(re.findall(r'\bEvent\(\s*"([a-z_]+)"', source))  # the planner's events, logged by the cycle
    assert {"startup", "signal", "fill", "pnl", "trade_closed", "retry", "error", "shutdown"} <= events
    for event in events:
        assert f"`{event}`" in readme, f"log event {event} is not documented in the README"


COMMON_FIELDS = {"event", "level", "timestamp", "run_id"}


def documented_fields() -> dict[str, set[str]]:
    """The README's log table: each event and the field names its fields column spells in backticks."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Log events", 1)[1].split("\n## ", 1)[0]
    fields = {}
    for row in re.findall(r"^\| `([a-z_]+)` \|[^|]*\|(.*)\|$", table, re.M):
        event, column = row
        # A field is a backticked identifier not inside parentheses (those list its values or variables).
        bare = re.sub(r"\([^)]*\)", "", column)
        fields[event] = set(re.findall(r"`([a-z_]+)`", bare))
    return fields


def test_the_events_a_season_logs_carry_the_fields_the_readme_names_with_one_type_each(tmp_path: Path) -> None:
    demo = run_bot(
        "demo", "--scenario", "breakout", "--speed", "0.002",
        env=clean_environment(BOT_DATA_DIR=str(tmp_path / "data"), LOG_FORMAT="json"),
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    events = [json.loads(line) for line in demo.stdout.splitlines() if line.startswith("{")]
    documented = documented_fields()
    types: dict[tuple[str, str], set[str]] = {}
    for event in events:
        name = event["event"]
        assert name in documented, f"{name} is not in the README's log table"
        extra = set(event) - COMMON_FIELDS - documented[name]
        assert not extra, f"{name} logs {sorted(extra)}, which the README does not name"
        for field, value in event.items():
            if value is not None:
                types.setdefault((name, field), set()).add(type(value).__name__)
    mixed = {key: kinds for key, kinds in types.items() if len(kinds) > 1}
    assert mixed == {}, f"fields logged with more than one type: {mixed}"
    seen = {event["event"] for event in events}
    assert {"startup", "signal", "order_submitted", "fill", "pnl", "trade_closed", "shutdown"} <= seen
