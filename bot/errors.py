"""The bot's errors, named by what the caller should do.

BotError
├── ConfigError        a setting or input the user must fix (exit 2)
│   └── CredentialsRefused  the broker refused the keys (401/403 on a read)
├── DataError          a data file the user must fix (exit 2)
└── BrokerError        the broker said no or could not be reached
    ├── BrokerUnavailable   transient: idempotent calls may retry
    │   └── BrokerDataInvalid   an answer that fails validation: never recorded, asked again
    └── OrderRejected       permanent for that request: record it, never resend it
"""

from __future__ import annotations

from enum import StrEnum


class RejectionKind(StrEnum):
    """Why the broker refused an order, which decides what the bot does next."""

    CUTOFF = "cutoff"  # an auction order past its cut-off: the next attempt uses a day order
    FUNDS = "funds"  # buying power: resized once from fresh account data
    QUANTITY = "quantity"  # shares not available: resized once from the broker's position
    BLOCKED = "blocked"  # the account may not trade
    OTHER = "other"  # permanent for that intent and session


def rejection_kind(status: int | None, message: str) -> RejectionKind:
    """What kind of refusal Alpaca's answer to an order is, from its status and message."""
    text = message.lower()
    if "orders must be submitted" in text:
        return RejectionKind.CUTOFF
    if "insufficient buying power" in text:
        return RejectionKind.FUNDS
    if "insufficient qty" in text:
        return RejectionKind.QUANTITY
    if status == 403 and ("blocked" in text or "suspend" in text):
        return RejectionKind.BLOCKED
    return RejectionKind.OTHER


class BotError(Exception):
    exit_code = 1


class ConfigError(BotError):
    exit_code = 2


class DataError(BotError):
    exit_code = 2


class BrokerError(BotError):
    exit_code = 3


class BrokerUnavailable(BrokerError):
    pass


class BrokerDataInvalid(BrokerUnavailable):
    """The broker answered something impossible (a fill beyond the order, a price of 0, a future bar...)."""


class OrderRejected(BrokerError):
    def __init__(self, message: str, kind: RejectionKind = RejectionKind.OTHER) -> None:
        super().__init__(message)
        self.kind = kind


class CredentialsRefused(ConfigError):
    """401, or 403 on a read: the keys are wrong or revoked. Trading cannot go on until they are fixed."""


class ShutdownRequested(BotError):
    """SIGTERM or SIGINT arrived while the loop was waiting; unwind and stop."""

    exit_code = 0
