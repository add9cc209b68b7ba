"""Query parameters parsed as Alpaca parses them."""

from __future__ import annotations

from datetime import date, datetime

from aiohttp import web

from bot.domain import NEW_YORK
from bot.local_exchange.accounts import ExchangeError


def time_param(request: web.Request, name: str, default: datetime | None) -> datetime | None:
    raw = request.query.get(name)
    if not raw:
        return default
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(raw), datetime.min.time())
        except ValueError:
            raise ExchangeError(422, 40010001, f"{name} {raw!r} is not an RFC 3339 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=NEW_YORK)


def int_param(request: web.Request, name: str, default: int, upper: int) -> int:
    raw = request.query.get(name)
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ExchangeError(422, 40010001, f"{name} must be an integer") from None
    return max(1, min(value, upper))
