"""Bar files, scenarios, the intraday path and the session calendar."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time
from pathlib import Path

import pytest

from bot.domain import NEW_YORK
from bot.errors import ConfigError, DataError
from bot.local_exchange.market import ReplayMarket
from bot.market.bar_sources import DailyHistory
from bot.market.calendar import session_for
from bot.market.csv_data import load_csv, load_symbols
from bot.market.intraday import minute_path, price_at
from bot.market.scenarios import CROSS_DAY, SCENARIO_NAMES, build_scenario, write_scenario
from strategies.bars import DailyBar

HEADER = "date,open,high,low,close,volume\n"
GOOD = "2024-01-02,200,201,199,200.5,10\n2024-01-03,200.5,202,200,201,10\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            HEADER + "2024-01-03,200,201,199,200.5,10\n2024-01-02,200,201,199,200.5,10\n",
            "line 3: 2024-01-02 is not after",
        ),
        (HEADER + "2024-01-02,200,201,199,200.5,10\n2024-01-02,200,201,199,200.5,10\n", "line 3: duplicate 2024-01-02"),
        (HEADER + "2024-01-02,200,201,199,,10\n", "line 2: close is '', not a number"),
        (HEADER + "2024-01-02,200,201,199,abc,10\n", "line 2: close is 'abc'"),
        (HEADER + "2024-01-02,200,1e999,199,200.5,10\n", "line 2: high is '1e999', not a finite number"),
        (HEADER + "2024-01-02,200,201,199,200.5,1e400\n", "line 2: volume is '1e400', not a finite number"),
        (HEADER + "2024-01-02,0,201,0,200.5,10\n", "line 2: prices must be positive"),
        (HEADER + "2024-01-02,200,199,198,200.5,10\n", "line 2: high/low do not contain"),
        (HEADER + "2024-13-02,200,201,199,200.5,10\n", "line 2: date '2024-13-02' is not valid"),
        (HEADER, "no rows"),
        ("", "not a readable CSV"),
        (
            "timestamp,open,high,low,close,volume\n2024-01-02T09:30:00,1,1,1,1,1\n",
            "line 2: timestamp has no UTC offset",
        ),
    ],
    ids=[
        "unsorted",
        "duplicate",
        "empty-cell",
        "text",
        "overflowing-price",
        "overflowing-volume",
        "non-positive",
        "high-below-close",
        "bad-date",
        "no-rows",
        "empty-file",
        "naive-timestamp",
    ],
)
def test_bad_files_name_the_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "IWM.csv"
    path.write_text(text)
    with pytest.raises(DataError) as caught:
        load_csv(path)
    assert str(path) in str(caught.value) and expected in str(caught.value)


def test_daily_and_intraday_files_load(tmp_path: Path) -> None:
    (tmp_path / "IWM.csv").write_text(HEADER + GOOD)
    (tmp_path / "SPY.csv").write_text(
        "timestamp,open,high,low,close,volume\n2024-01-02T09:30:00-05:00,1,2,1,2,5\n2024-01-02T14:31:00Z,2,2,1,1,5\n"
    )
    frames = load_symbols(tmp_path, ["IWM", "SPY"])
    assert list(frames["IWM"].index) == [date(2024, 1, 2), date(2024, 1, 3)]
    assert str(frames["SPY"].index.tz) == "UTC"


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_scenarios_are_deterministic_consistent_and_round_trip(tmp_path: Path, name: str) -> None:
    frames = build_scenario(name, seed=5)
    assert build_scenario(name, seed=5)["IWM"].equals(frames["IWM"])
    assert not build_scenario(name, seed=6)["IWM"].equals(frames["IWM"])
    for frame in frames.values():
        assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()
        assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
    write_scenario(name, tmp_path, seed=5)
    loaded = load_symbols(tmp_path, ["IWM", "SPY"])
    assert (loaded["IWM"]["close"] - frames["IWM"]["close"]).abs().max() < 1e-9


def test_scenarios_keep_their_defining_shape() -> None:
    breakout = build_scenario("breakout")["IWM"]["close"]
    assert (breakout[breakout.index < CROSS_DAY] <= 199.5).all() and (breakout[breakout.index >= CROSS_DAY] > 200).all()
    assert (build_scenario("no-breakout")["IWM"]["close"] <= 197).all()
    false = build_scenario("false-breakout")["IWM"]["close"]
    assert false[CROSS_DAY] > 200 and false.iloc[-1] < 200
    gap = build_scenario("gap-through")["IWM"]
    assert gap.loc[date(2023, 12, 12), "close"] == 196 and gap.loc[CROSS_DAY, "open"] > 203
    with pytest.raises(ConfigError, match="scenario 'nope' is not known"):
        build_scenario("nope")


def test_calendar_knows_early_closes_and_falls_back_beyond_its_range() -> None:
    assert session_for(date(2023, 11, 24)).early_close
    assert session_for(date(2023, 11, 24)).closes_at.astimezone(NEW_YORK).time() == time(13, 0)
    assert not session_for(date(2023, 11, 27)).early_close
    assert session_for(date(2035, 3, 1)).closes_at.time() == time(16, 0)


def test_intraday_path_keeps_the_daily_bar() -> None:
    bar = DailyBar(date(2023, 11, 24), 180.0, 183.0, 179.0, 182.5)
    session = session_for(bar.session)
    path = minute_path(bar, session)
    assert len(path) == 210  # 09:30 to the 13:00 early close
    assert path[0].open == bar.open and path[-1].close == bar.close
    assert max(m.high for m in path) == bar.high and min(m.low for m in path) == bar.low
    assert all(b.start - a.start == path[1].start - path[0].start for a, b in itertools.pairwise(path))
    assert price_at(bar, session, 0) == bar.open and price_at(bar, session, 210) == bar.close
    assert len(minute_path(DailyBar(date(2023, 11, 27), 1, 2, 0.5, 1.5), session_for(date(2023, 11, 27)))) == 390


@pytest.mark.parametrize(
    ("start", "last"),
    [(time(9, 30), time(9, 34)), (time(12, 58), time(13, 30)), (time(9, 0), time(9, 31, 30)),
     (time(9, 45, 10), time(9, 47)), (time(13, 5), time(14, 0)), (time(10, 0), time(9, 59))],
)  # fmt: skip
def test_a_window_of_the_path_is_those_minutes_of_the_whole_path(start: time, last: time) -> None:
    """The exchange makes a daily bar's path only for the minutes asked (a fill's benchmark price reads five)."""
    bar = DailyBar(date(2023, 11, 24), 180.0, 183.0, 179.0, 182.5)  # an early close: 210 minutes
    day = bar.session
    market = ReplayMarket({"IWM": DailyHistory((bar,))})
    window = [datetime.combine(day, moment, NEW_YORK) for moment in (start, last)]
    whole = minute_path(bar, session_for(day))
    expected = [m for m in whole if window[0] <= m.start <= window[1]]
    assert market.completed_minutes("IWM", datetime.combine(day, time(20), NEW_YORK), *window) == expected
