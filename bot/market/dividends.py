"""Cash dividends, for scoring total return: Alpaca paper never credits them, so the score adds them itself.

A position earns ``amount × shares`` at each ex-date inside its hold: held at the close before the ex-date,
that is an ex-date after the entry session and on or before the exit session.

In a data directory an optional ``<SYMBOL>.dividends.csv`` with the header ``ex_date,amount`` (cash per share)
supplies them; without one the symbol has none (and the reports say which files were read).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from bot.errors import DataError

HEADER = ["ex_date", "amount"]


@dataclass(frozen=True, slots=True)
class Dividend:
    ex_date: date
    amount: Decimal  # cash per share


Dividends = dict[str, tuple[Dividend, ...]]


def dividends_path(directory: Path, symbol: str) -> Path:
    return directory / f"{symbol}.dividends.csv"


def load_dividends(directory: Path, symbols: Iterable[str]) -> Dividends:
    """Each symbol's dividends from its optional file; DataError naming the file and line for a bad row."""
    found: Dividends = {}
    for symbol in symbols:
        path = dividends_path(directory, symbol)
        found[symbol] = _read(path) if path.is_file() else ()
    return found


def _read(path: Path) -> tuple[Dividend, ...]:
    rows: list[Dividend] = []
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = [cell.strip().lower() for cell in next(reader, [])]
        if header != HEADER:
            raise DataError(f"{path}: the header is {','.join(header) or 'missing'}; expected {','.join(HEADER)}")
        for line, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            try:
                ex_date, amount = date.fromisoformat(row[0].strip()), Decimal(row[1].strip())
            except (ValueError, IndexError, InvalidOperation):
                raise DataError(f"{path} line {line}: {','.join(row)!r} is not an ISO date and an amount") from None
            if not amount.is_finite() or amount < 0:
                raise DataError(f"{path} line {line}: amount {row[1].strip()} must be zero or more (cash per share)")
            rows.append(Dividend(ex_date, amount))
    dates = [d.ex_date for d in rows]
    if len(set(dates)) != len(dates):
        raise DataError(f"{path}: an ex-date appears twice")
    return tuple(sorted(rows, key=lambda d: d.ex_date))


def per_share_in_hold(dividends: Sequence[Dividend], entry_session: date, exit_session: date) -> Decimal:
    """Cash per share earned by a hold bought in ``entry_session`` and sold at ``exit_session``'s close."""
    return sum((d.amount for d in dividends if entry_session < d.ex_date <= exit_session), Decimal(0))
