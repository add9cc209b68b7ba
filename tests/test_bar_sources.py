"""Clean daily files are read without pandas, and give exactly the bars the pandas reader gives."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import DataError
from bot.market.bar_sources import DailyHistory, load_sources, read_clean_daily
from bot.market.csv_data import daily_bars, load_csv

HEADER = "date,open,high,low,close,volume\n"


def pandas_bars(path: Path) -> DailyHistory:
    return DailyHistory(tuple(daily_bars(load_csv(path))))


@pytest.mark.parametrize(
    "rows",
    [
        "2024-01-02,199.5,201.25,198,200.75,1000\n2024-01-03,200.75,202,200,201.5,0\n",
        "2024-01-02,1e2,1.5e2,99.,1.2E2,74800.0\n",  # exponents, a bare point
        "2024-01-02,45.53125,45.71875,45.3125,45.71875,74800\r\n2024-01-03,45.6,45.9,45.5,45.8,1\r\n",  # CRLF
        "2024-01-02,0.1,0.30000000000000004,0.1,0.2,3\n",  # a float that only round-trips in full
        "2024-01-02,10,10,10,10,5",  # no newline at the end
    ],
    ids=["plain", "exponents", "crlf", "long-float", "no-final-newline"],
)
def test_a_clean_file_gives_the_bars_pandas_gives(tmp_path: Path, rows: str) -> None:
    path = tmp_path / "IWM.csv"
    path.write_bytes((HEADER + rows).encode())
    clean = read_clean_daily(path)
    assert clean is not None and clean == pandas_bars(path)


@pytest.mark.parametrize(
    ("text", "loads"),
    [
        ("\ufeff" + HEADER + "2024-01-02,1,2,1,2,5\n", True),  # a byte-order mark
        ("date, open,high,low,close,volume\n2024-01-02,1,2,1,2,5\n", True),  # a header pandas strips
        (HEADER + "2024-01-02,1,2,1,2,5\n\n2024-01-03,1,2,1,2,5\n", True),  # a blank line pandas skips
        (HEADER + '2024-01-02,"1",2,1,2,5\n', True),  # quoting
        (HEADER + "2024-01-02,1, 2,1,2,5\n", True),  # a blank in a number
        (HEADER + "2024-01-02,nan,2,1,2,5\n", False),
        (HEADER + "2024-01-02,inf,2,1,2,5\n", False),
        (HEADER + "2024-01-02,1,1e999,1,2,5\n", False),  # a number too large for a float
        (HEADER + "2024-01-02,1,2,1,2,1e400\n", False),
        (HEADER + "2024-01-02,1_0,20,1,2,5\n", True),  # Python's float() reads 1_0 as 10
        (HEADER + "2024-01-02,-1,2,1,2,5\n", False),
        (HEADER + "2024-01-02,0,2,1,2,5\n", False),
        (HEADER + "2024-01-02,1,2,1,2,-5\n", False),
        (HEADER + "2024-01-02,3,2,1,2,5\n", False),  # the high below the open
        (HEADER + "2024-01-02,1,2,1.5,2,5\n", False),  # the low above the open
        (HEADER + "2024-02-30,1,2,1,2,5\n", False),
        (HEADER + "2024-1-02,1,2,1,2,5\n", True),
        (HEADER + "2024-01-03,1,2,1,2,5\n2024-01-02,1,2,1,2,5\n", False),
        (HEADER + "2024-01-02,1,2,1,2,5\n2024-01-02,1,2,1,2,5\n", False),
        (HEADER + "2024-01-02,1,2,1,2\n", False),
        (HEADER, False),
        ("timestamp,open,high,low,close,volume\n2024-01-02T14:30:00Z,1,2,1,2,5\n", True),
    ],
)
def test_anything_else_is_the_pandas_readers_to_load_or_refuse(tmp_path: Path, text: str, loads: bool) -> None:
    """The pandas reader names the line of what it refuses; the sources are exactly what it reads."""
    path = tmp_path / "IWM.csv"
    path.write_bytes(text.encode())
    assert read_clean_daily(path) is None
    if not loads:
        with pytest.raises(DataError) as expected:
            load_csv(path)
        with pytest.raises(DataError) as caught:
            load_sources(tmp_path, ["IWM"])
        assert str(caught.value) == str(expected.value)
        return
    assert load_sources(tmp_path, ["IWM"])["IWM"].equals(load_csv(path))  # type: ignore[union-attr]


DECIMALS = st.decimals(min_value="0.0001", max_value="99999", places=4, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(DECIMALS, DECIMALS, DECIMALS, st.integers(0, 10**9)), min_size=1, max_size=30))
def test_any_clean_history_reads_alike(tmp_path_factory: pytest.TempPathFactory, rows: list[tuple]) -> None:
    path = tmp_path_factory.mktemp("clean") / "IWM.csv"
    day, lines = date(2001, 1, 2), []
    for first, second, third, volume in rows:
        low, middle, high = sorted((first, second, third))
        lines.append(f"{day.isoformat()},{middle},{high},{low},{middle.normalize()},{volume}")
        day += timedelta(days=1)
    path.write_text(HEADER + "\n".join(lines) + "\n")
    assert read_clean_daily(path) == pandas_bars(path)


@pytest.mark.shared_data
def test_the_real_history_reads_alike(shared_data: Path) -> None:
    for symbol in ("IWM", "SPY"):
        assert read_clean_daily(shared_data / f"{symbol}.csv") == pandas_bars(shared_data / f"{symbol}.csv")


def test_a_daily_backtest_runs_without_pandas(tmp_path: Path) -> None:
    """pandas and exchange_calendars are a quarter of `bot backtest`'s process on daily files: not loaded."""
    day, days, iwm, spy = date(2023, 11, 1), [], [], []
    for n in range(200):
        close = 190 + n * 0.25  # 200 on the 41st session, 200.25 on the 42nd: the first close above it
        iwm.append(f"{day.isoformat()},{close},{close + 1},{close - 1},{close},1000")
        spy.append(f"{day.isoformat()},{400 + n},{401 + n},{399 + n},{400 + n},1000")
        days.append(day)
        day += timedelta(days=1 if day.weekday() < 4 else 3)
    (tmp_path / "IWM.csv").write_text(HEADER + "\n".join(iwm) + "\n")
    (tmp_path / "SPY.csv").write_text(HEADER + "\n".join(spy) + "\n")
    probe = (
        "import sys, json, contextlib, io\nfrom bot.cli import main\n"
        f"sys.argv = ['bot', 'backtest', '--data', {str(tmp_path)!r}, '--json']\n"
        "out = io.StringIO()\nwith contextlib.redirect_stdout(out):\n    code = main()\n"
        "print(json.dumps({'code': code, 'card': json.loads(out.getvalue()),"
        " 'loaded': [m for m in ('pandas', 'exchange_calendars') if m in sys.modules]}))"
    )
    ran = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)
    assert ran["code"] == 0 and ran["loaded"] == []
    assert [t["entry_date"] for t in ran["card"]["trades"]] == [days[42].isoformat()]  # the open after that close
