"""Minute data: replayed as it is by the exchange, and backtested with the intraday trigger."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pandas as pd
import pytest
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest, StockLatestTradeRequest
from alpaca.data.timeframe import TimeFrame

from bot.cli import main
from bot.domain import NEW_YORK
from bot.local_exchange.clock import ManualClock
from bot.local_exchange.data_routes import DataPlan
from bot.local_exchange.server import LocalExchange
from bot.market.calendar import session_for
from bot.market.csv_data import SessionMinutes, daily_bars, load_csv, load_symbols
from bot.market.intraday import minute_path
from bot.market.scenarios import build_scenario, scenario_dividends
from strategies.bars import MinuteBar

SESSIONS = (date(2023, 12, 11), date(2024, 7, 3))
MINUTE = timedelta(minutes=1)


def write_minutes(directory: Path) -> dict[str, pd.DataFrame]:
    """Minute files along the intraday path of the breakout scenario's daily bars, for part of the season."""
    directory.mkdir(parents=True, exist_ok=True)
    for symbol, frame in build_scenario("breakout").items():
        rows = []
        for bar in daily_bars(frame):
            if SESSIONS[0] <= bar.session <= SESSIONS[1]:
                rows += [
                    (m.start.isoformat(), m.open, m.high, m.low, m.close, int(m.volume) + 1)
                    for m in minute_path(bar, session_for(bar.session))
                ]
        pd.DataFrame(rows, columns=["timestamp", "open", "high", "low", "close", "volume"]).to_csv(
            directory / f"{symbol}.csv", index=False
        )
        dividends = scenario_dividends("breakout")[symbol]  # the scenario's, so both sources score alike
        (directory / f"{symbol}.dividends.csv").write_text(
            "ex_date,amount\n" + "".join(f"{d.ex_date},{d.amount}\n" for d in dividends)
        )
    return load_symbols(directory, ["IWM", "SPY"])


def test_exchange_replays_minute_data_as_it_is(tmp_path: Path) -> None:
    frames = write_minutes(tmp_path)
    clock = ManualClock(datetime(2023, 12, 13, 10, 0, 30, tzinfo=NEW_YORK))
    with LocalExchange(frames, clock=clock, data_plan=DataPlan.PLUS) as exchange:  # real-time SIP
        client = StockHistoricalDataClient("PKMINUTE", "minute-secret", url_override=exchange.url)
        start = datetime(2023, 12, 13, 9, 30, tzinfo=NEW_YORK)
        served = client.get_stock_bars(
            StockBarsRequest(symbol_or_symbols="IWM", timeframe=TimeFrame.Minute, start=start)
        )["IWM"]
        recorded = frames["IWM"].loc[pd.Timestamp(start) : pd.Timestamp(datetime(2023, 12, 13, 9, 59, tzinfo=NEW_YORK))]
        assert [b.close for b in served] == recorded["close"].tolist()
        assert [b.volume for b in served] == recorded["volume"].tolist()
        trade = client.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols="IWM"))["IWM"]
        assert trade.price == recorded["close"].iloc[-1]  # the 09:59 minute has closed; 10:00 is under way
        daily = client.get_stock_bars(
            StockBarsRequest(
                symbol_or_symbols="IWM", timeframe=TimeFrame.Day, start=datetime(2023, 12, 11, tzinfo=NEW_YORK)
            )
        )["IWM"]
        assert [b.close for b in daily[:2]] == [
            build_scenario("breakout")["IWM"].loc[d, "close"] for d in (date(2023, 12, 11), date(2023, 12, 12))
        ]
        # Today's bar is partial, as Alpaca serves it during the session: its close is the last minute's.
        assert daily[2].timestamp.astimezone(NEW_YORK).date() == date(2023, 12, 13)
        assert daily[2].close == recorded["close"].iloc[-1]


