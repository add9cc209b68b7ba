"""The local exchange behaves like Alpaca paper: margin and shorts, account flags, auction fates, feeds, limits.

Every test drives the real alpaca-py clients (or plain HTTP for the admin routes) against the exchange.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.enums import DataFeed
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest, StockLatestTradeRequest
from alpaca.data.timeframe import TimeFrame
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderStatus
from alpaca.trading.models import AccountConfiguration
from alpaca.trading.requests import MarketOrderRequest

from bot.domain import NEW_YORK
from bot.errors import ConfigError
from bot.local_exchange.accounts import AccountModel
from bot.local_exchange.clock import ManualClock
from bot.local_exchange.data_routes import DataPlan
from bot.local_exchange.faults import parse_faults
from bot.local_exchange.server import LocalExchange
from bot.market.scenarios import build_scenario
from tests.admin import Admin

FRAMES = build_scenario("breakout")
KEY, SECRET = "PKPAPER", "paper-secret"
SIGNAL_DAY, ENTRY_DAY = date(2023, 12, 13), date(2023, 12, 14)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at(SIGNAL_DAY, 20))


def exchange(clock: ManualClock, **options: object) -> LocalExchange:
    return LocalExchange(FRAMES, clock=clock, start=date(2023, 12, 1), end=date(2024, 7, 3), **options)  # type: ignore[arg-type]


def trading_client(ex: LocalExchange) -> TradingClient:
    client = TradingClient(KEY, SECRET, paper=True, url_override=ex.url)
    client._retry = 0
    return client


def data_client(ex: LocalExchange) -> StockHistoricalDataClient:
    client = StockHistoricalDataClient(KEY, SECRET, url_override=ex.url)
    client._retry = 0
    return client


@pytest.fixture
def margin(clock: ManualClock) -> Iterator[LocalExchange]:
    with exchange(clock) as ex:
        yield ex


def order(side: str, qty: int, tif: str, coid: str) -> MarketOrderRequest:
    return MarketOrderRequest(symbol="IWM", qty=qty, side=side, time_in_force=tif, client_order_id=coid)


def refused(call: object) -> APIError:
    with pytest.raises(APIError) as caught:
        call()  # type: ignore[operator]
    return caught.value


# Account and positions


def test_a_sell_while_flat_opens_a_short_on_a_margin_account(margin: LocalExchange, clock: ManualClock) -> None:
    trading = trading_client(margin)
    clock.set(at(ENTRY_DAY, 10))
    trading.submit_order(order("sell", 10, "day", "c-short"))
    filled = trading.get_order_by_client_id("c-short")
    assert (filled.status, filled.position_intent) == (OrderStatus.FILLED, "sell_to_open")
    position = trading.get_open_position("IWM")
    assert (position.qty, position.side) == ("-10", "short")
    assert Admin(margin.url, KEY).position("IWM") == -10


def test_one_sell_larger_than_the_long_position_is_refused(margin: LocalExchange, clock: ManualClock) -> None:
    trading = trading_client(margin)
    clock.set(at(ENTRY_DAY, 10))
    trading.submit_order(order("buy", 10, "day", "c-buy"))
    error = refused(lambda: trading.submit_order(order("sell", 15, "day", "c-flip")))
    assert (error.status_code, error.code) == (403, 40310000)
    assert error.message == "insufficient qty available for order (requested: 15, available: 10)"
    assert Admin(margin.url, KEY).position("IWM") == 10


def test_no_shorting_makes_the_account_long_only(margin: LocalExchange, clock: ManualClock) -> None:
    trading = trading_client(margin)
    config = trading.get_account_configurations()
    assert isinstance(config, AccountConfiguration) and config.no_shorting is False
    changed = trading.set_account_configurations(config.model_copy(update={"no_shorting": True}))
    assert changed.no_shorting is True and trading.get_account_configurations().no_shorting is True
    assert trading.get_account().shorting_enabled is False
    clock.set(at(ENTRY_DAY, 10))
    error = refused(lambda: trading.submit_order(order("sell", 1, "day", "c-short")))
    assert (error.status_code, error.code) == (403, 40310000)
    assert error.message == "insufficient qty available for order (requested: 1, available: 0)"


def test_a_cash_account_keeps_the_old_model(clock: ManualClock) -> None:
    with exchange(clock, account_model=AccountModel.CASH) as ex:
        trading = trading_client(ex)
        account = trading.get_account()
        assert (account.multiplier, account.shorting_enabled) == ("1", False)
        assert Decimal(account.buying_power) == Decimal(account.cash)
        assert refused(lambda: trading.submit_order(order("sell", 1, "opg", "c-short"))).status_code == 403


@pytest.mark.parametrize("flag", ["trading_blocked", "account_blocked", "trade_suspended_by_user"])
def test_blocked_accounts_refuse_orders(margin: LocalExchange, flag: str) -> None:
    trading = trading_client(margin)
    trading.get_account()
    Admin(margin.url, KEY).flags(**{flag: True})
    assert getattr(trading.get_account(), flag) is True
    error = refused(lambda: trading.submit_order(order("buy", 1, "opg", "c-blocked")))
    assert (error.status_code, error.code) == (403, 40310000)
    Admin(margin.url, KEY).flags(**{flag: False})
    assert trading.submit_order(order("buy", 1, "opg", "c-blocked")).status == OrderStatus.ACCEPTED


def test_the_dashboard_closes_resizes_and_cancels_and_a_reset_is_a_new_account(
    margin: LocalExchange, clock: ManualClock
) -> None:
    trading, admin = trading_client(margin), Admin(margin.url, KEY)
    first_id = trading.get_account().id
    trading.submit_order(order("buy", 10, "opg", "c-entry"))
    trading.submit_order(order("sell", 10, "cls", "c-exit"))
    clock.set(at(ENTRY_DAY, 10))
    assert trading.get_open_position("IWM").qty == "10"
    admin.set_position("IWM", 4)
    assert trading.get_open_position("IWM").qty == "4"
    assert admin.cancel("c-exit")["status"] == "canceled"
    assert trading.get_order_by_client_id("c-exit").status == OrderStatus.CANCELED
    admin.set_position("IWM", 0)
    assert trading.get_all_positions() == []
    admin.reset()
    fresh = trading.get_account()
    assert fresh.id != first_id and fresh.cash == "100000"
    assert refused(lambda: trading.get_order_by_client_id("c-entry")).status_code == 404


def test_admin_routes_need_an_existing_account(margin: LocalExchange) -> None:
    response = requests.get(f"{margin.url}/_exchange/accounts/PKNOBODY", timeout=5)
    assert response.status_code == 404 and response.json()["code"] == 40410000


# The order lifecycle and its fates


def test_a_queued_order_goes_accepted_new_filled_and_never_fills_before_it_was_sent(
    margin: LocalExchange, clock: ManualClock
) -> None:
    trading = trading_client(margin)
    sent = trading.submit_order(order("buy", 3, "cls", "c-cls"))
    assert sent.status == OrderStatus.ACCEPTED
    clock.set(at(ENTRY_DAY, 11))
    assert trading.get_order_by_client_id("c-cls").status == OrderStatus.NEW
    clock.set(at(ENTRY_DAY, 16, 1))
    filled = trading.get_order_by_client_id("c-cls")
    assert filled.status == OrderStatus.FILLED and filled.filled_at >= filled.submitted_at
    assert filled.filled_at == at(ENTRY_DAY, 16)


@pytest.mark.parametrize(("spec", "tif"), [("opg_unfilled:1", "opg"), ("cls_unfilled:1", "cls")])
def test_auction_orders_can_expire_unfilled(clock: ManualClock, spec: str, tif: str) -> None:
    with exchange(clock, faults=parse_faults(spec)) as ex:
        trading = trading_client(ex)
        trading.submit_order(order("buy", 10, tif, "c-auction"))
        clock.set(at(ENTRY_DAY, 16, 5))
        expired = trading.get_order_by_client_id("c-auction")
        assert (expired.status, expired.filled_qty) == (OrderStatus.EXPIRED, "0")
        assert trading.get_all_positions() == []


def test_an_auction_order_can_fill_partly_and_the_rest_expires(clock: ManualClock) -> None:
    with exchange(clock, faults=parse_faults("auction_partial:1:fraction=0.3")) as ex:
        trading = trading_client(ex)
        trading.submit_order(order("buy", 10, "opg", "c-part"))
        clock.set(at(ENTRY_DAY, 15))
        part = trading.get_order_by_client_id("c-part")
        assert (part.status, part.filled_qty) == (OrderStatus.EXPIRED, "3")
        assert part.filled_avg_price == str(FRAMES["IWM"].loc[ENTRY_DAY, "open"])
        assert trading.get_open_position("IWM").qty == "3"


def test_an_accepted_order_can_turn_rejected(clock: ManualClock) -> None:
    with exchange(clock, faults=parse_faults("reject_after_accept:1")) as ex:
        trading = trading_client(ex)
        assert trading.submit_order(order("buy", 10, "opg", "c-rej")).status == OrderStatus.ACCEPTED
        clock.set(at(SIGNAL_DAY, 20, 1))
        rejected = trading.get_order_by_client_id("c-rej")
        assert rejected.status == OrderStatus.REJECTED and rejected.failed_at is not None


def test_paper_partial_fills_fill_the_rest_later(clock: ManualClock) -> None:
    with exchange(clock, faults=parse_faults("paper_partial:1:fraction=0.4")) as ex:
        trading = trading_client(ex)
        clock.set(at(ENTRY_DAY, 10))
        trading.submit_order(order("buy", 10, "day", "c-paper"))
        first = trading.get_order_by_client_id("c-paper")
        assert (first.status, first.filled_qty) == (OrderStatus.PARTIALLY_FILLED, "4")
        clock.set(at(ENTRY_DAY, 10, 31))
        assert trading.get_order_by_client_id("c-paper").status == OrderStatus.FILLED


def test_paper_partial_without_a_rate_is_alpacas_ten_percent() -> None:
    assert parse_faults("paper_partial").rules[0].rate == pytest.approx(0.1)
    with pytest.raises(ConfigError, match="fraction"):
        parse_faults("auction_partial:1:fraction=1.5")


def test_client_order_ids_up_to_128_characters(margin: LocalExchange) -> None:
    trading = trading_client(margin)
    assert trading.submit_order(order("buy", 1, "opg", "x" * 128)).client_order_id == "x" * 128
    error = refused(lambda: trading.submit_order(order("buy", 1, "opg", "y" * 129)))
    assert (error.status_code, error.code) == (422, 40010001)
    assert error.message == "client_order_id must be no more than 128 characters"


# Market data


def daily(data: StockHistoricalDataClient, day: date, feed: DataFeed | None, end: datetime | None = None) -> object:
    request = StockBarsRequest(symbol_or_symbols="IWM", timeframe=TimeFrame.Day, start=at(day, 0), end=end, feed=feed)
    return data.get_stock_bars(request)["IWM"]


def test_iex_and_sip_bars_differ_and_sip_is_the_historical_default(margin: LocalExchange, clock: ManualClock) -> None:
    data = data_client(margin)
    official = FRAMES["IWM"].loc[SIGNAL_DAY]
    [sip] = daily(data, SIGNAL_DAY, DataFeed.SIP, at(SIGNAL_DAY, 1))  # type: ignore[misc]
    [default] = daily(data, SIGNAL_DAY, None, at(SIGNAL_DAY, 1))  # type: ignore[misc]
    [iex] = daily(data, SIGNAL_DAY, DataFeed.IEX, at(SIGNAL_DAY, 1))  # type: ignore[misc]
    assert (sip.open, sip.close, sip.volume) == (official["open"], official["close"], official["volume"])
    assert (default.close, default.volume) == (sip.close, sip.volume)
    assert iex.close != sip.close and round(abs(iex.close - sip.close), 2) <= 0.05
    assert round(abs(iex.open - sip.open), 2) <= 0.05
    assert iex.volume < sip.volume / 10


def test_the_free_plan_refuses_recent_sip_and_serves_iex_without_a_feed(
    margin: LocalExchange, clock: ManualClock
) -> None:
    data = data_client(margin)
    clock.set(at(ENTRY_DAY, 16, 10))
    error = refused(lambda: daily(data, ENTRY_DAY, DataFeed.SIP, at(ENTRY_DAY, 23, 59)))
    assert (error.status_code, error.code) == (403, 42210000)
    assert error.message == "subscription does not permit querying recent SIP data"
    [silently_iex] = daily(data, ENTRY_DAY, None, at(ENTRY_DAY, 16, 9))  # type: ignore[misc]
    [iex] = daily(data, ENTRY_DAY, DataFeed.IEX)  # type: ignore[misc]
    assert silently_iex.close == iex.close != FRAMES["IWM"].loc[ENTRY_DAY, "close"]
    latest = data.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols="IWM"))["IWM"]
    assert latest.price == iex.close
    assert (
        refused(
            lambda: data.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols="IWM", feed=DataFeed.SIP))
        ).status_code
        == 403
    )


def test_the_plus_plan_serves_recent_sip(clock: ManualClock) -> None:
    with exchange(clock, data_plan=DataPlan.PLUS) as ex:
        data = data_client(ex)
        clock.set(at(ENTRY_DAY, 16, 1))
        [bar] = daily(data, ENTRY_DAY, DataFeed.SIP, at(ENTRY_DAY, 23, 59))  # type: ignore[misc]
        assert bar.close == FRAMES["IWM"].loc[ENTRY_DAY, "close"]


def test_today_has_a_partial_daily_bar_until_the_close(margin: LocalExchange, clock: ManualClock) -> None:
    data = data_client(margin)
    clock.set(at(ENTRY_DAY, 12))
    [partial] = daily(data, ENTRY_DAY, DataFeed.IEX)  # type: ignore[misc]
    latest = data.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols="IWM"))["IWM"]
    official = FRAMES["IWM"].loc[ENTRY_DAY]
    assert partial.close == latest.price and partial.volume < official["volume"] * 0.025
    clock.set(at(ENTRY_DAY, 16, 15))  # free SIP is 15 minutes behind: complete from 16:15
    [complete] = daily(data, ENTRY_DAY, DataFeed.SIP, at(ENTRY_DAY, 15, 59))  # type: ignore[misc]
    assert (complete.high, complete.low, complete.close) == (official["high"], official["low"], official["close"])
    clock.set(at(ENTRY_DAY, 16, 5))
    [unsettled] = daily(data, ENTRY_DAY, DataFeed.SIP, at(ENTRY_DAY, 15, 49))  # type: ignore[misc]
    assert unsettled.close != official["close"]  # 15:50 on the consolidated tape, not the close


def test_adjustment_is_validated(margin: LocalExchange) -> None:
    headers = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
    url = f"{margin.url}/v2/stocks/bars?symbols=IWM&timeframe=1Day&start=2023-12-01"
    assert requests.get(f"{url}&adjustment=dividend", headers=headers, timeout=5).status_code == 200
    wrong = requests.get(f"{url}&adjustment=sideways", headers=headers, timeout=5)
    assert wrong.status_code == 422


# Rate limits and state


def test_rate_limit_headers_and_a_429_without_retry_after(clock: ManualClock) -> None:
    with exchange(clock, rate_limit=3) as ex:
        headers = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
        answers = [requests.get(f"{ex.url}/v2/clock", headers=headers, timeout=5) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["X-Ratelimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
        assert all(a.headers["X-Ratelimit-Limit"] == "3" for a in answers)
        assert "Retry-After" not in answers[3].headers
        assert int(answers[3].headers["X-Ratelimit-Reset"]) >= int(datetime.now().timestamp())
        assert answers[3].json()["code"] == 42910000


def test_the_state_file_is_json_and_survives_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    state = tmp_path / "state.json"
    with exchange(clock, state_path=state) as ex:
        trading_client(ex).submit_order(order("buy", 2, "opg", "c-kept"))
    assert json.loads(state.read_text())[KEY]["orders"][0]["client_order_id"] == "c-kept"
    with exchange(clock, state_path=state) as ex:
        assert trading_client(ex).get_order_by_client_id("c-kept").qty == "2"
    state.write_bytes(b"\x80\x04\x95 not json")
    with pytest.raises(ConfigError, match="not an exchange state file"):
        exchange(clock, state_path=state)
