"""Properties of the event-driven backtest on random histories."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.backtest.engine import run_backtest
from bot.market.calendar import nyse_sessions
from strategies.breakout import exit_session
from strategies.params import BreakoutParams

DAYS = nyse_sessions(date(2022, 11, 1), date(2024, 7, 31))
CASH = Decimal(100000)


def frames_from(closes: list[float], gaps: list[float]) -> dict[str, pd.DataFrame]:
    days = DAYS[: len(closes)]
    opens = [closes[0], *[c * (1 + g) for c, g in zip(closes[:-1], gaps[1:], strict=False)]]
    iwm = pd.DataFrame(
        {
            "open": opens,
            "high": [max(o, c) + 0.5 for o, c in zip(opens, closes, strict=True)],
            "low": [min(o, c) - 0.5 for o, c in zip(opens, closes, strict=True)],
            "close": closes,
            "volume": 1.0,
        },
        index=pd.Index(days, name="date"),
    )
    spy = iwm.copy() * 2.2
    return {"IWM": iwm.round(2), "SPY": spy.round(2)}


def random_walk(length: int, seed: int, step_pct: float) -> tuple[list[float], list[float]]:
    """Closes wandering around the level (so it is crossed often), and opening gaps."""
    rng = np.random.default_rng(seed)
    closes = 200 * np.exp(np.cumsum(rng.normal(0, step_pct / 100, length)))
    closes = 200 + (closes - 200) % 30 - 15  # fold into 185..215
    gaps = rng.normal(0, 0.005, length)
    return [float(c) for c in closes], [float(g) for g in gaps]


histories = st.builds(
    random_walk,
    st.integers(min_value=30, max_value=len(DAYS)),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.sampled_from([0.3, 1.0, 2.5]),
)
params_strategy = st.builds(
    BreakoutParams,
    confirm_days=st.integers(1, 3),
    require_cross=st.booleans(),
    allow_reentry=st.booleans(),
    buffer_pct=st.sampled_from([0.0, 0.5]),
)


@settings(max_examples=60, deadline=None)
@given(histories, params_strategy)
def test_never_exit_before_entry_and_at_most_one_entry_per_season(
    history: tuple[list[float], list[float]], params: BreakoutParams
) -> None:
    result = run_backtest(frames_from(*history), params, cash=CASH)
    buys = [f for f in result.fills if f.side == "buy"]
    sells = [f for f in result.fills if f.side == "sell"]
    for trade in result.scorecard.trades:
        assert trade.exit_session >= trade.entry_session
    assert len(sells) <= len(buys) <= len(sells) + 1
    for buy, sell in zip(buys, sells, strict=False):
        assert sell.session >= buy.session
    if not params.allow_reentry:
        seasons = [exit_session(t.entry_session, DAYS, params).year for t in result.scorecard.trades]
        assert len(seasons) == len(set(seasons))


@settings(max_examples=60, deadline=None)
@given(histories, st.data())
def test_no_look_ahead_changing_the_future_keeps_the_past(
    history: tuple[list[float], list[float]], data: st.DataObject
) -> None:
    closes, gaps = history
    cut = data.draw(st.integers(min_value=1, max_value=len(closes) - 1))
    future, _ = random_walk(len(closes) - cut, data.draw(st.integers(0, 2**32 - 1)), 1.0)
    params = BreakoutParams()
    original = run_backtest(frames_from(closes, gaps), params, cash=CASH)
    altered = run_backtest(frames_from(closes[:cut] + future, gaps), params, cash=CASH)
    last_known = DAYS[cut - 1]
    # Decisions made on sessions up to the cut, and fills up to the cut, do not depend on later bars.
    assert [d for d in original.decisions if d.session and d.session <= last_known] == [
        d for d in altered.decisions if d.session and d.session <= last_known
    ]
    assert [f for f in original.fills if f.session <= last_known] == [
        f for f in altered.fills if f.session <= last_known
    ]


@settings(max_examples=40, deadline=None)
@given(histories)
def test_equity_accounts_for_every_fill(history: tuple[list[float], list[float]]) -> None:
    result = run_backtest(frames_from(*history), BreakoutParams(), cash=CASH)
    card = result.scorecard
    realized = sum((t.pnl for t in card.trades if t.closed), Decimal(0))
    open_pnl = sum((t.pnl for t in card.trades if not t.closed), Decimal(0))
    assert card.end_equity == CASH + realized + open_pnl
