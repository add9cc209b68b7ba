"""The ledger: orders, fills, daily P&L snapshots and what the run remembers, in SQLite (WAL), each written once.

Every write is one transaction; a crash leaves either the whole row or nothing. Fills are keyed by
(client_order_id, cumulative quantity), so recording the same fill twice is a no-op. The rows are read once
when the ledger opens and kept in memory as frozen values, updated after each committed write: the loop asks
for them several times a pass, and only this process writes them while it holds the instance lock. Listeners
(the portfolio fold) are told of each order, fill and outside change once it is committed.

``Ledger.in_memory()`` is the same store without the file, for the backtest: nothing outlives the replay.
"""

from __future__ import annotations

import sqlite3
from bisect import insort
from collections.abc import Callable, KeysView
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from bot.errors import ConfigError
from bot.ledger_records import FillRecord, LedgerListener, LedgerMeta, OrderRecord, OutsideChange, Snapshot
from bot.ledger_schema import connect, insert, read_meta, select_all, transaction
from bot.market.dividends import Dividend, Dividends

__all__ = ["LEDGER_FILE", "FillRecord", "Ledger", "LedgerMeta", "OrderRecord", "OutsideChange", "Snapshot"]

LEDGER_FILE = "ledger.sqlite"  # in BOT_DATA_DIR
ORDER_UPDATE = (
    "(client_order_id) DO UPDATE SET broker_order_id=excluded.broker_order_id, status=excluded.status, "
    "filled_qty=excluded.filled_qty, updated_at=excluded.updated_at"
)


def _fill_order(fill: FillRecord) -> tuple[str, str, str]:
    """The order fills are read in (as the table's text columns sort)."""
    return fill.filled_at.isoformat(), fill.client_order_id, str(fill.cum_qty)


def _order_order(order: OrderRecord) -> tuple[str, str]:
    return order.submitted_at.isoformat(), order.client_order_id


