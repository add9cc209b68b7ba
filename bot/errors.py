"""The bot's errors, named by what the caller should do.

BotError
├── ConfigError        a setting or input the user must fix (exit 2)
├── DataError          a data file the user must fix (exit 2)
└── BrokerError        the broker said no or could not be reached
    ├── BrokerUnavailable   transient: idempotent calls may retry
    └── OrderRejected       permanent: record it, never resend
"""

from __future__ import annotations


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


class OrderRejected(BrokerError):
    pass


class ShutdownRequested(BotError):
    """SIGTERM or SIGINT arrived while the loop was waiting; unwind and stop."""

    exit_code = 0
