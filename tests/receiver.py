"""A local HTTP receiver for notifications (Apprise's ``json://``) and pings: records what arrives.

It can refuse the first N messages with HTTP 500, so that a test sees the bot retry.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    messages: list[dict[str, Any]] = field(default_factory=list)
    pings: list[str] = field(default_factory=list)
    refused: int = 0
    refuse_first: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def titles(self) -> list[str]:
        with self.lock:
            return [str(m["title"]) for m in self.messages]


class Receiver:
    def __init__(self, refuse_first: int = 0) -> None:
        self.received = Received(refuse_first=refuse_first)
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with received.lock:
                    refuse = received.refused < received.refuse_first
                    if refuse:
                        received.refused += 1
                    else:
                        received.messages.append(json.loads(body))
                self.send_response(500 if refuse else 200)
                self.end_headers()

            def do_GET(self) -> None:
                with received.lock:
                    received.pings.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
