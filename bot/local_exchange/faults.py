"""Faults on demand, seeded and reproducible.

A spec is a comma-separated list of items ``KIND[:RATE][:key=value...]``:

| item | effect |
|---|---|
| `500:0.1` | 10 % of requests answer HTTP 500 (likewise 502, 503, 504) |
| `503:burst=3:from=20` | requests number 20, 21 and 22 answer 503 |
| `429:0.05:retry_after=1` | 5 % answer 429 with `Retry-After: 1` and `X-RateLimit-Reset` |
| `slow:0.05:seconds=2.5` | 5 % of responses are delayed 2.5 s |
| `reset:0.02` | 2 % of connections are dropped without a response |
| `drop_order_response:nth=1` | the 1st order is accepted and processed, then its connection dropped |
| `drop_order_response:0.5` | half of all orders are processed, then their connections dropped |
| `opg_unfilled:0.8` | 80 % of `opg` orders expire unfilled at the open (paper runs no auction) |
| `cls_unfilled:0.5` | half of the `cls` orders expire unfilled at the close |
| `auction_partial:0.5:fraction=0.5` | half of the auction orders fill half at the auction; the rest expires |
| `reject_after_accept:0.1` | 10 % of orders are answered 200 `accepted`, then turn `rejected` a second later |
| `paper_partial[:RATE][:fraction=F]` | paper's random partials (10 % with no rate): a part fills, the rest 30 min on |

Order items are drawn once per accepted order, in submission order, from their own seeded stream.

Order items take `side=buy` or `side=sell`. Any item takes `path=/v2/orders` to apply only to paths starting
with that prefix, and `method=POST`.
Requests are numbered from 1 in arrival order; the random draws come from ``--seed``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from bot.errors import ConfigError
from bot.local_exchange.accounts import OrderFate

STATUS_KINDS = {"429", "500", "502", "503", "504"}
ORDER_KINDS = {"opg_unfilled", "cls_unfilled", "auction_partial", "reject_after_accept", "paper_partial"}
KINDS = STATUS_KINDS | ORDER_KINDS | {"slow", "reset", "drop_order_response"}
KEYS = {"burst", "from", "retry_after", "seconds", "nth", "path", "method", "fraction", "side"}
PAPER_PARTIAL_RATE = 0.1  # Alpaca's paper docs: random partial fills 10 % of the time


@dataclass(frozen=True)
class FaultRule:
    kind: str
    rate: float = 0.0
    burst: int = 0
    start: int = 1
    nth: int = 0
    retry_after: float = 1.0
    seconds: float = 1.0
    path: str = "/v2/"
    method: str | None = None
    fraction: float = 0.5
    side: str | None = None  # order items: only buys or only sells


@dataclass(frozen=True)
class FaultSpec:
    rules: tuple[FaultRule, ...] = ()
    text: str = ""


@dataclass
class FaultState:
    """The draws and counters of one running exchange."""

    spec: FaultSpec
    seed: int
    requests: int = 0
    orders: int = 0
    rng: random.Random = field(init=False)

    order_rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.order_rng = random.Random(f"orders-{self.seed}")

    def order_fate(self, time_in_force: str, side: str | None = None) -> OrderFate:
        """What the venue does with the next accepted order (one draw per order item, in spec order)."""
        unfilled = reject = False
        auction_fraction = paper_fraction = None
        auction = time_in_force in ("opg", "cls")
        for rule in self.spec.rules:
            if rule.kind not in ORDER_KINDS or not self.order_rng.random() < rule.rate:
                continue
            if rule.side is not None and rule.side != side:
                continue
            if rule.kind == f"{time_in_force}_unfilled":
                unfilled = True
            elif rule.kind == "auction_partial" and auction:
                auction_fraction = Decimal(str(rule.fraction))
            elif rule.kind == "paper_partial" and not auction:
                paper_fraction = Decimal(str(rule.fraction))
            elif rule.kind == "reject_after_accept":
                reject = True
        return OrderFate(unfilled, auction_fraction, reject, paper_fraction)

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The fault for the next request, if any (the request counter advances either way)."""
        self.requests += 1
        for rule in self.spec.rules:
            if rule.kind in ORDER_KINDS or rule.kind == "drop_order_response" or not self._applies(rule, method, path):
                continue
            if rule.burst:
                if rule.start <= self.requests < rule.start + rule.burst:
                    return rule
            elif rule.rate and self.rng.random() < rule.rate:
                return rule
        return None

    def drop_order_response(self, method: str, path: str) -> bool:
        if method != "POST" or path.rstrip("/") != "/v2/orders":
            return False
        self.orders += 1
        for rule in self.spec.rules:
            if rule.kind != "drop_order_response":
                continue
            if (rule.nth and rule.nth == self.orders) or (rule.rate and self.rng.random() < rule.rate):
                return True
        return False

    @staticmethod
    def _applies(rule: FaultRule, method: str, path: str) -> bool:
        return path.startswith(rule.path) and (rule.method is None or rule.method == method)


def _number(item: str, key: str, value: str, *, integer: bool = False) -> float:
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        raise ConfigError(f"--faults item {item!r}: {key} must be a number, got {value!r}") from None
    if number < 0:
        raise ConfigError(f"--faults item {item!r}: {key} must not be negative")
    return number


def parse_faults(text: str | None) -> FaultSpec:
    if not text:
        return FaultSpec()
    rules = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        kind, *params = item.split(":")
        if kind not in KINDS:
            raise ConfigError(f"--faults item {item!r}: unknown kind {kind!r}; allowed: {', '.join(sorted(KINDS))}")
        values: dict[str, object] = {}
        for param in params:
            key, sep, value = param.partition("=")
            if not sep:
                rate = _number(item, "rate", key)
                if rate > 1:
                    raise ConfigError(f"--faults item {item!r}: a rate is between 0 and 1")
                values["rate"] = rate
            elif key not in KEYS:
                raise ConfigError(f"--faults item {item!r}: unknown key {key!r}; allowed: {', '.join(sorted(KEYS))}")
            elif key in ("path", "method", "side"):
                values[key] = value.upper() if key == "method" else value
            elif key in ("burst", "nth", "from"):
                values["start" if key == "from" else key] = int(_number(item, key, value, integer=True))
            else:
                values[key] = _number(item, key, value)
        if kind == "paper_partial" and "rate" not in values:
            values["rate"] = PAPER_PARTIAL_RATE
        fraction = values.get("fraction", 0.5)
        if not isinstance(fraction, float) or not 0 < fraction < 1:
            raise ConfigError(f"--faults item {item!r}: fraction must be between 0 and 1 (exclusive)")
        rule = FaultRule(kind=kind, **values)  # type: ignore[arg-type]
        if not (rule.rate or rule.burst or rule.nth):
            raise ConfigError(f"--faults item {item!r}: give a rate (0-1), burst=N[:from=K] or nth=N")
        rules.append(rule)
    return FaultSpec(tuple(rules), text)
