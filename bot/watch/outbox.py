"""The notifications to send, kept in the ledger's database so that a restart never sends one twice.

Each notification is keyed by the event it tells of (``fill:<client order id>:<cumulative qty>``, ...): queueing
the same key again is a no-op. A sent one is marked sent; a failed one waits and is tried again, at most
``MAX_ATTEMPTS`` times. Its own connection, so that the sending thread never shares the loop's.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.engine.clock import wall_now

MAX_ATTEMPTS = 5
RETRY_AFTER = (timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10))

SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    key TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    healthy INTEGER,
    queued_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    sent_at TEXT,
    error TEXT NOT NULL DEFAULT ''
)
"""


@dataclass(frozen=True, slots=True)
class Notification:
    key: str
    event: str
    title: str
    body: str
    attempts: int = 0
    sent_at: str | None = None
    error: str = ""


class Outbox:
    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5)
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def queue(self, note: Notification, *, healthy: bool | None = None, now: datetime | None = None) -> bool:
        """Queue once per key; False when that event was queued before."""
        stamp = (now or wall_now()).isoformat()
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO notifications (key, event, title, body, healthy, queued_at, next_attempt_at) "
            "VALUES (?,?,?,?,?,?,?)",
            (note.key, note.event, note.title, note.body, healthy, stamp, stamp),
        )
        return cursor.rowcount == 1

    def due(self, now: datetime | None = None) -> list[Notification]:
        stamp = (now or wall_now()).isoformat()
        rows = self._db.execute(
            "SELECT key, event, title, body, attempts FROM notifications "
            "WHERE sent_at IS NULL AND attempts < ? AND next_attempt_at <= ? ORDER BY queued_at, rowid",
            (MAX_ATTEMPTS, stamp),
        ).fetchall()
        return [Notification(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def mark_sent(self, key: str, now: datetime | None = None) -> None:
        stamp = (now or wall_now()).isoformat()
        self._db.execute(
            "UPDATE notifications SET sent_at = ?, attempts = attempts + 1 WHERE key = ? AND sent_at IS NULL",
            (stamp, key),
        )

    def mark_failed(self, key: str, error: str, now: datetime | None = None) -> int:
        """Count a failed attempt and schedule the next; returns the attempts made so far."""
        now = now or wall_now()
        row = self._db.execute("SELECT attempts FROM notifications WHERE key = ?", (key,)).fetchone()
        attempts = (row[0] if row else 0) + 1
        wait = RETRY_AFTER[min(attempts - 1, len(RETRY_AFTER) - 1)]
        self._db.execute(
            "UPDATE notifications SET attempts = ?, error = ?, next_attempt_at = ? WHERE key = ?",
            (attempts, error, (now + wait).isoformat(), key),
        )
        return attempts

    def last_health(self) -> bool:
        """The health the last health notification told of (healthy until one said otherwise)."""
        row = self._db.execute(
            "SELECT healthy FROM notifications WHERE healthy IS NOT NULL ORDER BY queued_at DESC, rowid DESC LIMIT 1"
        ).fetchone()
        return bool(row[0]) if row else True

    def all(self) -> list[Notification]:
        rows = self._db.execute(
            "SELECT key, event, title, body, attempts, sent_at, error FROM notifications ORDER BY queued_at, rowid"
        ).fetchall()
        return [Notification(*r) for r in rows]
