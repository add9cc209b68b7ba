"""Who may touch what: the rule is pure, alpaca-py is behind the adapter, settings and time have one owner each."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADAPTER = {"bot/broker/alpaca.py", "bot/broker/alpaca_data.py", "bot/broker/alpaca_transport.py"}
CONFIG = {"bot/config.py", "bot/config_sources.py"}
CLOCKS = {"bot/engine/clock.py", "bot/local_exchange/clock.py"}  # the bot's, and the simulated venue's own
WALL_TIME = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
             ("time", "time"), ("time", "monotonic"), ("time", "perf_counter"), ("time", "time_ns"),
             ("time", "monotonic_ns")}  # fmt: skip
ENVIRONMENT = {("os", "environ"), ("os", "getenv"), ("os", "putenv"), ("os", "environb")}


def sources() -> Iterator[tuple[str, ast.Module]]:
    for folder in ("bot", "strategies"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(), filename=str(path))


def imported(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def attributes(tree: ast.Module) -> set[tuple[str, str]]:
    """``name.attribute`` uses, and ``from name import attribute``."""
    found: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            found.add((node.value.id, node.attr))
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {(node.module, alias.name) for alias in node.names}
    return found


SOURCES = list(sources())


def test_the_rule_imports_only_the_standard_library_and_itself() -> None:
    outside = {
        (path, name)
        for path, tree in SOURCES
        if path.startswith("strategies/")
        for name in imported(tree)
        if name.split(".")[0] not in sys.stdlib_module_names and name.split(".")[0] != "strategies"
    }
    assert outside == set()


@pytest.mark.parametrize(
    ("what", "allowed", "breaks"),
    [
        ("alpaca-py", ADAPTER, lambda tree: any(n.split(".")[0] == "alpaca" for n in imported(tree))),
        ("the environment", CONFIG, lambda tree: bool(attributes(tree) & ENVIRONMENT)),
        ("wall time", CLOCKS, lambda tree: bool(attributes(tree) & WALL_TIME)),
    ],
    ids=["alpaca", "environment", "wall-time"],
)
def test_one_owner(what: str, allowed: set[str], breaks: Callable[[ast.Module], bool]) -> None:
    users = {path for path, tree in SOURCES if breaks(tree)}
    assert users - allowed == set(), f"{what} is used outside {sorted(allowed)}"
    assert users, f"nothing uses {what}: the check looks for the wrong names"


def test_the_checks_see_what_they_look_for() -> None:
    probe = ast.parse(
        "import os\nfrom datetime import datetime\nimport alpaca.trading\nos.environ['X']\ndatetime.now()"
    )
    assert ("os", "environ") in attributes(probe) and ("datetime", "now") in attributes(probe)
    assert "alpaca.trading" in imported(probe)


def test_the_live_loop_does_not_load_the_exchange_calendar() -> None:
    """exchange_calendars (about 8 MB) serves the backtest and the local exchange; `bot run` trades by the
    broker's calendar, so loading it would only add to the idle footprint."""

    probe = "import sys, bot.live, bot.cli; print('exchange_calendars' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "False"


DOMAIN_VALUES = {"Account", "Clock", "Order", "OrderRequest", "OrderStatus", "Position", "Session", "Side",
                 "TimeInForce"}  # fmt: skip


def test_the_domain_values_are_defined_once() -> None:
    """The bot's values live in bot/domain.py; the local exchange keeps its own venue-side records (its accounts
    and paper orders are the exchange's state, which it turns into Alpaca's JSON)."""
    defined = {
        (path, node.name)
        for path, tree in SOURCES
        if not path.startswith("bot/local_exchange/")
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and node.name in DOMAIN_VALUES
    }
    assert {name for _, name in defined} == DOMAIN_VALUES
    assert {path for path, _ in defined} == {"bot/domain.py"}


def test_the_trader_is_assembled_in_one_place() -> None:
    builders = {
        path
        for path, tree in SOURCES
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Trader"
    }
    assert builders == {"bot/app.py"}


PLANNING = {"bot/engine/planner.py", "bot/engine/plan.py", "bot/engine/plan_types.py", "bot/engine/policy.py",
            "bot/engine/mark.py", "bot/engine/schedule.py", "bot/engine/portfolio.py"}  # fmt: skip
# What does I/O or owns time: a planning module imports none of it (it is handed what a pass saw).
IO = ("sqlite3", "socket", "requests", "aiohttp", "alpaca", "structlog", "time", "bot.broker", "bot.local_exchange",
      "bot.engine.clock", "bot.logs", "bot.trader", "bot.order_desk", "bot.pnl", "bot.minute_watch")  # fmt: skip


def test_the_planning_core_does_no_io() -> None:
    reached = {
        (path, name)
        for path, tree in SOURCES
        if path in PLANNING
        for name in imported(tree)
        if any(name == io or name.startswith(io + ".") for io in IO)
    }
    assert reached == set()
    assert {path for path, _ in SOURCES} >= PLANNING  # every name is a module that exists


def test_the_backtest_runs_the_live_loop_s_cycle() -> None:
    """One engine: the backtest drives the Trader (through the composition root) and decides nothing itself."""
    engine = dict(SOURCES)["bot/backtest/engine.py"]
    assert "bot.app" in imported(engine)
    rule = {("strategies.breakout", name) for name in ("entry_decision", "exit_decision", "first_intraday_breakout")}
    # Stepping over passes applies what the plan said (Plan.quiet); it neither plans nor reads the rule.
    for driver in (engine, dict(SOURCES)["bot/backtest/quiet.py"]):
        assert not {"bot.engine.planner", "bot.engine.plan"} & imported(driver)
        assert not rule & attributes(driver)


def test_the_live_loop_keeps_pandas_and_numpy_unloaded() -> None:
    """alpaca-py imports pandas for one validator the bot never calls; `bot run` defers it (35 MB), and its data
    requests go through alpaca-py's REST client, not the alpaca.data package (which loads pandas and numpy)."""
    probe = (
        "import sys; from bot.cli import _parser; _parser(['run']); import bot.broker.alpaca, bot.trader; "
        "from bot.broker.deferred_pandas import pandas_loaded; print(pandas_loaded(), 'numpy' in sys.modules); "
        "import pandas; print(pandas.DataFrame({'a': [1, 2]}).shape, pandas_loaded())"
    )
    seen = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert seen.split("\n")[:2] == ["False False", "(2, 1) True"]  # and pandas itself once something asks for it
