"""Alpaca's auction rules, stated once: the local exchange enforces them and the bot plans by them.

- ``opg`` orders are refused from 09:28 ET until 19:00 ET on a session day; sent after 19:00 they are for the
  next session's open.
- ``cls`` orders are refused from 10 minutes before the close (15:50, or 12:50 on an early close) until 19:00;
  before that they are for the same session's close, after 19:00 for the next session's.
- Free-plan SIP data is served only for an ``end`` at least 15 minutes in the past; a session's daily bar is
  complete from about 16 minutes after its close.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Protocol

from bot.domain import NEW_YORK

OPG_CUTOFF = time(9, 28)
AUCTIONS_REOPEN = time(19, 0)
CLS_CUTOFF_BEFORE_CLOSE = timedelta(minutes=10)
SIP_DELAY = timedelta(minutes=15)
DATA_SETTLED_AFTER_CLOSE = timedelta(minutes=16)
OPG_REJECTED = "opg orders must be submitted after 7:00pm and before 9:28am"


class SessionLike(Protocol):
    @property
    def opens_at(self) -> datetime: ...

    @property
    def closes_at(self) -> datetime: ...


def evening_of(session: SessionLike) -> datetime:
    """19:00 ET of the session's day: auction orders sent from then on are for the next session."""
    local = session.opens_at.astimezone(NEW_YORK)
    return datetime.combine(local.date(), AUCTIONS_REOPEN, NEW_YORK)


def opg_cutoff(session: SessionLike) -> datetime:
    local = session.opens_at.astimezone(NEW_YORK)
    return datetime.combine(local.date(), OPG_CUTOFF, NEW_YORK)


def cls_cutoff(session: SessionLike) -> datetime:
    return session.closes_at - CLS_CUTOFF_BEFORE_CLOSE


def opg_refused(now: datetime, today: SessionLike | None) -> bool:
    """Whether an ``opg`` order sent at ``now`` is refused (``today``: the session of now's date, if any)."""
    return today is not None and opg_cutoff(today) <= now < evening_of(today)


def cls_refused(now: datetime, today: SessionLike | None) -> bool:
    return today is not None and cls_cutoff(today) <= now < evening_of(today)


def cls_refused_text(today: SessionLike) -> str:
    cutoff = cls_cutoff(today).astimezone(NEW_YORK)
    return f"cls orders must be submitted after 7:00pm and before {cutoff.strftime('%-I:%M%p').lower()}"


def data_settled(now: datetime, session: SessionLike) -> bool:
    """Whether the session's daily bar is final on every feed and plan."""
    return now >= session.closes_at + DATA_SETTLED_AFTER_CLOSE
