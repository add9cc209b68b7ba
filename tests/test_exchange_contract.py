"""The real alpaca-py clients against the local exchange: every endpoint and field the bot uses parses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.enums import DataFeed
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.models import Bar, BarSet, Quote, Snapshot, Trade
from alpaca.data.requests import (
    StockBarsRequest,
    StockLatestBarRequest,
    StockLatestQuoteRequest,
    StockLatestTradeRequest,
    StockSnapshotRequest,
)
from alpaca.data.timeframe import TimeFrame
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderStatus, QueryOrderStatus
from alpaca.trading.models import Calendar, Clock, Order, Position, TradeAccount
from alpaca.trading.requests import (
    ClosePositionRequest,
    GetCalendarRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
)

from bot.domain import NEW_YORK
from bot.local_exchange.clock import ManualClock
from bot.local_exchange.faults import parse_faults
from bot.local_exchange.server import LocalExchange
from bot.market.scenarios import build_scenario

FRAMES = build_scenario("breakout")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at(date(2023, 12, 12), 20))


@pytest.fixture
def exchange(clock: ManualClock) -> Iterator[LocalExchange]:
    with LocalExchange(FRAMES, clock=clock, start=date(2023, 12, 1), end=date(2024, 7, 3), page_size=3) as ex:
        yield ex


@pytest.fixture
def trading(exchange: LocalExchange) -> TradingClient:
    client = TradingClient("PKCONTRACT", "contract-secret", paper=True, url_override=exchange.url)
    client._retry = 0
    return client


@pytest.fixture
def data(exchange: LocalExchange) -> StockHistoricalDataClient:
    client = StockHistoricalDataClient("PKCONTRACT", "contract-secret", url_override=exchange.url)
    client._retry = 0
    return client


def buy(qty: float, tif: str, coid: str) -> MarketOrderRequest:
    return MarketOrderRequest(symbol="IWM", qty=qty, side="buy", time_in_force=tif, client_order_id=coid)


def test_account_clock_and_calendar_parse(trading: TradingClient, clock: ManualClock) -> None:
    account = trading.get_account()
    assert isinstance(account, TradeAccount)
    assert (account.cash, account.equity, account.status) == ("100000", "100000", "ACTIVE")
    now = trading.get_clock()
    assert isinstance(now, Clock)
    assert now.timestamp == clock.now() and now.is_open is False
    assert now.next_open == at(date(2023, 12, 13), 9, 30)
    clock.set(at(date(2023, 12, 13), 10))
    assert trading.get_clock().is_open is True
    days = trading.get_calendar(GetCalendarRequest(start=date(2023, 11, 22), end=date(2023, 11, 27)))
    assert all(isinstance(d, Calendar) for d in days)
    assert [(d.date, d.close.time().hour) for d in days] == [
        (date(2023, 11, 22), 16),
        (date(2023, 11, 24), 13),
        (date(2023, 11, 27), 16),
    ]  # Thanksgiving missing, the day after closes early
    future = trading.get_calendar(GetCalendarRequest(start=date(2025, 6, 25), end=date(2025, 7, 7)))
    assert date(2025, 6, 30) in [d.date for d in future] and date(2025, 7, 4) not in [d.date for d in future]


def test_opg_fills_at_the_open_and_shows_everywhere(trading: TradingClient, clock: ManualClock) -> None:
    order = trading.submit_order(buy(10, "opg", "c-opg"))
    assert isinstance(order, Order) and order.status == OrderStatus.ACCEPTED
    clock.set(at(date(2023, 12, 13), 9, 45))
    filled = trading.get_order_by_client_id("c-opg")
    assert filled.status == OrderStatus.FILLED
    assert Decimal(filled.filled_avg_price) == Decimal(str(FRAMES["IWM"].loc[date(2023, 12, 13), "open"]))
    assert trading.get_order_by_id(filled.id).client_order_id == "c-opg"
    position = trading.get_open_position("IWM")
    assert isinstance(position, Position) and position.qty == "10"
    assert [p.symbol for p in trading.get_all_positions()] == ["IWM"]
    fills = trading.get("/account/activities/FILL", {"direction": "desc", "page_size": 100})
    assert isinstance(fills, list) and fills[0]["order_id"] == str(filled.id) and fills[0]["qty"] == "10"


def test_cls_fills_at_the_close_and_market_at_the_path_price(trading: TradingClient, clock: ManualClock) -> None:
    clock.set(at(date(2023, 12, 13), 10))
    assert trading.submit_order(buy(5, "day", "c-mkt")).status == OrderStatus.NEW  # answered before it fills
    market = trading.get_order_by_client_id("c-mkt")
    assert market.status == OrderStatus.FILLED and market.filled_at == at(date(2023, 12, 13), 10)
    bar = FRAMES["IWM"].loc[date(2023, 12, 13)]
    assert bar["low"] <= float(market.filled_avg_price) <= bar["high"]
    sell = MarketOrderRequest(symbol="IWM", qty=5, side="sell", time_in_force="cls", client_order_id="c-cls")
    assert trading.submit_order(sell).status == OrderStatus.NEW  # in session: live at once
    clock.set(at(date(2023, 12, 13), 16, 1))
    closed = trading.get_order_by_client_id("c-cls")
    assert Decimal(closed.filled_avg_price) == Decimal(str(bar["close"]))
    with pytest.raises(APIError) as gone:
        trading.get_open_position("IWM")
    assert gone.value.status_code == 404 and gone.value.code == 40410000


OPG_TEXT = "opg orders must be submitted after 7:00pm and before 9:28am"


@pytest.mark.parametrize(
    ("moment", "tif", "text"),
    [
        (at(date(2023, 12, 13), 9, 28), "opg", OPG_TEXT),
        (at(date(2023, 12, 13), 18, 59), "opg", OPG_TEXT),
        (at(date(2023, 12, 13), 15, 50), "cls", "cls orders must be submitted after 7:00pm and before 3:50pm"),
        (at(date(2023, 12, 13), 17), "cls", "cls orders must be submitted after 7:00pm and before 3:50pm"),
        (at(date(2023, 11, 24), 12, 50), "cls", "cls orders must be submitted after 7:00pm and before 12:50pm"),
    ],
    ids=["opg-0928", "opg-1859", "cls-1550", "cls-1700", "cls-early-close-1250"],
)
def test_auction_cutoffs_reject_like_alpaca(
    trading: TradingClient, clock: ManualClock, moment: datetime, tif: str, text: str
) -> None:
    clock.set(moment)
    with pytest.raises(APIError) as refused:
        trading.submit_order(buy(1, tif, "c-late"))
    assert (refused.value.status_code, refused.value.code, refused.value.message) == (403, 40310000, text)
    assert trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL)) == []  # nothing was created


def test_auction_orders_before_the_cutoffs_and_after_1900_are_accepted(
    trading: TradingClient, clock: ManualClock
) -> None:
    clock.set(at(date(2023, 11, 24), 12, 49))  # the day after Thanksgiving closes at 13:00
    assert trading.submit_order(buy(1, "cls", "c-early")).status == OrderStatus.NEW
    clock.set(at(date(2023, 12, 13), 9, 27))
    assert trading.submit_order(buy(1, "opg", "c-morning")).status == OrderStatus.ACCEPTED
    clock.set(at(date(2023, 12, 13), 19, 0))
    assert trading.submit_order(buy(1, "cls", "c-evening")).status == OrderStatus.ACCEPTED


def test_duplicate_client_order_id_is_rejected_like_alpaca(trading: TradingClient) -> None:
    trading.submit_order(buy(1, "opg", "c-dup"))
    with pytest.raises(APIError) as duplicate:
        trading.submit_order(buy(1, "opg", "c-dup"))
    assert duplicate.value.status_code == 422 and duplicate.value.code == 40010001
    assert "client_order_id must be unique" in str(duplicate.value)
    with pytest.raises(APIError) as unknown:
        trading.get_order_by_client_id("c-none")
    assert unknown.value.status_code == 404


def test_buying_power_of_a_margin_account_is_enforced(trading: TradingClient) -> None:
    account = trading.get_account()
    assert (account.multiplier, account.shorting_enabled, account.pattern_day_trader) == ("2", True, None)
    assert Decimal(account.buying_power) == 2 * Decimal(account.equity)  # flat: twice the equity
    assert Decimal(account.non_marginable_buying_power) == Decimal(account.cash)
    with pytest.raises(APIError) as poor:
        trading.submit_order(buy(1100, "opg", "c-big"))  # about 220,000 dollars with the collar
    assert poor.value.status_code == 403 and poor.value.code == 40310000
    assert "insufficient buying power" in str(poor.value)


def test_orders_list_cancel_and_limit(trading: TradingClient, clock: ManualClock) -> None:
    trading.submit_order(buy(1, "opg", "c-a"))
    limit = LimitOrderRequest(
        symbol="IWM", qty=1, side="buy", time_in_force="gtc", limit_price=150.25, client_order_id="c-limit"
    )
    resting = trading.submit_order(limit)
    assert resting.limit_price == "150.25"
    open_orders = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, symbols=["IWM"], limit=100))
    assert {o.client_order_id for o in open_orders} == {"c-a", "c-limit"}
    assert trading.cancel_order_by_id(resting.id) is None
    assert trading.get_order_by_id(resting.id).status == OrderStatus.CANCELED
    with pytest.raises(APIError) as final:
        trading.cancel_order_by_id(resting.id)
    assert final.value.status_code == 422
    clock.set(at(date(2023, 12, 13), 10))
    everything = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, nested=True))
    assert {o.status for o in everything} == {OrderStatus.FILLED, OrderStatus.CANCELED}
    closed = trading.close_position("IWM", ClosePositionRequest(percentage="100"))
    assert closed.side == "sell" and closed.status == OrderStatus.NEW
    assert trading.get_order_by_id(closed.id).status == OrderStatus.FILLED
    assert trading.get_all_positions() == []


def test_notional_order_fills_fractional_quantity(trading: TradingClient, clock: ManualClock) -> None:
    clock.set(at(date(2023, 12, 13), 11))
    order = trading.submit_order(MarketOrderRequest(symbol="IWM", notional=1000.5, side="buy", time_in_force="day"))
    assert order.notional == "1000.5" and order.qty is None
    order = trading.get_order_by_id(order.id)
    assert Decimal(order.filled_qty) * Decimal(order.filled_avg_price) == pytest.approx(
        Decimal("1000.5"), abs=Decimal("0.01")
    )


def test_day_order_unfilled_expires_at_the_close(trading: TradingClient, clock: ManualClock) -> None:
    clock.set(at(date(2023, 12, 13), 10))
    limit = LimitOrderRequest(
        symbol="IWM", qty=1, side="buy", time_in_force="day", limit_price=100, client_order_id="c-exp"
    )
    trading.submit_order(limit)
    clock.set(at(date(2023, 12, 13), 16, 5))
    assert trading.get_order_by_client_id("c-exp").status == OrderStatus.EXPIRED


def test_bars_page_across_symbols_and_never_show_the_future(data: StockHistoricalDataClient) -> None:
    request = StockBarsRequest(
        symbol_or_symbols=["IWM", "SPY"], timeframe=TimeFrame.Day, start=at(date(2023, 12, 1), 0)
    )
    bars = data.get_stock_bars(request)
    assert isinstance(bars, BarSet)
    sessions = [b.timestamp.astimezone(NEW_YORK).date() for b in bars["IWM"]]
    assert sessions[-1] == date(2023, 12, 12)  # the clock is 20:00 on the 12th: the 13th has not happened
    assert len(bars["IWM"]) == len(bars["SPY"]) == len(sessions) > 3  # more than one page of 3
    assert all(isinstance(b, Bar) and b.vwap is not None for b in bars["IWM"])
    assert bars["IWM"][-1].close == FRAMES["IWM"].loc[date(2023, 12, 12), "close"]
    frame = bars.df
    assert frame.index.names == ["symbol", "timestamp"]


def test_minute_bars_only_for_completed_minutes(data: StockHistoricalDataClient, clock: ManualClock) -> None:
    clock.set(at(date(2023, 12, 13), 9, 35))
    request = StockBarsRequest(
        symbol_or_symbols="SPY", timeframe=TimeFrame.Minute, start=at(date(2023, 12, 13), 9, 30), feed=DataFeed.IEX
    )
    minutes = data.get_stock_bars(request)["SPY"]
    assert len(minutes) == 5
    official = FRAMES["SPY"].loc[date(2023, 12, 13), "open"]
    assert 0 < abs(minutes[0].open - official) <= 0.05  # the IEX tape's open is a few cents off
    clock.set(at(date(2023, 12, 13), 9, 50))  # free SIP is 15 minutes behind: the first five minutes are visible
    sip = StockBarsRequest(
        symbol_or_symbols="SPY",
        timeframe=TimeFrame.Minute,
        start=at(date(2023, 12, 13), 9, 30),
        end=at(date(2023, 12, 13), 9, 34),
        feed=DataFeed.SIP,
    )
    minutes = data.get_stock_bars(sip)["SPY"]
    assert len(minutes) == 5 and minutes[0].open == official


def test_latest_trade_quote_bar_and_snapshot(data: StockHistoricalDataClient, clock: ManualClock) -> None:
    clock.set(at(date(2023, 12, 13), 12))
    trade = data.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols=["IWM", "NOPE"]))
    assert isinstance(trade["IWM"], Trade) and "NOPE" not in trade
    quote = data.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols="IWM"))
    assert isinstance(quote["IWM"], Quote) and quote["IWM"].bid_price < quote["IWM"].ask_price
    bar = data.get_stock_latest_bar(StockLatestBarRequest(symbol_or_symbols="IWM"))
    assert bar["IWM"].timestamp.astimezone(NEW_YORK) == at(date(2023, 12, 13), 11, 59)
    snapshot = data.get_stock_snapshot(StockSnapshotRequest(symbol_or_symbols="SPY"))
    assert isinstance(snapshot["SPY"], Snapshot)
    assert snapshot["SPY"].daily_bar.timestamp.astimezone(NEW_YORK).date() == date(2023, 12, 13)  # today, partial
    assert snapshot["SPY"].previous_daily_bar.timestamp.astimezone(NEW_YORK).date() == date(2023, 12, 12)


def test_wrong_or_missing_credentials_are_refused(exchange: LocalExchange, trading: TradingClient) -> None:
    trading.get_account()
    impostor = TradingClient("PKCONTRACT", "not-the-secret", url_override=exchange.url)
    impostor._retry = 0
    with pytest.raises(APIError) as refused:
        impostor.get_account()
    assert refused.value.status_code == 401 and refused.value.code == 40110000
    assert requests.get(f"{exchange.url}/v2/account", timeout=5).status_code == 401


@pytest.mark.parametrize(
    ("spec", "status"), [("500:burst=1:from=1", 500), ("503:burst=1:from=1", 503), ("429:burst=1:from=1", 429)]
)
def test_status_faults_reach_the_client(clock: ManualClock, spec: str, status: int) -> None:
    with LocalExchange(FRAMES, clock=clock, faults=parse_faults(spec)) as ex:
        client = TradingClient("PKFAULT", "fault-secret", url_override=ex.url)
        client._retry = 0
        with pytest.raises(APIError) as failed:
            client.get_account()
        assert failed.value.status_code == status
        if status == 429:
            assert failed.value.response.headers["Retry-After"] == "1"
        assert client.get_account().status == "ACTIVE"  # only the first request was faulted


def test_dropped_order_response_leaves_the_order_placed(clock: ManualClock) -> None:
    with LocalExchange(FRAMES, clock=clock, faults=parse_faults("drop_order_response:nth=1")) as ex:
        client = TradingClient("PKFAULT", "fault-secret", url_override=ex.url)
        with pytest.raises(requests.ConnectionError):
            client.submit_order(buy(1, "opg", "c-lost"))
        assert client.get_order_by_client_id("c-lost").status == OrderStatus.ACCEPTED


def test_faults_are_reproducible_for_a_seed(clock: ManualClock) -> None:
    def outcomes(seed: int) -> list[int]:
        with LocalExchange(FRAMES, clock=clock, faults=parse_faults("503:0.3"), seed=seed) as ex:
            return [
                requests.get(
                    f"{ex.url}/v2/clock", headers={"APCA-API-KEY-ID": "k", "APCA-API-SECRET-KEY": "s"}, timeout=5
                ).status_code
                for _ in range(30)
            ]

    assert outcomes(7) == outcomes(7)
    assert outcomes(7) != outcomes(8)
    assert 503 in outcomes(7) and 200 in outcomes(7)
