"""The ledger: orders, fills and daily P&L snapshots in SQLite (WAL), each written once.

Every write is one transaction; a crash leaves either the whole row or nothing. Fills are keyed by
(client_order_id, cumulative quantity), so recording the same fill twice is a no-op.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from bot.errors import ConfigError
from bot.ledger_records import FillRecord, OrderRecord, OutsideChange, Snapshot

__all__ = ["LEDGER_FILE", "FillRecord", "Ledger", "OrderRecord", "OutsideChange", "Snapshot"]

LEDGER_FILE = "ledger.sqlite"  # in BOT_DATA_DIR

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    client_order_id TEXT PRIMARY KEY,
    broker_order_id TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    intent TEXT NOT NULL,
    season INTEGER NOT NULL,
    qty TEXT NOT NULL,
    time_in_force TEXT NOT NULL,
    status TEXT NOT NULL,
    filled_qty TEXT NOT NULL,
    reason TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fills (
    client_order_id TEXT NOT NULL,
    cum_qty TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    intent TEXT NOT NULL,
    season INTEGER NOT NULL,
    qty TEXT NOT NULL,
    price TEXT NOT NULL,
    filled_at TEXT NOT NULL,
    session TEXT NOT NULL,
    benchmark_price TEXT NOT NULL,
    PRIMARY KEY (client_order_id, cum_qty)
);
CREATE TABLE IF NOT EXISTS snapshots (
    session TEXT PRIMARY KEY,
    equity TEXT NOT NULL,
    position_qty TEXT NOT NULL,
    position_value TEXT NOT NULL,
    benchmark_value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS facts (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outside_changes (
    observed_at TEXT NOT NULL,
    symbol TEXT NOT NULL,
    season INTEGER NOT NULL,
    broker_qty TEXT NOT NULL,
    ledger_qty TEXT NOT NULL,
    adopted_qty TEXT NOT NULL
);
"""
MIGRATIONS = ("ALTER TABLE orders ADD COLUMN rejection TEXT NOT NULL DEFAULT ''",)


class Ledger:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = path
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # private before SQLite writes a byte
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._create()
        except sqlite3.DatabaseError as exc:
            raise ConfigError(
                f"{path} is not a readable ledger ({exc}); rebuild it from the broker with `bot reconcile "
                "--rebuild` (the broken file is kept aside)"
            ) from None

    def _create(self) -> None:
        with self._transaction():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(orders)")}
            if "rejection" not in columns:
                for migration in MIGRATIONS:
                    self._db.execute(migration)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # Orders

    def upsert_order(self, order: OrderRecord) -> bool:
        """Insert or update an order; True when anything changed."""
        with self._transaction():
            row = self._db.execute(
                "SELECT status, filled_qty, broker_order_id FROM orders WHERE client_order_id = ?",
                (order.client_order_id,),
            ).fetchone()
            if row == (order.status, str(order.filled_qty), order.broker_order_id):
                return False
            self._db.execute(
                "INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(client_order_id) DO UPDATE SET "
                "broker_order_id=excluded.broker_order_id, status=excluded.status, "
                "filled_qty=excluded.filled_qty, updated_at=excluded.updated_at",
                (
                    order.client_order_id,
                    order.broker_order_id,
                    order.symbol,
                    order.side,
                    order.intent,
                    order.season,
                    str(order.qty),
                    order.time_in_force,
                    order.status,
                    str(order.filled_qty),
                    order.reason,
                    order.submitted_at.isoformat(),
                    order.updated_at.isoformat(),
                    order.rejection,
                ),
            )
            return True

    def orders(self) -> list[OrderRecord]:
        rows = self._db.execute("SELECT * FROM orders ORDER BY submitted_at, client_order_id").fetchall()
        return [
            OrderRecord(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                int(r[5]),
                Decimal(r[6]),
                r[7],
                r[8],
                Decimal(r[9]),
                r[10],
                datetime.fromisoformat(r[11]),
                datetime.fromisoformat(r[12]),
                r[13],
            )
            for r in rows
        ]

    # Changes made outside the bot

    def add_outside_change(self, change: OutsideChange) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT INTO outside_changes VALUES (?,?,?,?,?,?)",
                (
                    change.observed_at.isoformat(),
                    change.symbol,
                    change.season,
                    str(change.broker_qty),
                    str(change.ledger_qty),
                    str(change.adopted_qty),
                ),
            )

    def outside_changes(self) -> list[OutsideChange]:
        rows = self._db.execute("SELECT * FROM outside_changes ORDER BY observed_at, rowid").fetchall()
        return [
            OutsideChange(datetime.fromisoformat(r[0]), r[1], int(r[2]), Decimal(r[3]), Decimal(r[4]), Decimal(r[5]))
            for r in rows
        ]

    # Fills

    def add_fill(self, fill: FillRecord) -> bool:
        """Record a fill once; False when it was already there."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO fills VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    fill.client_order_id,
                    str(fill.cum_qty),
                    fill.symbol,
                    fill.side,
                    fill.intent,
                    fill.season,
                    str(fill.qty),
                    str(fill.price),
                    fill.filled_at.isoformat(),
                    fill.session.isoformat(),
                    str(fill.benchmark_price),
                ),
            )
            return cursor.rowcount == 1

    def fills(self) -> list[FillRecord]:
        rows = self._db.execute("SELECT * FROM fills ORDER BY filled_at, client_order_id, cum_qty").fetchall()
        return [
            FillRecord(
                r[0],
                Decimal(r[1]),
                r[2],
                r[3],
                r[4],
                int(r[5]),
                Decimal(r[6]),
                Decimal(r[7]),
                datetime.fromisoformat(r[8]),
                date.fromisoformat(r[9]),
                Decimal(r[10]),
            )
            for r in rows
        ]

    def filled_qty(self, client_order_id: str) -> Decimal:
        row = self._db.execute(
            "SELECT COALESCE(SUM(CAST(qty AS REAL)), 0) FROM fills WHERE client_order_id = ?", (client_order_id,)
        ).fetchone()
        return Decimal(str(row[0])).normalize()

    # Snapshots

    def add_snapshot(self, snapshot: Snapshot) -> bool:
        with self._transaction():
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO snapshots VALUES (?,?,?,?,?)",
                (
                    snapshot.session.isoformat(),
                    str(snapshot.equity),
                    str(snapshot.position_qty),
                    str(snapshot.position_value),
                    str(snapshot.benchmark_value),
                ),
            )
            return cursor.rowcount == 1

    def snapshots(self) -> list[Snapshot]:
        rows = self._db.execute("SELECT * FROM snapshots ORDER BY session").fetchall()
        return [
            Snapshot(date.fromisoformat(r[0]), Decimal(r[1]), Decimal(r[2]), Decimal(r[3]), Decimal(r[4])) for r in rows
        ]

    def has_snapshot(self, session: date) -> bool:
        row = self._db.execute("SELECT 1 FROM snapshots WHERE session = ?", (session.isoformat(),)).fetchone()
        return row is not None

    # Facts: small values the loop must remember across restarts.

    def fact(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM facts WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def facts_starting(self, prefix: str) -> dict[str, str]:
        rows = self._db.execute("SELECT key, value FROM facts WHERE key LIKE ? ORDER BY key", (f"{prefix}%",))
        return {str(k): str(v) for k, v in rows.fetchall()}

    def remember(self, key: str, value: str) -> None:
        with self._transaction():
            self._db.execute("INSERT OR IGNORE INTO facts VALUES (?, ?)", (key, value))
