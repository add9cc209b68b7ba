"""Whole seasons through alpaca-py against an exchange that behaves like Alpaca paper, one real behaviour each.

Each test asserts the orders at the exchange, the final position (never negative), the ledger equal to the
exchange's fills, and a hard bound on the orders of the season.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.domain import NEW_YORK
from bot.engine.policy import MAX_ORDER_ATTEMPTS
from bot.local_exchange.faults import parse_faults
from bot.market.scenarios import build_scenario
from tests.live_harness import Harness, harness

START, END = date(2023, 12, 1), date(2024, 7, 3)
FRAMES = build_scenario("breakout")
ORDERS_PER_SEASON_BOUND = 2 * MAX_ORDER_ATTEMPTS


def ledger_matches_exchange(h: Harness) -> None:
    trader = h.trader()
    by_hand = {str(o.id) for o in h.admin.orders() if o.client_order_id.startswith("dashboard")}
    exchange = sorted(
        (f["side"], Decimal(f["qty"]), Decimal(f["price"])) for f in h.admin.fills() if f["order_id"] not in by_hand
    )
    ledger = sorted((f.side, f.qty, f.price) for f in trader.ledger.fills())
    assert ledger == exchange


def events(h: Harness, name: str) -> list[str]:
    return [line for line in h.log_lines() if f'"event": "{name}"' in line]


def test_an_opg_entry_that_expires_unfilled_is_bought_the_same_session_with_a_day_order(tmp_path: Path) -> None:
    with harness(tmp_path, FRAMES, start=START, end=END, faults=parse_faults("opg_unfilled:1")) as h:
        h.run(h.trader())
        orders = sorted(h.orders(), key=lambda o: o.submitted_at)
        assert [(o.client_order_id, o.time_in_force, o.status) for o in orders] == [
            ("brk-IWM-2024-entry-1", "opg", "expired"),
            ("brk-IWM-2024-entry-2", "day", "filled"),
            ("brk-IWM-2024-exit-1", "cls", "filled"),
        ]
        assert orders[1].filled_at.astimezone(NEW_YORK).date() == date(2023, 12, 14)  # the season is not lost
        assert h.admin.position("IWM") == 0
        ledger_matches_exchange(h)


def test_an_exit_rejected_every_time_stops_at_the_attempt_bound_and_never_shorts(tmp_path: Path) -> None:
    faults = parse_faults("reject_after_accept:1:side=sell")
    with harness(tmp_path, FRAMES, start=START, end=END, faults=faults) as h:
        trader = h.trader()
        h.run(trader)
        orders = h.orders()
        sells = [o for o in orders if o.side == "sell"]
        bought = sum(Decimal(o.filled_qty) for o in orders if o.side == "buy")
        assert len(sells) == MAX_ORDER_ATTEMPTS and {o.status for o in sells} == {"rejected"}
        assert len(orders) <= ORDERS_PER_SEASON_BOUND
        # One attempt a session: a refusal is final for its session, the next session tries again.
        assert len({o.submitted_at.astimezone(NEW_YORK).date() for o in sells}) == MAX_ORDER_ATTEMPTS
        assert h.admin.position("IWM") == bought > 0
        assert len(events(h, "order_attempts_exhausted")) == 1
        assert "exhausted:2024:exit" in trader.problems
        ledger_matches_exchange(h)


def test_a_position_closed_in_the_dashboard_is_never_sold_again(tmp_path: Path) -> None:
    with harness(tmp_path, FRAMES, start=START, end=END) as h:
        trader = h.trader()
        h.run(trader, end=date(2024, 3, 1))
        h.admin.set_position("IWM", 0)
        h.run(trader, start=date(2024, 3, 4))
        orders = h.orders()
        assert [o.client_order_id for o in orders if not o.client_order_id.startswith("dashboard")] == [
            "brk-IWM-2024-entry-1"
        ]
        assert h.admin.position("IWM") == 0  # no sell from the bot, so no short on the margin account
        [change] = events(h, "position_changed_outside")
        assert '"broker_qty": "0"' in change and '"action": "adopted_reduction"' in change
        assert trader.open_trade(trader._calendars.at(h.clock.now())) is None  # type: ignore[arg-type]


def test_shares_bought_by_hand_are_never_sold_by_the_bot(tmp_path: Path) -> None:
    with harness(tmp_path, FRAMES, start=START, end=END) as h:
        trader = h.trader()
        h.run(trader, end=date(2024, 3, 1))
        held = h.admin.position("IWM")
        h.admin.set_position("IWM", int(held) + 30)
        h.run(trader, start=date(2024, 3, 4))
        [exit_order] = [o for o in h.orders() if o.client_order_id.startswith("brk") and o.side == "sell"]
        assert (Decimal(exit_order.qty), exit_order.status) == (held, "filled")
        assert h.admin.position("IWM") == 30
        assert any('"action": "extra_shares_left_alone"' in line for line in events(h, "position_changed_outside"))


def test_a_position_reduced_by_hand_exits_with_what_is_left(tmp_path: Path) -> None:
    with harness(tmp_path, FRAMES, start=START, end=END) as h:
        trader = h.trader()
        h.run(trader, end=date(2024, 3, 1))
        h.admin.set_position("IWM", 100)
        h.run(trader, start=date(2024, 3, 4))
        [exit_order] = [o for o in h.orders() if o.client_order_id.startswith("brk") and o.side == "sell"]
        assert (exit_order.qty, exit_order.status) == ("100", "filled")
        assert h.admin.position("IWM") == 0


def test_a_blocked_account_gets_no_orders_and_the_exit_follows_once_it_is_cleared(tmp_path: Path) -> None:
    with harness(tmp_path, FRAMES, start=START, end=END) as h:
        trader = h.trader()
        h.run(trader, end=date(2024, 6, 26))
        h.admin.flags(trading_blocked=True)
        h.run(trader, start=date(2024, 6, 27), end=date(2024, 6, 28))
        assert [o.side for o in h.orders()] == ["buy"]
        assert trader.problems["account_blocked"] == "trading_blocked"
        assert len(events(h, "account_blocked")) == 1
        h.admin.flags(trading_blocked=False)
        h.run(trader, start=date(2024, 7, 1))
        sells = [o for o in h.orders() if o.side == "sell"]
        assert [(o.time_in_force, o.status) for o in sells] == [("day", "filled")]
        assert "account_blocked" not in trader.problems
        assert h.admin.position("IWM") == 0


def test_the_exit_never_sells_more_than_the_broker_holds_after_a_reset(tmp_path: Path) -> None:
    with harness(tmp_path, FRAMES, start=START, end=END) as h:
        trader = h.trader()
        h.run(trader, end=date(2024, 3, 1))
        h.admin.reset()  # a reset paper account: a new, empty account under the same keys
        h.run(trader, start=date(2024, 3, 4))
        assert h.admin.orders() == []  # nothing sold on the new account: a sell would have opened a short
        assert h.admin.position("IWM") == 0
        assert events(h, "position_changed_outside")


@pytest.mark.parametrize("rate", ["1", "0.5"])
def test_orders_per_season_stay_bounded_under_random_auction_fates(tmp_path: Path, rate: str) -> None:
    faults = parse_faults(f"opg_unfilled:{rate},cls_unfilled:{rate},auction_partial:{rate},reject_after_accept:0.2")
    with harness(tmp_path, FRAMES, start=START, end=date(2024, 7, 12), faults=faults) as h:
        h.run(h.trader())
        orders = h.orders()
        assert len(orders) <= ORDERS_PER_SEASON_BOUND
        assert h.admin.position("IWM") >= 0
        ledger_matches_exchange(h)


def test_a_429_without_retry_after_waits_until_the_rate_limit_resets(tmp_path: Path) -> None:
    from bot.broker.alpaca import AlpacaBroker
    from bot.errors import BrokerUnavailable
    from bot.local_exchange.clock import ManualClock
    from bot.local_exchange.server import LocalExchange

    clock = ManualClock(datetime(2023, 12, 13, 20, tzinfo=NEW_YORK))
    with LocalExchange(FRAMES, clock=clock, rate_limit=1, rate_window_seconds=3600) as ex:
        waits: list[float] = []
        h = Harness(ex, clock, tmp_path, None)  # type: ignore[arg-type]
        broker = AlpacaBroker(h.settings(retry_max_seconds=600.0), sleep=waits.append)
        broker.clock()
        with pytest.raises(BrokerUnavailable, match="HTTP 429"):
            broker.clock()
    # Each wait is until X-Ratelimit-Reset (an hour away), capped at a minute: never a blind short backoff.
    assert waits and set(waits) == {60.0}
