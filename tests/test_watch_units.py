"""The pure parts of watching, as tables: health verdicts, the next action, notification keys, the outbox, routes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.domain import NEW_YORK
from bot.engine.portfolio import OpenTrade
from bot.health import evaluate
from bot.ledger_records import OrderRecord
from bot.market.calendar import nyse_sessions, session_for
from bot.season_calendar import TradingCalendar
from bot.watch.messages import NOTIFIED_EVENTS, notification_for
from bot.watch.metrics import route_of
from bot.watch.next_action import PassView, describe
from bot.watch.outbox import MAX_ATTEMPTS, RETRY_AFTER, Notification, Outbox
from strategies.params import BreakoutParams, Trigger

NOW = datetime(2024, 3, 1, 12, tzinfo=UTC)


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).isoformat()


@pytest.mark.parametrize(
    ("beat", "ok", "cause"),
    [
        (None, False, "no heartbeat"),
        ({"at": ago(1), "state": "starting"}, True, "starting"),
        ({"at": ago(400), "state": "starting"}, False, "no successful pass yet"),
        ({"at": ago(1), "state": "ok", "last_ok_at": ago(1)}, True, "last successful pass 1.0s ago"),
        ({"at": ago(1), "state": "degraded", "last_ok_at": ago(20), "problems": {}}, True, "20.0s ago"),
        ({"at": ago(1), "state": "degraded", "last_ok_at": ago(301)}, False, "last successful pass 301s ago"),
        ({"at": ago(1), "state": "ok", "last_ok_at": ago(1), "problems": {"account_blocked": "trading_blocked"}},
         False, "account_blocked: trading_blocked"),
        ({"at": ago(1), "state": "stopped", "problems": {"credentials": "refused (401)"}}, False, "credentials"),
        ({"at": ago(1), "state": "ok", "last_ok_at": ago(1),
          "problems": {"exhausted:2024:exit": "5 attempts used", "position_mismatch": "broker holds 0"}},
         False, "exhausted:2024:exit: 5 attempts used; position_mismatch: broker holds 0"),
        ({"at": ago(1), "state": "stopped", "last_ok_at": ago(2)}, False, "stopped"),
    ],
)  # fmt: skip
def test_health_verdicts(beat: dict[str, Any] | None, ok: bool, cause: str) -> None:
    health = evaluate(beat, max_age=300, now=NOW)
    assert health.ok is ok
    assert cause in health.cause


def calendar_around(start: date, end: date) -> TradingCalendar:
    return TradingCalendar([session_for(day) for day in nyse_sessions(start, end)])


CALENDAR = calendar_around(date(2023, 11, 1), date(2025, 7, 31))
PARAMS = BreakoutParams()
TRADE = OpenTrade(2024, Decimal(470), date(2023, 12, 14), Decimal("202.29"), Decimal("449.06"), date(2024, 6, 28))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK)


def view(now: datetime, **changes: Any) -> PassView:
    base = PassView(
        now=now,
        calendar=CALENDAR,
        params=PARAMS,
        trade=None,
        held=Decimal(0),
        live_orders=[],
        fills_pending=False,
        blocked_by=None,
        season_entered=False,
        decided=frozenset(),
        equity=Decimal(100_000),
        broker_qty=Decimal(0),
    )
    return replace(base, **changes)


def order(intent: str, side: str, tif: str, status: str) -> OrderRecord:
    stamp = at(date(2023, 12, 13), 19, 5)
    return OrderRecord(
        f"brk-IWM-2024-{intent}-1", "b1", "IWM", side, intent, 2024, Decimal(470), tif, status, Decimal(0), "r",
        stamp, stamp,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("seen", "text", "when"),
    [
        # waiting for a breakout: the close of today's session is decided at 19:00
        (view(at(date(2023, 12, 12), 12), decided=frozenset({date(2023, 12, 11)})),
         "after the close on 2023-12-12: buy IWM at the next open (opg) if it closes above 200.00",
         at(date(2023, 12, 12), 19)),
        # yesterday's close not decided yet (the bot was down at 19:00): due now
        (view(at(date(2023, 12, 12), 12)), "after the close on 2023-12-11", at(date(2023, 12, 12), 12)),
        # after the close, before 19:00: still today's close
        (view(at(date(2023, 12, 12), 17)), "after the close on 2023-12-12", at(date(2023, 12, 12), 19)),
        # today's close decided: the next session's
        (view(at(date(2023, 12, 12), 20), decided=frozenset({date(2023, 12, 12)})), "after the close on 2023-12-13",
         at(date(2023, 12, 13), 19)),
        # Friday decided: Monday's close
        (view(at(date(2023, 12, 15), 20), decided=frozenset({date(2023, 12, 15)})), "after the close on 2023-12-18",
         at(date(2023, 12, 18), 19)),
        (view(at(date(2023, 12, 12), 17), params=replace(PARAMS, confirm_days=3)), "for 3 sessions in a row",
         at(date(2023, 12, 12), 19)),
        (view(at(date(2023, 12, 12), 8), params=replace(PARAMS, trigger=Trigger.INTRADAY)),
         "from the open on 2023-12-12: buy IWM on the first minute above 200.00", at(date(2023, 12, 12), 9, 30)),
        (view(at(date(2023, 12, 13), 20), live_orders=[order("entry", "buy", "opg", "accepted")]),
         "waiting for the entry order brk-IWM-2024-entry-1: buy 470 IWM (opg)", None),
        (view(at(date(2023, 12, 14), 9, 35), fills_pending=True), "once SPY's official minute bars are out", None),
        # holding: the cls sell goes out after 19:00 the session before the exit
        (view(at(date(2024, 3, 1), 12), trade=TRADE, held=Decimal(470)),
         "after the close on 2024-06-27: send a cls sell of 470 IWM for 2024-06-28", at(date(2024, 6, 27), 19)),
        # past the cls cut-off of the exit day: a day order, due now
        (view(at(date(2024, 6, 28), 15, 55), trade=TRADE, held=Decimal(470)), "selling 470 IWM (day) for 2024-06-28",
         at(date(2024, 6, 28), 15, 55)),
        # a holiday exit date (STRATEGY_EXIT_DATE on July 4th): the trader sells at the next session, and says so
        (view(at(date(2024, 3, 1), 12), trade=replace(TRADE, planned_exit=date(2024, 7, 4)), held=Decimal(470)),
         "after the close on 2024-07-03: send a cls sell of 470 IWM for 2024-07-05", at(date(2024, 7, 3), 19)),
        (view(at(date(2024, 3, 1), 12), trade=replace(TRADE, planned_exit=date(2031, 6, 27)), held=Decimal(470)),
         "the planned exit 2031-06-27 is past the broker's calendar", None),
        (view(at(date(2024, 3, 1), 12), season_entered=True),
         "season 2024 is traded; the rule looks for a breakout again from 2024-07-01", at(date(2024, 7, 1), 19)),
        (view(at(date(2024, 3, 1), 17), season_entered=True, params=replace(PARAMS, allow_reentry=True)),
         "after the close on 2024-03-01", at(date(2024, 3, 1), 19)),
        (view(at(date(2024, 3, 1), 12), blocked_by="trading_blocked"),
         "no orders until the account is unblocked (trading_blocked)", None),
    ],
)  # fmt: skip
def test_the_next_action_in_words(seen: PassView, text: str, when: datetime | None) -> None:
    action = describe(seen)
    assert text in action.text
    assert action.at == when


FILL = {"client_order_id": "brk-IWM-2024-entry-1", "cum_qty": "470", "side": "buy", "qty": "470", "symbol": "IWM",
        "price": "202.29", "order_qty": "470", "filled_at": "2023-12-14T14:30:00+00:00", "benchmark": "SPY",
        "benchmark_price": "449.06"}  # fmt: skip


def test_each_notified_event_has_its_own_key_and_others_are_not_notified() -> None:
    partial = notification_for("fill", {**FILL, "cum_qty": "100", "qty": "100"})
    full = notification_for("fill", FILL)
    assert partial is not None and full is not None and partial.key != full.key
    assert full.title == "Filled: buy 470 IWM @ 202.29"
    closed = notification_for(
        "trade_closed",
        {"symbol": "IWM", "season": 2024, "qty": 470, "entry_date": "2023-12-14", "entry_price": "202.29",
         "exit_date": "2024-06-28", "exit_price": "205.38", "realized_pnl": "1452.30", "return_pct": "1.5275",
         "benchmark": "SPY", "benchmark_return_pct": "14.8166", "excess_return_pct": "-13.2891",
         "claim_holds": False},
    )  # fmt: skip
    assert closed is not None and "fails" in closed.body and closed.key == "trade_closed:IWM:2024"
    assert closed.body.startswith("Season 2024: bought 470")


CLOSED = {
    "symbol": "IWM",
    "season": 2024,
    "qty": 470,
    "entry_date": "2023-12-14",
    "entry_price": "202.29",
    "exit_date": "2024-03-01",
    "exit_price": "205.38",
    "realized_pnl": "1452.30",
    "return_pct": "1.5275",
    "benchmark": "SPY",
    "benchmark_return_pct": "4.8166",
    "excess_return_pct": "-3.2891",
    "claim_holds": False,
}
EXHAUSTED = {"season": 2024, "intent": "entry", "attempts": 5, "action": "stopped_trying"}


@pytest.mark.parametrize(
    ("event", "fields", "key", "words"),
    [
        ("trade_closed", {**CLOSED, "trip": 1}, "trade_closed:IWM:2024", "Season 2024: bought"),
        ("trade_closed", {**CLOSED, "trip": 2}, "trade_closed:IWM:2024:2", "Season 2024, round trip 2: bought"),
        ("order_attempts_exhausted", {**EXHAUSTED, "trip": 1}, "exhausted:2024:entry", "entry of season 2024"),
        ("order_attempts_exhausted", {**EXHAUSTED, "trip": 3}, "exhausted:2024:entry:3",
         "entry of season 2024, round trip 3"),
    ],
)  # fmt: skip
def test_a_re_entrys_round_trip_is_told_apart_from_the_seasons_first(
    event: str, fields: dict[str, Any], key: str, words: str
) -> None:
    """With STRATEGY_ALLOW_REENTRY a season has several round trips: each one's close and exhaustion is news."""
    told = notification_for(event, fields)
    assert told is not None and told.key == key
    assert words in f"{told.title} {told.body}"
    assert notification_for("pnl", {"session": "2024-01-02"}) is None
    assert notification_for("signal", {}) is None
    assert len(set(NOTIFIED_EVENTS)) == 6


