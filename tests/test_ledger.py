"""The ledger writes each order, fill and snapshot once and keeps them across reopenings."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bot.ledger import FillRecord, Ledger, LedgerMeta, OrderRecord, Snapshot
from bot.market.dividends import Dividend

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
    assert sum((f.qty for f in ledger.fills()), Decimal(0)) == Decimal(470)
    assert [f.price for f in ledger.fills()] == [Decimal("202.29"), Decimal("202.31")]


def test_everything_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "ledger.sqlite"
    ledger = Ledger(path)
    ledger.upsert_order(order())
    ledger.add_fill(fill("470", "470", "202.29"))
    ledger.add_snapshot(
        Snapshot(date(2023, 12, 14), Decimal("100010"), Decimal(470), Decimal("95100"), Decimal("95050"))
    )
    ledger.remember(start_equity=Decimal(100000))
    ledger.remember(start_equity=Decimal(1), first_session=date(2023, 12, 14))  # a stored value stays
    ledger.record_decision(date(2023, 12, 13), "breakout_confirmed")
    ledger.record_decision(date(2023, 12, 13), "no_breakout")
    ledger.record_dividend("IWM", date(2023, 12, 20), Decimal("0.8"))
    ledger.close()
    reopened = Ledger(path)
    assert len(reopened.orders()) == 1
    assert reopened.fills()[0].benchmark_price == Decimal("449.06")
    assert reopened.has_snapshot(date(2023, 12, 14))
    assert not reopened.has_snapshot(date(2023, 12, 15))
    assert reopened.meta() == LedgerMeta(start_equity=Decimal(100000), first_session=date(2023, 12, 14))
    assert reopened.decisions() == {date(2023, 12, 13): "breakout_confirmed"}
    assert reopened.decision(date(2023, 12, 14)) is None
    assert reopened.dividends() == {"IWM": (Dividend(date(2023, 12, 20), Decimal("0.8")),)}


def test_ledger_uses_write_ahead_logging(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    mode = ledger._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_fills_add_up_as_decimals(tmp_path: Path) -> None:
    """Fractional fills summed as floats would give 0.30000000000000004 shares, never equal to the order's 0.3."""
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.add_fill(fill("0.1", "0.1", "202.29"))
    ledger.add_fill(fill("0.3", "0.2", "202.30"))
    assert sum((f.qty for f in ledger.fills()), Decimal(0)) == Decimal("0.3")
    assert sum((f.qty for f in Ledger(tmp_path / "ledger.sqlite").fills()), Decimal(0)) == Decimal("0.3")


def test_rows_come_back_in_time_order_whatever_order_they_were_written_in(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    late, early = fill("470", "270", "202.31"), fill("200", "200", "202.29")
    ledger.add_fill(replace(late, filled_at=AT + timedelta(minutes=1)))
    ledger.add_fill(early)
    expected = [Decimal(200), Decimal(470)]
    assert [f.cum_qty for f in ledger.fills()] == expected
    assert [f.cum_qty for f in Ledger(tmp_path / "ledger.sqlite").fills()] == expected


def test_a_ledger_written_with_free_form_facts_is_moved_to_typed_tables(tmp_path: Path) -> None:
    """Ledgers of earlier versions kept key/value strings; opening one moves each into its typed place once."""
    path = tmp_path / "ledger.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE orders (client_order_id TEXT PRIMARY KEY, broker_order_id TEXT NOT NULL, symbol TEXT NOT NULL,
            side TEXT NOT NULL, intent TEXT NOT NULL, season INTEGER NOT NULL, qty TEXT NOT NULL,
            time_in_force TEXT NOT NULL, status TEXT NOT NULL, filled_qty TEXT NOT NULL, reason TEXT NOT NULL,
            submitted_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        CREATE TABLE facts (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO facts VALUES ('start_equity', '100000'), ('first_session', '2023-12-01'),
            ('account_id', 'acct-1'), ('account_url', 'http://127.0.0.1:1'), ('demo', 'true'),
            ('decided:2023-12-13', 'breakout_confirmed'), ('dividend:SPY:2023-12-15', '1.9'),
            ('dividend:IWM:2023-12-20', '0.8');
        INSERT INTO orders VALUES ('brk-IWM-2024-entry-1', 'b-1', 'IWM', 'buy', 'entry', 2024, '470', 'opg',
            'filled', '470', 'breakout_confirmed', '2023-12-13T19:00:00+00:00', '2023-12-14T14:30:00+00:00');
        """
    )
    old.close()
    ledger = Ledger(path)
    assert ledger.meta() == LedgerMeta(
        start_equity=Decimal(100000),
        first_session=date(2023, 12, 1),
        account_id="acct-1",
        account_url="http://127.0.0.1:1",
        demo=True,
    )
    assert ledger.decisions() == {date(2023, 12, 13): "breakout_confirmed"}
    assert ledger.dividends() == {
        "IWM": (Dividend(date(2023, 12, 20), Decimal("0.8")),),
        "SPY": (Dividend(date(2023, 12, 15), Decimal("1.9")),),
    }
    [kept] = ledger.orders()
    assert (kept.filled_qty, kept.rejection) == (Decimal(470), "")
    tables = {row[0] for row in ledger._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "facts" not in tables
    ledger.close()
    assert Ledger(path).meta().account_id == "acct-1"  # opening it again changes nothing