def test_intraday_backtest_on_minute_files_equals_the_path_on_daily_bars(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_minutes(tmp_path / "minutes")
    monkeypatch.setenv("STRATEGY_TRIGGER", "intraday")
    assert main(["backtest", "--data", str(tmp_path / "minutes"), "--json"]) == 0
    on_minutes = json.loads(capsys.readouterr().out)
    span = ["--start", SESSIONS[0].isoformat(), "--end", SESSIONS[1].isoformat()]
    assert main(["backtest", "--scenario", "breakout", *span, "--json"]) == 0
    on_daily = json.loads(capsys.readouterr().out)
    assert on_minutes["trades"] == on_daily["trades"]
    assert on_minutes["trades"][0]["entry_date"] == "2023-12-13"  # bought the day it broke out, not the next
    assert on_minutes["benchmark"] == on_daily["benchmark"]


def test_backtest_source_alpaca_downloads_through_the_sdk(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock(datetime(2024, 7, 12, 20, tzinfo=NEW_YORK))  # the whole season is history
    scenario = build_scenario("breakout")
    with LocalExchange(scenario, clock=clock, page_size=50, dividends=scenario_dividends("breakout")) as exchange:
        for name, value in (
            ("APCA_API_KEY_ID", "PKSOURCE"),
            ("APCA_API_SECRET_KEY", "source-secret"),
            ("APCA_API_BASE_URL", exchange.url),
            ("APCA_API_DATA_URL", exchange.url),
        ):
            monkeypatch.setenv(name, value)
        span = ["--start", "2023-11-01", "--end", "2024-07-12"]
        assert main(["backtest", "--source", "alpaca", *span, "--json"]) == 0
        downloaded = json.loads(capsys.readouterr().out)
        # Starting on the breakout session: the sessions before --start are fetched as history, so the fresh
        # cross is seen as it is with a whole data directory.
        late = ["--start", "2023-12-13", "--end", "2024-07-12"]
        assert main(["backtest", "--source", "alpaca", *late, "--json"]) == 0
        late_download = json.loads(capsys.readouterr().out)
    assert main(["backtest", "--scenario", "breakout", "--json"]) == 0
    replayed = json.loads(capsys.readouterr().out)
    assert downloaded.pop("provenance")["data"]["kind"] == "alpaca"
    assert replayed.pop("provenance")["data"]["kind"] == "scenario"
    assert downloaded == replayed
    assert main(["backtest", "--scenario", "breakout", *late, "--json"]) == 0
    late_replay = json.loads(capsys.readouterr().out)
    assert late_download["trades"] == late_replay["trades"] and len(late_replay["trades"]) == 1


def test_pre_and_post_market_minutes_change_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alpaca's minute bars include extended hours: a wild pre-market print must not open the day or buy early."""
    write_minutes(tmp_path / "regular")
    (tmp_path / "extended").mkdir()
    for symbol in ("IWM", "SPY"):
        frame = pd.read_csv(tmp_path / "regular" / f"{symbol}.csv")
        extra = []
        for day in sorted({ts[:10] for ts in frame["timestamp"]}):
            session = session_for(date.fromisoformat(day))
            for moment in (session.opens_at.replace(hour=8), session.closes_at.replace(hour=18)):
                extra.append((moment.isoformat(), 260.0, 261.0, 259.0, 260.5, 500))
        extended = pd.concat([frame, pd.DataFrame(extra, columns=frame.columns)])
        extended["order"] = pd.to_datetime(extended["timestamp"], utc=True)
        extended.sort_values("order").drop(columns="order").to_csv(tmp_path / "extended" / f"{symbol}.csv", index=False)
        dividends = f"{symbol}.dividends.csv"
        (tmp_path / "extended" / dividends).write_text((tmp_path / "regular" / dividends).read_text())
    for trigger in ("close", "intraday"):
        monkeypatch.setenv("STRATEGY_TRIGGER", trigger)
        results = []
        for name in ("regular", "extended"):
            assert main(["backtest", "--data", str(tmp_path / name), "--json"]) == 0
            result = json.loads(capsys.readouterr().out)
            result.pop("provenance")
            results.append(result)
        assert results[0] == results[1] and results[0]["trades"], trigger


def test_each_sessions_minutes_are_the_files_rows_of_that_new_york_day(tmp_path: Path) -> None:
    """Made into bars when first read; a New York day's rows, whatever their UTC date (evening prints are the next
    day in UTC), in the file's order."""
    rows = [
        ("2024-01-02T13:00:00Z", 1.0),  # 08:00 New York, pre-market
        ("2024-01-02T14:30:00Z", 2.0),
        ("2024-01-03T00:30:00Z", 3.0),  # 19:30 New York on January 2nd
        ("2024-01-03T14:30:00Z", 4.0),
        ("2024-01-03T14:31:00Z", 5.0),
        ("2024-01-05T20:59:00Z", 6.0),
    ]
    path = tmp_path / "IWM.csv"
    path.write_text("timestamp,open,high,low,close,volume\n" + "".join(f"{t},{p},{p},{p},{p},7\n" for t, p in rows))
    frame = load_csv(path)
    by_day: dict[date, list[float]] = {}
    for stamp, price in rows:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        by_day.setdefault(moment.astimezone(NEW_YORK).date(), []).append(price)
    sessions = SessionMinutes(frame)
    assert list(sessions) == list(by_day) == [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 5)]
    assert {day: [bar.close for bar in sessions[day]] for day in sessions} == by_day
    stamped = [MinuteBar(datetime.fromisoformat(t.replace("Z", "+00:00")), p, p, p, p, 7.0) for t, p in rows]
    assert [bar for day in sessions for bar in sessions[day]] == stamped
    assert sessions.get(date(2024, 1, 4)) is None and len(sessions) == 3


@pytest.mark.parametrize("unit", ["ns", "us", "s"])
@pytest.mark.parametrize(
    ("start", "end"),
    [("09:30", "09:35"), ("09:31:30", "09:33"), ("12:00", "16:00"), ("08:00", "09:30"), ("15:59", "20:00"),
     ("10:00", "09:59")],
)  # fmt: skip
def test_a_window_of_a_session_s_minutes_is_those_of_the_whole_session(unit: str, start: str, end: str) -> None:
    """What the replay reads of recorded minutes without making the whole session's bars: the minutes starting in
    a window (the end included), and the first of them closing above a level (the end excluded)."""
    day = date(2024, 1, 3)
    opens = datetime(2024, 1, 3, 9, 30, tzinfo=NEW_YORK)
    closes = [200.0 + ((i * 7) % 11) / 10 for i in range(390)]  # 200.0 to 201.0, up and down
    index = pd.DatetimeIndex([opens + i * MINUTE for i in range(390)]).tz_convert("UTC").as_unit(unit)
    frame = pd.DataFrame({"open": closes, "high": closes, "low": closes, "close": closes, "volume": 1.0}, index=index)
    whole = SessionMinutes(frame)[day]
    first, last = (datetime.combine(day, time.fromisoformat(t), NEW_YORK) for t in (start, end))
    assert SessionMinutes(frame).between(day, first, last) == [m for m in whole if first <= m.start <= last]
    made = SessionMinutes(frame)
    assert len(made[day]) == 390  # made first: a window of it is sliced from it
    assert made.between(day, first, last) == [m for m in whole if first <= m.start <= last]
    for level in (200.0, 200.55, 200.95, 201.0):
        expected = next((m.start for m in whole if first <= m.start < last and m.close > level), None)
        assert SessionMinutes(frame).first_close_above(day, first, last, level) == expected
    assert SessionMinutes(frame).between(date(2024, 1, 4), first, last) == []