def test_the_outbox_queues_each_key_once_and_retries_a_bounded_number_of_times(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "ledger.sqlite")
    note = Notification("1:fill:x:470", "fill", "Filled", "body")
    assert outbox.queue(note, now=NOW) is True
    assert outbox.queue(note, now=NOW) is False  # a restart logging the same event again
    moment = NOW
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert [n.key for n in outbox.due(moment)] == [note.key]
        assert outbox.mark_failed(note.key, "refused", now=moment) == attempt
        wait = RETRY_AFTER[min(attempt - 1, len(RETRY_AFTER) - 1)]
        assert outbox.due(moment + wait - timedelta(seconds=1)) == []  # not before its wait
        moment += wait
    assert outbox.due(moment + timedelta(days=1)) == []  # given up after MAX_ATTEMPTS
    other = Notification("1:fill:y:470", "fill", "Filled", "body")
    outbox.queue(other, now=NOW)
    outbox.mark_sent(other.key, now=NOW)
    assert outbox.due(NOW + timedelta(days=1)) == []
    assert [n.sent_at is not None for n in outbox.all()] == [False, True]


def test_the_outbox_remembers_the_last_health_it_told_of(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "ledger.sqlite")
    assert outbox.last_health() is True  # nothing told yet: healthy is what services assume
    outbox.queue(Notification("1:health:a", "health_changed", "Bot unhealthy", "c"), healthy=False, now=NOW)
    assert outbox.last_health() is False
    later = NOW + timedelta(minutes=5)
    outbox.queue(Notification("1:health:b", "health_changed", "Bot healthy again", "c"), healthy=True, now=later)
    assert outbox.last_health() is True


@pytest.mark.parametrize(
    ("url", "route"),
    [
        ("http://x/v2/clock", "/v2/clock"),
        ("http://x/v2/positions/IWM", "/v2/positions/{}"),
        ("http://x/v2/orders:by_client_order_id?client_order_id=brk-IWM-2024-entry-1", "/v2/orders:by_client_order_id"),
        ("http://x/v2/orders/61e69015-8549-4bfd-b9c3-01e75843f47d", "/v2/orders/{}"),
        ("http://x/v2/stocks/bars?symbols=IWM", "/v2/stocks/bars"),
        ("http://x/v2/stocks/IWM/trades/latest", "/v2/stocks/{}/trades/latest"),
    ],
)
def test_request_routes_keep_ids_out_of_the_labels(url: str, route: str) -> None:
    assert route_of(url) == route
