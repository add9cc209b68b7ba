"""An Alpaca-compatible paper exchange on 127.0.0.1 that replays history on a simulated clock.

The real alpaca-py clients work against it unchanged (``url_override``). See docs/exchange.md.
"""

from bot.local_exchange.clock import AcceleratedClock, ManualClock, ReplayClock
from bot.local_exchange.faults import FaultSpec, parse_faults
from bot.local_exchange.server import LocalExchange

__all__ = ["AcceleratedClock", "FaultSpec", "LocalExchange", "ManualClock", "ReplayClock", "parse_faults"]
