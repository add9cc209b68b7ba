"""Whether the bot can trade, judged from the heartbeat the run loop leaves after every pass.

Kept light (standard library only) because the container runs ``bot health`` every 30 seconds: no broker
call, no pandas, no SDK. The run loop, ``bot status``, the metrics and the status page judge the same way.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from bot.config_sources import heartbeat_settings
from bot.engine.clock import wall_now

if TYPE_CHECKING:
    import argparse

HEARTBEAT_FILE = "heartbeat.json"


class Health(NamedTuple):  # not a dataclass: dataclasses imports inspect, a fifth of `bot health`'s start-up
    ok: bool
    cause: str  # why not, or how fresh the last successful pass is

    @property
    def line(self) -> str:
        return f"{'healthy' if self.ok else 'unhealthy'}: {self.cause}"


def write_heartbeat(data_dir: Path, beat: dict[str, Any]) -> None:
    """Atomically replace the heartbeat file."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = data_dir / HEARTBEAT_FILE
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(json.dumps(beat))
    try:
        temporary.replace(target)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


def read_heartbeat(data_dir: Path) -> dict[str, Any] | None:
    """The last heartbeat, or None without a readable one."""
    try:
        beat = json.loads((data_dir / HEARTBEAT_FILE).read_text())
        datetime.fromisoformat(beat["at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return beat if isinstance(beat, dict) else None


def problems_of(beat: dict[str, Any]) -> dict[str, str]:
    problems = beat.get("problems") or {}
    return {str(k): str(v) for k, v in problems.items()} if isinstance(problems, dict) else {}


def _age(stamp: Any, now: datetime) -> float | None:
    try:
        return (now - datetime.fromisoformat(str(stamp))).total_seconds()
    except ValueError:
        return None


def evaluate(beat: dict[str, Any] | None, *, max_age: float, now: datetime | None = None) -> Health:
    """Healthy while the last successful pass is fresh and nothing keeps the bot from trading."""
    now = now or wall_now()
    if beat is None:
        return Health(False, "no heartbeat: `bot run` has not started here")
    problems = problems_of(beat)
    if problems:
        return Health(False, "; ".join(f"{name}: {cause}" for name, cause in sorted(problems.items())))
    if beat.get("state") == "stopped":
        return Health(False, "the run loop has stopped")
    last_ok = _age(beat.get("last_ok_at"), now) if beat.get("last_ok_at") else None
    if last_ok is None:
        started = _age(beat.get("at"), now)
        if beat.get("state") == "starting" and started is not None and started <= max_age:
            return Health(True, f"starting, {started:.1f}s ago")
        return Health(False, "no successful pass yet")
    if last_ok > max_age:
        return Health(False, f"last successful pass {last_ok:.0f}s ago (limit {max_age:.0f}s)")
    return Health(True, f"last successful pass {last_ok:.1f}s ago")


def command(args: argparse.Namespace) -> int:
    """``bot health``: print the verdict and its cause; exit 0 only when healthy. Reads only its two settings."""
    data_dir, max_age = heartbeat_settings()
    health = evaluate(read_heartbeat(data_dir), max_age=max_age)
    print(f"{health.line} (BOT_DATA_DIR={data_dir})")
    return 0 if health.ok else 1
