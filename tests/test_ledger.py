"""The ledger writes each order, fill and snapshot once and keeps them across reopenings."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from bot.ledger import FillRecord, Ledger, OrderRecord, Snapshot

AT = datetime(2023, 12, 14, 14, 30, tzinfo=UTC)


def order(status: str = "accepted", filled: str = "0") -> OrderRecord:
    return OrderRecord(
        "brk-IWM-2024-entry-1",
        "3c9e2f5a-7d41-4b8e-9a06-5f2d1c8e4b17",
        "IWM",
        "buy",
        "entry",
        2024,
        Decimal(470),
        "opg",
        status,
        Decimal(filled),
        "breakout_confirmed",
        AT,
        AT,
    )


def fill(cum: str, qty: str, px: str) -> FillRecord:
    return FillRecord(
        "brk-IWM-2024-entry-1",
        Decimal(cum),
        "IWM",
        "buy",
        "entry",
        2024,
        Decimal(qty),
        Decimal(px),
        AT,
        date(2023, 12, 14),
        Decimal("449.06"),
    )


def test_order_updates_change_status_and_report_whether_anything_changed(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    assert ledger.upsert_order(order()) is True
    assert ledger.upsert_order(order()) is False
    assert ledger.upsert_order(order("filled", "470")) is True
    [stored] = ledger.orders()
    assert (stored.status, stored.filled_qty, stored.reason) == ("filled", Decimal(470), "breakout_confirmed")


def test_a_fill_is_recorded_once_even_when_seen_twice(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    assert ledger.add_fill(fill("200", "200", "202.29")) is True
    assert ledger.add_fill(fill("200", "200", "202.29")) is False
    assert ledger.add_fill(fill("470", "270", "202.31")) is True
    assert ledger.filled_qty("brk-IWM-2024-entry-1") == Decimal(470)
    assert [f.price for f in ledger.fills()] == [Decimal("202.29"), Decimal("202.31")]


def test_everything_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "ledger.sqlite"
    ledger = Ledger(path)
    ledger.upsert_order(order())
    ledger.add_fill(fill("470", "470", "202.29"))
    ledger.add_snapshot(
        Snapshot(date(2023, 12, 14), Decimal("100010"), Decimal(470), Decimal("95100"), Decimal("95050"))
    )
    ledger.remember("start_equity", "100000")
    ledger.remember("start_equity", "1")  # facts are written once
    ledger.close()
    reopened = Ledger(path)
    assert len(reopened.orders()) == 1
    assert reopened.fills()[0].benchmark_price == Decimal("449.06")
    assert reopened.has_snapshot(date(2023, 12, 14))
    assert not reopened.has_snapshot(date(2023, 12, 15))
    assert reopened.fact("start_equity") == "100000"
    assert reopened.fact("missing") is None


def test_ledger_uses_write_ahead_logging(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    mode = ledger._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
