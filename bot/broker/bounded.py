"""Every HTTP request the adapter makes is bounded: a connect timeout, a read timeout, an overall deadline for the
body, and a size cap, so that a server trickling one byte a second or sending a gigabyte cannot hold a pass.

alpaca-py reads whole bodies through ``requests.Session.request``; this wraps that call: the body is streamed,
and a timer shuts the socket when the deadline passes (which also unblocks a read stuck inside ``recv``).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Any

import requests

from bot.errors import BotError, BrokerDataInvalid

MAX_RESPONSE_BYTES = 32 * 1024 * 1024  # ten years of daily bars for a few symbols is well under 10 MB
RequestObserver = Callable[[str, str, int | None], None]


def _shut(response: requests.Response) -> None:
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


def bound(
    request: Callable[..., requests.Response],
    *,
    connect_seconds: float,
    read_seconds: float,
    max_bytes: int = MAX_RESPONSE_BYTES,
    observe: RequestObserver | None = None,
) -> Callable[..., requests.Response]:
    """``request`` with timeouts, an overall deadline of ``read_seconds`` for the body and a size cap.

    ``observe(method, url, status)`` is told of every request (status None: no answer), for the metrics.
    """

    def bounded(method: str, url: str, **kwargs: Any) -> requests.Response:
        kwargs["timeout"] = (connect_seconds, read_seconds)
        kwargs["stream"] = True
        try:
            response = request(method, url, **kwargs)
        except Exception:
            if observe is not None:
                observe(method, url, None)
            raise
        if observe is not None:
            observe(method, url, response.status_code)
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            _shut(response)

        timer = threading.Timer(read_seconds, expire)
        timer.daemon = True
        timer.start()
        try:
            body = response.raw.read(max_bytes + 1, decode_content=True)
        except BotError:
            raise  # a shutdown raised from the signal handler passes through untouched
        except Exception as exc:
            if expired.is_set():
                raise requests.Timeout(f"no whole answer within {read_seconds:g} s") from None
            raise requests.ConnectionError(str(exc)) from None
        finally:
            timer.cancel()
        if expired.is_set():
            raise requests.Timeout(f"no whole answer within {read_seconds:g} s")
        if len(body) > max_bytes:
            response.close()
            raise BrokerDataInvalid(f"{method} {response.url}: the answer is larger than {max_bytes:,} bytes")
        response._content = body
        response._content_consumed = True  # type: ignore[attr-defined]
        return response

    return bounded
