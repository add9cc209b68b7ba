"""An Alpaca-compatible paper exchange on 127.0.0.1 that replays history on a simulated clock.

The real alpaca-py clients work against it unchanged (``url_override``). See docs/exchange.md. The HTTP server
is bot.local_exchange.server (aiohttp, imported only where it is served); the venue model it serves (book,
market, clock) also runs in-process, for the backtest.
"""
