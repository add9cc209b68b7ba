"""Where settings come from (``.env`` and the environment) as the user wrote them, and keeping secrets out of text.

Errors quote values back to the user; these helpers make sure no secret value is among them.
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.errors import ConfigError

ENV_FILE = ".env"
# Values never quoted or logged: the keys, and the notification and ping URLs (they carry tokens).
SECRET_VARIABLES = frozenset({"APCA_API_KEY_ID", "APCA_API_SECRET_KEY", "NOTIFY_URLS", "BOT_PING_URL"})
MIN_SECRET_LENGTH = 6  # shorter "secrets" (test placeholders) would scrub ordinary words
DEFAULT_DATA_DIR = Path("var")
DEFAULT_HEARTBEAT_MAX_AGE_SECONDS = 300.0
MAX_HEARTBEAT_MAX_AGE_SECONDS = 86_400


def raw_sources() -> dict[str, str]:
    """The raw values as the user wrote them, to quote back in errors (secrets are never quoted)."""
    values: dict[str, str] = {}
    if Path(ENV_FILE).is_file():
        from dotenv import dotenv_values  # only when there is a file to read: `bot health` stays light

        values.update({k: v for k, v in dotenv_values(ENV_FILE).items() if v is not None})
    values.update(os.environ)
    return values


def heartbeat_settings() -> tuple[Path, float]:
    """``BOT_DATA_DIR`` and ``BOT_HEARTBEAT_MAX_AGE_SECONDS`` without the settings model: ``bot health`` runs every
    30 seconds in the container and must stay light (no pydantic). Same defaults and limits as bot.config."""
    sources = raw_sources()
    data_dir = Path(sources.get("BOT_DATA_DIR", "").strip() or DEFAULT_DATA_DIR)
    raw = sources.get("BOT_HEARTBEAT_MAX_AGE_SECONDS", "").strip()
    if not raw:
        return data_dir, DEFAULT_HEARTBEAT_MAX_AGE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value <= MAX_HEARTBEAT_MAX_AGE_SECONDS:  # NaN fails both
        raise ConfigError(
            f"BOT_HEARTBEAT_MAX_AGE_SECONDS={raw!r}: expected seconds, above 0 and at most "
            f"{MAX_HEARTBEAT_MAX_AGE_SECONDS}"
        )
    return data_dir, value


def secret_values(sources: dict[str, str]) -> list[str]:
    """Every configured secret value, each URL of a comma-separated list on its own too."""
    found: list[str] = []
    for name in SECRET_VARIABLES:
        raw = sources.get(name, "").strip()
        found.extend(part.strip() for part in [raw, *raw.split(",")] if len(part.strip()) >= MIN_SECRET_LENGTH)
    return sorted(set(found), key=len, reverse=True)


def redact(text: str, sources: dict[str, str]) -> str:
    for secret in secret_values(sources):
        text = text.replace(secret, "[redacted]")
    return text


def scrub_secrets(text: str) -> str:
    """``text`` with any configured secret value replaced (for messages built from broker answers)."""
    return redact(text, raw_sources())
