"""One bad answer from the broker never reaches the ledger or an order: a table of hostile rewrites.

A proxy in front of the local exchange rewrites one answer per case; the real trader runs the signal, the entry
and its fill through it, passes failing as the run loop's do (an error, then the next pass).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.errors import BrokerError
from bot.market.scenarios import build_scenario
from tests.hostile_proxy import HostileProxy, Rule, json_edit, raw
from tests.live_harness import harness

FRAMES = build_scenario("breakout")
START, END = date(2023, 12, 1), date(2024, 7, 3)
ORDER = "/v2/orders:by_client_order_id"


def filled(body: bytes) -> bool:
    return b'"status": "filled"' in body or b'"status":"filled"' in body


def edit(**fields: Any) -> Any:
    return json_edit(lambda order: {**order, **fields})


def future_bar(answer: dict[str, Any]) -> dict[str, Any]:
    bars = answer["bars"].get("IWM") or []
    extra = {"t": "2031-01-02T05:00:00Z", "o": 1.0, "h": 1.0, "l": 1.0, "c": 1.0, "v": 1, "n": 1, "vw": 1.0}
    return {**answer, "bars": {**answer["bars"], "IWM": [*bars, extra]}}


def null_close(answer: dict[str, Any]) -> dict[str, Any]:
    bars = [dict(b) for b in answer["bars"].get("IWM") or []]
    if bars:
        bars[-1]["c"] = None
    return {**answer, "bars": {**answer["bars"], "IWM": bars}}


def without(field: str) -> Any:
    return json_edit(lambda account: {k: v for k, v in account.items() if k != field})


def days_ahead(days: int) -> Any:
    def move(clock: dict[str, Any]) -> dict[str, Any]:
        moved = datetime.fromisoformat(clock["timestamp"]) + timedelta(days=days)
        return {**clock, "timestamp": moved.isoformat()}

    return json_edit(move)


def benchmark_open(price: float) -> Any:
    def edit_bars(answer: dict[str, Any]) -> dict[str, Any]:
        bars = [dict(b) for b in answer["bars"].get("SPY") or []]
        if bars:
            bars[0]["o"] = price
        return {**answer, "bars": {**answer["bars"], "SPY": bars}}

    return json_edit(edit_bars)


SPY_MINUTES = b'"SPY"'
CASES = {
    "filled-qty-twice-the-order": (Rule("GET", ORDER, edit(filled_qty="940"), when=filled), "filled_qty=940"),
    "fill-price-zero": (Rule("GET", ORDER, edit(filled_avg_price="0"), when=filled), "filled_avg_price=0"),
    "fill-price-negative": (Rule("GET", ORDER, edit(filled_avg_price="-202.29"), when=filled), "filled_avg_price=-"),
    "other-symbol": (Rule("GET", ORDER, edit(symbol="SPY"), when=filled), "symbol='SPY'"),
    "other-side": (Rule("GET", ORDER, edit(side="sell"), when=filled), "side='sell'"),
    "unknown-status": (Rule("GET", ORDER, edit(status="settled"), when=filled), "'settled' is not a valid OrderStatus"),
    "bar-from-2031": (
        Rule("GET", "/v2/stocks/bars", json_edit(future_bar), when=lambda b: b'"IWM"' in b and b"T05:00:00Z" in b),
        "outside the requested",
    ),
    "null-close": (
        Rule("GET", "/v2/stocks/bars", json_edit(null_close), when=lambda b: b'"IWM"' in b and b"T05:00:00Z" in b),
        "c=None",
    ),
    "fractional-fill-of-whole-shares": (
        Rule("GET", ORDER, edit(filled_qty="469.5"), when=filled),
        "fractional for a whole-share order",
    ),
    "clock-200-days-ahead": (Rule("GET", "/v2/clock", days_ahead(200), skip=20), "the broker's time jumped"),
    "benchmark-minute-open-zero": (
        Rule("GET", "/v2/stocks/bars", benchmark_open(0.0), when=lambda b: SPY_MINUTES in b and b"T14:3" in b),
        "o=0.0 is not a positive number",
    ),
    "account-without-equity": (Rule("GET", "/v2/account", without("equity")), "field 'equity' is missing"),
    "garbage-cash": (Rule("GET", "/v2/account", edit(cash="12abc")), "cash='12abc' is not a number"),
    "html-page": (Rule("GET", "/v2/account", raw(200, b"<html><body>maintenance</body></html>")), "not JSON"),
    "empty-body": (Rule("GET", "/v2/clock", raw(200, b"", "application/json")), "clock: unreadable answer"),
    "redirect-without-location": (Rule("GET", "/v2/clock", raw(302, b"")), "clock: unreadable answer"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_bad_answer_is_refused_and_changes_nothing(tmp_path: Path, case: str) -> None:
    rule, expected = CASES[case]
    with harness(tmp_path, FRAMES, start=START, end=END) as h, HostileProxy(h.exchange.url, [rule]) as proxy:
        base = h.settings()
        alpaca = base.alpaca.model_copy(update={"base_url": proxy.url, "data_url": proxy.url})
        trader = h.trader(type(base)(base.strategy, alpaca, base.runtime))
        errors = []
        for moment in h.moments(date(2023, 12, 12), date(2023, 12, 20)):
            h.clock.set(moment)
            try:
                trader.tick()
            except BrokerError as exc:  # what the run loop does: log an error, try again on the next pass
                errors.append(str(exc))
        orders = h.orders()
        position = h.admin.position("IWM")
        exchange_fills = sorted((Decimal(f["qty"]), Decimal(f["price"])) for f in h.admin.fills())
    assert rule.used == 1, "the hostile answer was never served"
    assert any(expected in error for error in errors), errors
    assert [o.client_order_id for o in orders] == ["brk-IWM-2024-entry-1"]  # no extra order, no duplicate
    ledger_fills = sorted((f.qty, f.price) for f in trader.ledger.fills())
    assert ledger_fills == exchange_fills and sum(q for q, _ in ledger_fills) == position > 0
    assert trader.ledger.meta().start_equity == Decimal(100000)
    assert all(o.qty == o.filled_qty == position for o in trader.ledger.orders())


@pytest.mark.parametrize("command", [["check"], ["run", "--once"]])
def test_a_broker_error_that_echoes_the_keys_is_printed_scrubbed(tmp_path: Path, command: list[str]) -> None:
    from tests.live_harness import KEY_ID, SECRET
    from tests.processes import clean_environment, run_bot

    echo = json.dumps({"code": 40310000, "message": f"forbidden: key {KEY_ID} with secret {SECRET}"}).encode()
    rule = Rule("GET", "/v2/account", lambda _s, _b: (403, echo, "application/json"))
    with harness(tmp_path, FRAMES, start=START, end=END) as h, HostileProxy(h.exchange.url, [rule]) as proxy:
        env = clean_environment(
            APCA_API_KEY_ID=KEY_ID,
            APCA_API_SECRET_KEY=SECRET,
            APCA_API_BASE_URL=proxy.url,
            APCA_API_DATA_URL=proxy.url,
            BOT_DATA_DIR=str(tmp_path / "data"),
        )
        result = run_bot(*command, env=env)
    assert rule.used == 1
    assert result.returncode == 2 and "[redacted]" in result.stderr
    assert SECRET not in result.stdout + result.stderr and KEY_ID not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
