"""Built-in, seeded market scenarios: an IWM path and a matching SPY path on the NYSE calendar.

| name             | IWM                                                             |
|------------------|-----------------------------------------------------------------|
| breakout         | climbs from ~185, closes above 200 in mid-December, holds above |
| no-breakout      | stays between ~180 and ~197 all season                          |
| false-breakout   | crosses 200 in December, falls back to ~185 by spring           |
| gap-through      | closes ~196, then opens above 203 the next day and stays above  |

Each spans 2023-11-01 to 2024-07-12, so a season from the December breakout to the end of June fits. Every
scenario carries the cash dividends IWM and SPY went ex on in that season (their real dates and amounts).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.errors import ConfigError
from bot.market.calendar import nyse_sessions
from bot.market.dividends import Dividend, Dividends

START = date(2023, 11, 1)
END = date(2024, 7, 12)
CROSS_DAY = date(2023, 12, 13)

# Anchor closes (session, price); the path interpolates between them and adds seeded noise.
_IWM_ANCHORS: dict[str, list[tuple[date, float]]] = {
    "breakout": [(START, 185.0), (date(2023, 12, 12), 198.0), (CROSS_DAY, 202.0), (END, 224.0)],
    "no-breakout": [(START, 182.0), (date(2024, 1, 16), 194.0), (date(2024, 4, 1), 188.0), (END, 192.0)],
    "false-breakout": [
        (START, 185.0),
        (date(2023, 12, 12), 198.0),
        (CROSS_DAY, 202.0),
        (date(2024, 1, 10), 204.0),
        (date(2024, 3, 1), 190.0),
        (END, 184.0),
    ],
    "gap-through": [(START, 184.0), (date(2023, 12, 12), 196.0), (CROSS_DAY, 205.0), (END, 222.0)],
}
_SPY_ANCHORS = [(START, 420.0), (date(2024, 1, 31), 480.0), (date(2024, 4, 19), 495.0), (END, 530.0)]

SCENARIO_NAMES = tuple(_IWM_ANCHORS)
SYMBOLS = ("IWM", "SPY")

if TYPE_CHECKING:  # numpy and pandas are imported where a scenario is built: `bot backtest --data` needs neither
    import numpy as np
    import pandas as pd


def _closes(days: list[date], anchors: list[tuple[date, float]], rng: np.random.Generator, noise: float) -> np.ndarray:
    import numpy as np

    ordinal = np.array([day.toordinal() for day in days], dtype=float)
    xs = np.array([day.toordinal() for day, _ in anchors], dtype=float)
    ys = np.array([price for _, price in anchors])
    base = np.interp(ordinal, xs, ys)
    wiggle = rng.normal(0.0, noise, len(days))
    for anchor_day, _ in anchors:  # anchors are exact
        wiggle[days.index(anchor_day)] = 0.0
    closes: np.ndarray = base * (1.0 + wiggle)
    return closes


def _bars(closes: np.ndarray, rng: np.random.Generator, gap_at: int | None = None) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    opens = np.empty_like(closes)
    opens[0] = closes[0]
    opens[1:] = closes[:-1] * (1.0 + rng.normal(0.0, 0.002, len(closes) - 1))
    if gap_at is not None:
        opens[gap_at] = closes[gap_at] * 0.995
    spread_up = np.abs(rng.normal(0.0, 0.004, len(closes)))
    spread_down = np.abs(rng.normal(0.0, 0.004, len(closes)))
    frame = pd.DataFrame(
        {
            "open": opens.round(2),
            "high": (np.maximum(opens, closes) * (1.0 + spread_up)).round(2),
            "low": (np.minimum(opens, closes) * (1.0 - spread_down)).round(2),
            "close": closes.round(2),
            "volume": rng.integers(15_000_000, 45_000_000, len(closes)).astype(float),
        }
    )
    frame["high"] = frame[["open", "high", "close"]].max(axis=1)
    frame["low"] = frame[["open", "low", "close"]].min(axis=1)
    return frame


def _enforce(name: str, closes: np.ndarray, days: list[date]) -> None:
    """Keep each scenario's defining property whatever the noise did."""
    import numpy as np

    cross = days.index(CROSS_DAY)
    if name in ("breakout", "false-breakout", "gap-through"):
        closes[:cross] = np.minimum(closes[:cross], 199.5)
    if name in ("breakout", "gap-through"):
        closes[cross:] = np.maximum(closes[cross:], 200.5)
    if name == "gap-through":
        closes[cross - 1] = 196.0
    if name == "no-breakout":
        np.minimum(closes, 197.0, out=closes)


_DIVIDENDS = {
    "IWM": ((date(2023, 12, 20), "0.734"), (date(2024, 3, 21), "0.522"), (date(2024, 6, 11), "0.562")),
    "SPY": ((date(2023, 12, 15), "1.906"), (date(2024, 3, 15), "1.595"), (date(2024, 6, 21), "1.759")),
}


def scenario_dividends(name: str) -> Dividends:
    if name not in _IWM_ANCHORS:
        raise ConfigError(f"scenario {name!r} is not known; choose one of {', '.join(SCENARIO_NAMES)}")
    return {
        symbol: tuple(Dividend(day, Decimal(amount)) for day, amount in rows) for symbol, rows in _DIVIDENDS.items()
    }


def build_scenario(name: str, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Daily bars for IWM and SPY, indexed by session date, like a loaded CSV directory."""
    import numpy as np
    import pandas as pd

    if name not in _IWM_ANCHORS:
        raise ConfigError(f"scenario {name!r} is not known; choose one of {', '.join(SCENARIO_NAMES)}")
    rng = np.random.default_rng([seed, SCENARIO_NAMES.index(name)])
    days = nyse_sessions(START, END)
    iwm = _closes(days, _IWM_ANCHORS[name], rng, 0.006)
    _enforce(name, iwm, days)
    spy = _closes(days, _SPY_ANCHORS, rng, 0.004)
    gap_at = days.index(CROSS_DAY) if name == "gap-through" else None
    frames = {"IWM": _bars(iwm, rng, gap_at), "SPY": _bars(spy, rng)}
    for frame in frames.values():
        frame.index = pd.Index(days, name="date")
    return frames


def write_scenario(name: str, directory: object, seed: int = 0) -> None:
    """Write a scenario as ``<SYMBOL>.csv`` files, the format ``--data`` reads."""
    from pathlib import Path

    import pandas as pd

    target = Path(str(directory))
    target.mkdir(parents=True, exist_ok=True)
    for symbol, frame in build_scenario(name, seed).items():
        out = frame.copy()
        out.index = pd.Index([day.isoformat() for day in out.index], name="date")
        out["volume"] = out["volume"].astype(int)
        out.to_csv(target / f"{symbol}.csv")