class Ledger:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._listeners: list[LedgerListener] = []
        self._sorted_orders: list[OrderRecord] | None = None
        self._db: sqlite3.Connection | None = None
        self._orders: dict[str, OrderRecord] = {}
        self._fills: list[FillRecord] = []
        self._fill_keys: set[tuple[str, str]] = set()
        self._outside: list[OutsideChange] = []
        self._snapshots: dict[date, Snapshot] = {}
        self._decisions: dict[date, str] = {}
        self._dividends: dict[tuple[str, date], Decimal] = {}
        self._meta = LedgerMeta()
        if path is None:
            return
        try:
            self._db = connect(path)
            self._load(self._db)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(
                f"{path} is not a readable ledger ({exc}); rebuild it from the broker with `bot reconcile "
                "--rebuild` (the broken file is kept aside)"
            ) from None

    @classmethod
    def in_memory(cls) -> Ledger:
        return cls(None)

    def subscribe(self, listener: LedgerListener) -> None:
        self._listeners.append(listener)

    def _load(self, db: sqlite3.Connection) -> None:
        self._orders = {o.client_order_id: o for o in select_all(db, OrderRecord, "orders")}
        self._fills = sorted(select_all(db, FillRecord, "fills"), key=_fill_order)
        self._fill_keys = {(f.client_order_id, str(f.cum_qty)) for f in self._fills}
        self._outside = select_all(db, OutsideChange, "outside_changes", order="observed_at, rowid")
        self._snapshots = {s.session: s for s in select_all(db, Snapshot, "snapshots")}
        self._decisions = {date.fromisoformat(d): r for d, r in db.execute("SELECT session, reason FROM decisions")}
        rows = db.execute("SELECT symbol, ex_date, amount FROM dividends").fetchall()
        self._dividends = {(s, date.fromisoformat(d)): Decimal(a) for s, d, a in rows}
        self._meta = read_meta(db)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()

    def _write(self, write: Callable[[sqlite3.Connection], int]) -> int:
        """Run one write in a transaction; rows written (in memory, every write is new: the caller checked)."""
        if self._db is None:
            return 1
        with transaction(self._db) as db:
            return write(db)

    # Orders

    def upsert_order(self, order: OrderRecord) -> bool:
        """Insert or update an order's status, filled quantity and broker id; True when anything changed."""
        known = self._orders.get(order.client_order_id)
        if known is not None and (known.status, str(known.filled_qty), known.broker_order_id) == (
            order.status,
            str(order.filled_qty),
            order.broker_order_id,
        ):
            return False
        self._write(lambda db: insert(db, "orders", order, on_conflict=ORDER_UPDATE))
        if known is None:
            self._sorted_orders = None
        stored = self._orders[order.client_order_id] = (
            order
            if known is None
            else replace(
                known,
                broker_order_id=order.broker_order_id,
                status=order.status,
                filled_qty=order.filled_qty,
                updated_at=order.updated_at,
            )
        )
        self._sorted_orders = None
        for listener in self._listeners:
            listener.order_recorded(stored)
        return True

    def orders(self) -> list[OrderRecord]:
        if self._sorted_orders is None:
            self._sorted_orders = sorted(self._orders.values(), key=_order_order)
        return list(self._sorted_orders)

    # Changes made outside the bot

    def add_outside_change(self, change: OutsideChange) -> None:
        self._write(lambda db: insert(db, "outside_changes", change))
        self._outside.append(change)
        self._outside.sort(key=lambda c: c.observed_at.isoformat())  # stable: equal times keep their order
        for listener in self._listeners:
            listener.outside_change_recorded(change)

    def outside_changes(self) -> list[OutsideChange]:
        return list(self._outside)

    # Fills

    def add_fill(self, fill: FillRecord) -> bool:
        """Record a fill once; False when it was already there."""
        key = (fill.client_order_id, str(fill.cum_qty))
        if key in self._fill_keys:
            return False
        if self._write(lambda db: insert(db, "fills", fill)) != 1:
            return False
        self._fill_keys.add(key)
        insort(self._fills, fill, key=_fill_order)
        for listener in self._listeners:
            listener.fill_recorded(fill)
        return True

    def fills(self) -> list[FillRecord]:
        return list(self._fills)

    # Snapshots

    def add_snapshot(self, snapshot: Snapshot) -> bool:
        if snapshot.session in self._snapshots:
            return False
        if self._write(lambda db: insert(db, "snapshots", snapshot)) != 1:
            return False
        self._snapshots[snapshot.session] = snapshot
        return True

    def snapshots(self) -> list[Snapshot]:
        return [self._snapshots[day] for day in sorted(self._snapshots)]

    def has_snapshot(self, session: date) -> bool:
        return session in self._snapshots

    # What the run remembers: each value written once.

    def meta(self) -> LedgerMeta:
        return self._meta

    def remember(
        self,
        *,
        start_equity: Decimal | None = None,
        first_session: date | None = None,
        account_id: str | None = None,
        account_url: str | None = None,
        demo: bool = False,
    ) -> None:
        """Write the given values where none is stored yet; a stored value is never replaced."""
        given = {
            "start_equity": start_equity,
            "first_session": first_session,
            "account_id": account_id,
            "account_url": account_url,
        }
        new = {name: value for name, value in given.items() if value is not None and getattr(self._meta, name) is None}
        if not new and (not demo or self._meta.demo):
            return
        if self._db is None:
            self._meta = replace(self._meta, **new, demo=self._meta.demo or demo)  # type: ignore[arg-type]
        else:
            with transaction(self._db) as db:
                for name, value in new.items():  # names from the fixed list above, values bound
                    text = value.isoformat() if isinstance(value, date) else str(value)
                    db.execute(f"UPDATE meta SET {name} = ? WHERE id = 1 AND {name} IS NULL", (text,))
                if demo:
                    db.execute("UPDATE meta SET demo = 1 WHERE id = 1")
            self._meta = read_meta(db)

    def decision(self, session: date) -> str | None:
        """Why the rule decided as it did after ``session``'s close (or in it, intraday), if it has."""
        return self._decisions.get(session)

    def decided(self) -> KeysView[date]:
        """The sessions whose decision is recorded (a live view)."""
        return self._decisions.keys()

    def decisions(self) -> dict[date, str]:
        return dict(sorted(self._decisions.items()))

    def record_decision(self, session: date, reason: str) -> None:
        if session in self._decisions:
            return
        self._write(
            lambda db: (
                db.execute("INSERT OR IGNORE INTO decisions VALUES (?, ?)", (session.isoformat(), reason)).rowcount
            )
        )
        self._decisions[session] = reason

    def record_dividend(self, symbol: str, ex_date: date, amount: Decimal) -> None:
        if (symbol, ex_date) in self._dividends:
            return
        self._write(
            lambda db: (
                db.execute(
                    "INSERT OR IGNORE INTO dividends VALUES (?, ?, ?)", (symbol, ex_date.isoformat(), str(amount))
                ).rowcount
            )
        )
        self._dividends[(symbol, ex_date)] = amount

    def dividends(self) -> Dividends:
        found: dict[str, list[Dividend]] = {}
        for (symbol, ex_date), amount in sorted(self._dividends.items()):
            found.setdefault(symbol, []).append(Dividend(ex_date, amount))
        return {symbol: tuple(rows) for symbol, rows in found.items()}
