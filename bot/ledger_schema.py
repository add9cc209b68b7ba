"""The ledger's file: its tables, the upgrades of ledgers written by earlier versions (applied in one transaction),
how it is opened and written."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from bot.ledger_records import LedgerMeta

R = TypeVar("R")

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
    updated_at TEXT NOT NULL,
    rejection TEXT NOT NULL DEFAULT ''
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
CREATE TABLE IF NOT EXISTS outside_changes (
    observed_at TEXT NOT NULL,
    symbol TEXT NOT NULL,
    season INTEGER NOT NULL,
    broker_qty TEXT NOT NULL,
    ledger_qty TEXT NOT NULL,
    adopted_qty TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    start_equity TEXT,
    first_session TEXT,
    account_id TEXT,
    account_url TEXT,
    demo INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO meta (id) VALUES (1);
CREATE TABLE IF NOT EXISTS decisions (
    session TEXT PRIMARY KEY,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dividends (
    symbol TEXT NOT NULL,
    ex_date TEXT NOT NULL,
    amount TEXT NOT NULL,
    PRIMARY KEY (symbol, ex_date)
);
"""
META_FIELDS = ("start_equity", "first_session", "account_id", "account_url")


def create_or_upgrade(db: sqlite3.Connection) -> None:
    """Create the tables; upgrade a ledger from before the ``rejection`` column or with free-form facts."""
    existing = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "orders" in existing:
        columns = {row[1] for row in db.execute("PRAGMA table_info(orders)")}
        if "rejection" not in columns:
            db.execute("ALTER TABLE orders ADD COLUMN rejection TEXT NOT NULL DEFAULT ''")
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    if "facts" in existing:
        _move_facts(db)


def _move_facts(db: sqlite3.Connection) -> None:
    """Earlier ledgers kept key/value strings in ``facts``: each kind moves to its typed table."""
    for key, value in db.execute("SELECT key, value FROM facts").fetchall():
        if key in META_FIELDS:
            db.execute(f"UPDATE meta SET {key} = ? WHERE id = 1 AND {key} IS NULL", (value,))
        elif key == "demo":
            db.execute("UPDATE meta SET demo = 1 WHERE id = 1")
        elif key.startswith("decided:"):
            db.execute("INSERT OR IGNORE INTO decisions VALUES (?, ?)", (key.removeprefix("decided:"), value))
        elif key.startswith("dividend:"):
            symbol, ex_date = key.removeprefix("dividend:").rsplit(":", 1)
            db.execute("INSERT OR IGNORE INTO dividends VALUES (?, ?, ?)", (symbol, ex_date, value))
    db.execute("DROP TABLE facts")


# Rows: a record's fields are the table's columns, by name; money and quantities are stored as decimal text.

_FROM_TEXT: dict[str, Callable[[Any], Any]] = {
    "Decimal": Decimal,
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "int": int,
    "str": str,
}


def _text(value: Any) -> Any:
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    if isinstance(value, Enum):  # a side, time in force or status: stored as its plain value
        return value.value
    return str(value) if isinstance(value, Decimal) else value


def row_of(record: Any) -> tuple[Any, ...]:
    return tuple(_text(getattr(record, f.name)) for f in fields(record))


def insert(db: sqlite3.Connection, table: str, record: Any, *, on_conflict: str = "DO NOTHING") -> int:
    """Write ``record`` into ``table`` by column name; the number of rows written."""
    names = [f.name for f in fields(record)]
    statement = (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) ON CONFLICT {on_conflict}"
    )
    return db.execute(statement, row_of(record)).rowcount


def select_all(db: sqlite3.Connection, kind: type[R], table: str, order: str = "rowid") -> list[R]:
    columns = fields(kind)  # type: ignore[arg-type]
    names = ", ".join(f.name for f in columns)
    rows = db.execute(f"SELECT {names} FROM {table} ORDER BY {order}").fetchall()
    parse = [_FROM_TEXT[str(f.type)] for f in columns]
    return [kind(*(convert(value) for convert, value in zip(parse, row, strict=True))) for row in rows]


def connect(path: Path) -> sqlite3.Connection:
    """The ledger file, private before SQLite writes a byte, in WAL mode with full syncs, its tables current."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA busy_timeout=5000")
    with transaction(db):
        create_or_upgrade(db)
    return db


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def read_meta(db: sqlite3.Connection) -> LedgerMeta:
    row = db.execute(
        "SELECT start_equity, first_session, account_id, account_url, demo FROM meta WHERE id = 1"
    ).fetchone()
    start_equity, first_session, account_id, account_url, demo = row
    return LedgerMeta(
        start_equity=Decimal(start_equity) if start_equity is not None else None,
        first_session=date.fromisoformat(first_session) if first_session is not None else None,
        account_id=account_id,
        account_url=account_url,
        demo=bool(demo),
    )
