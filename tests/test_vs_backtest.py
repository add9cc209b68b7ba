"""The slippage arithmetic of `bot report --vs-backtest`, as a table: signs, pairing and unpaired fills."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.round_trips import Fill
from bot.vs_backtest import compare_fills, differing_decisions
from strategies.breakout import Action, Decision, Reason

DAY = date(2023, 12, 14)


@pytest.mark.parametrize(
    ("side", "live", "replayed", "bps", "dollars"),
    [
        ("buy", "202.49", "202.29", "9.89", "94.00"),  # paid 20 cents more on 470 shares: a cost
        ("buy", "202.09", "202.29", "-9.89", "-94.00"),  # paid less: negative slippage
        ("sell", "224.77", "224.97", "8.89", "94.00"),  # sold 20 cents lower: a cost
        ("sell", "224.97", "224.97", "0.00", "0.00"),
    ],
)
def test_slippage_is_a_cost_when_positive(side: str, live: str, replayed: str, bps: str, dollars: str) -> None:
    [pair] = compare_fills(
        [Fill(side, 470, Decimal(live), DAY, Decimal(449))], [Fill(side, 470, Decimal(replayed), DAY, Decimal(449))]
    )
    assert pair.slippage_bps == Decimal(bps) and pair.slippage_dollars == Decimal(dollars)


def test_unpaired_fills_show_with_a_blank_side() -> None:
    replay = [
        Fill("buy", 470, Decimal(202), DAY, Decimal(449)),
        Fill("sell", 470, Decimal(224), date(2024, 6, 28), Decimal(1)),
    ]
    pairs = compare_fills([Fill("buy", 470, Decimal(202), DAY, Decimal(449))], replay)
    assert [(p.side, p.live_price, p.backtest_price) for p in pairs] == [
        ("buy", Decimal(202), Decimal(202)),
        ("sell", None, Decimal(224)),
    ]
    assert pairs[1].slippage_bps is None


def test_decisions_that_differ_are_listed_by_session() -> None:
    live = {date(2023, 12, 12): "below_level", date(2023, 12, 13): "breakout_confirmed"}
    replay = [
        Decision(Action.HOLD, Reason.BELOW_LEVEL, date(2023, 12, 12), 199.0),
        Decision(Action.HOLD, Reason.ALREADY_ABOVE_WAITING_FOR_CROSS, date(2023, 12, 13), 201.0),
        Decision(Action.HOLD, Reason.BELOW_LEVEL, date(2023, 12, 11), 198.0),  # not decided live: not compared
    ]
    assert differing_decisions(live, replay) == [
        {"session": "2023-12-13", "live": "breakout_confirmed", "backtest": "already_above_waiting_for_cross"}
    ]
