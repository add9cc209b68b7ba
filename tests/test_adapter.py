"""The alpaca-py adapter: its hold on the SDK's private retry and timeout, and exactly-once submission."""

from __future__ import annotations

import io
import json
import time
from datetime import date, datetime
from pathlib import Path

import pytest
import requests
from pydantic import SecretStr

from bot.broker.alpaca import AlpacaBroker
from bot.config import Settings, load_settings
from bot.domain import NEW_YORK, OrderRequest, Side, TimeInForce
from bot.errors import BrokerUnavailable, OrderRejected
from bot.local_exchange.clock import ManualClock
from bot.local_exchange.faults import parse_faults
from bot.local_exchange.server import LocalExchange
from bot.logs import SecretScrubber, configure_logging
from bot.market.scenarios import build_scenario
from tests.admin import Admin

FRAMES = build_scenario("breakout")
EVENING = datetime(2023, 12, 13, 20, 0, tzinfo=NEW_YORK)


def settings_for(url: str, **runtime: float) -> Settings:
    base = load_settings()
    alpaca = base.alpaca.model_copy(
        update={
            "key_id": SecretStr("PKADAPTER"),
            "secret_key": SecretStr("adapter-s3cret"),
            "base_url": url,
            "data_url": url,
        }
    )
    return Settings(base.strategy, alpaca, base.runtime.model_copy(update=runtime))


def entry(coid: str = "brk-IWM-2024-entry-1") -> OrderRequest:
    return OrderRequest(symbol="IWM", side=Side.BUY, qty=10, time_in_force=TimeInForce.OPG, client_order_id=coid)


def test_sdk_private_retry_and_session_are_still_there() -> None:
    # alpaca-py is pinned; if an upgrade renames these, the adapter would silently double-retry.
    broker = AlpacaBroker(settings_for("http://127.0.0.1:9"))
    for client in (broker._trading, broker._data):
        assert client._retry == 0
        assert hasattr(client, "_retry_wait") and hasattr(client, "_retry_codes")
        assert isinstance(client._session, requests.Session)


def test_sdk_retry_is_off_so_each_fault_costs_one_request(tmp_path: Path) -> None:
    with LocalExchange(FRAMES, clock=ManualClock(EVENING), faults=parse_faults("504:burst=1:from=1")) as ex:
        broker = AlpacaBroker(settings_for(ex.url, retry_max_seconds=5), sleep=lambda s: None)
        assert broker.account().status == "ACTIVE"
        assert ex.request_counts["GET /v2/account"] == 2  # one 504, one retry by tenacity; none by the SDK


def test_every_request_has_a_timeout() -> None:
    with LocalExchange(FRAMES, clock=ManualClock(EVENING), faults=parse_faults("slow:1:seconds=3")) as ex:
        broker = AlpacaBroker(
            settings_for(ex.url, http_timeout_seconds=0.3, retry_max_seconds=0.5), sleep=lambda s: None
        )
        started = time.monotonic()
        with pytest.raises(BrokerUnavailable, match="ReadTimeout"):
            broker.clock()
        assert time.monotonic() - started < 2.5


def test_retries_are_logged_and_bounded() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    with LocalExchange(FRAMES, clock=ManualClock(EVENING), faults=parse_faults("503:1")) as ex:
        broker = AlpacaBroker(settings_for(ex.url, retry_max_seconds=30), sleep=lambda s: None)
        with pytest.raises(BrokerUnavailable, match="HTTP 503"):
            broker.account()
        assert ex.request_counts["GET /v2/account"] == 8
    retries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [r["attempt"] for r in retries] == list(range(1, 8))
    assert {r["event"] for r in retries} == {"retry"} and {r["cause"] for r in retries} == {"HTTP 503"}


def test_submission_after_a_lost_response_finds_the_order_instead_of_sending_again() -> None:
    with LocalExchange(FRAMES, clock=ManualClock(EVENING), faults=parse_faults("drop_order_response:nth=1")) as ex:
        broker = AlpacaBroker(settings_for(ex.url), sleep=lambda s: None)
        order = broker.submit(entry())
        assert order.client_order_id == "brk-IWM-2024-entry-1"
        assert len(Admin(ex.url, "PKADAPTER").orders()) == 1
        assert ex.request_counts["POST /v2/orders"] == 1
        again = broker.submit(entry())  # a restart asking again gets the same order back
        assert again.id == order.id and len(Admin(ex.url, "PKADAPTER").orders()) == 1


def test_rejections_are_not_resent() -> None:
    with LocalExchange(FRAMES, clock=ManualClock(datetime(2023, 12, 13, 12, tzinfo=NEW_YORK))) as ex:
        broker = AlpacaBroker(settings_for(ex.url), sleep=lambda s: None)
        with pytest.raises(OrderRejected, match="opg orders must be submitted after 7:00pm and before 9:28am"):
            broker.submit(entry())
        assert ex.request_counts["POST /v2/orders"] == 1


def test_calendar_and_bars_come_back_in_new_york_sessions() -> None:
    with LocalExchange(FRAMES, clock=ManualClock(EVENING)) as ex:
        broker = AlpacaBroker(settings_for(ex.url), sleep=lambda s: None)
        sessions = broker.calendar(date(2023, 11, 24), date(2023, 11, 24))
        assert sessions[0].closes_at == datetime(2023, 11, 24, 13, tzinfo=NEW_YORK)
        bars = broker.daily_bars("IWM", date(2023, 12, 11), date(2023, 12, 13))
        assert [b.session for b in bars] == [date(2023, 12, 11), date(2023, 12, 12), date(2023, 12, 13)]


def test_scrubber_replaces_configured_secrets_everywhere() -> None:
    scrub = SecretScrubber(["s3cret-value", "x"])
    event = scrub(None, "info", {"event": "e", "text": "key s3cret-value", "nested": {"list": ["s3cret-value"]}})
    assert event == {"event": "e", "text": "key [redacted]", "nested": {"list": ["[redacted]"]}}
