"""Running the installed commands as a user would, with only the settings a test gives them."""

from __future__ import annotations

import os

ISOLATED_PREFIXES = ("APCA_", "STRATEGY_", "BOT_", "LOG_", "ALLOW_LIVE")


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any bot setting, plus ``settings``."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(ISOLATED_PREFIXES)}
    return {**inherited, **settings}
