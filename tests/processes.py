"""Running the installed commands as a user would, with only the settings a test gives them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ISOLATED_PREFIXES = ("APCA_", "STRATEGY_", "BOT_", "LOG_", "ALLOW_LIVE")


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any bot setting, plus ``settings``."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(ISOLATED_PREFIXES)}
    return {**inherited, **settings}


def start_exchange(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """``bot exchange --scenario breakout ARGS`` in its own process; returns it and its base URL once ready.

    Alpaca's 200 requests a minute are per wall minute; an accelerated replay passes a day in a fraction of a
    second, so these exchanges run without the limit unless ARGS ask for one.
    """
    limit = [] if "--rate-limit" in args else ["--rate-limit", "0"]
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "exchange", "--scenario", "breakout", *limit, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env or clean_environment(),
    )
    assert process.stdout is not None
    ready = json.loads(process.stdout.readline())
    assert ready["event"] == "exchange_ready"
    return process, str(ready["trading_url"])


def run_bot(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``bot ARGS`` to completion, as a user runs it."""
    command = [sys.executable, "-m", "bot", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, check=False)
