"""A small HTTP proxy (aiohttp) in front of the local exchange that rewrites chosen answers, for the hostile cases."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, web

Rewrite = Callable[[int, bytes], tuple[int, bytes, str]]


@dataclass
class Rule:
    method: str
    path: str  # a path prefix
    rewrite: Rewrite
    when: Callable[[bytes], bool] = lambda body: True  # only answers whose original body matches
    times: int = 1
    skip: int = 0  # matching answers served unchanged first
    used: int = 0
    seen: int = 0


def json_edit(edit: Callable[[Any], Any]) -> Rewrite:
    def rewrite(status: int, body: bytes) -> tuple[int, bytes, str]:
        return status, json.dumps(edit(json.loads(body))).encode(), "application/json"

    return rewrite


def raw(status: int, body: bytes, content_type: str = "text/html") -> Rewrite:
    return lambda _status, _body: (status, body, content_type)


class HostileProxy:
    def __init__(self, upstream: str, rules: list[Rule]) -> None:
        self.upstream, self.rules = upstream, rules
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with (
            ClientSession() as session,
            session.request(
                request.method, self.upstream + request.path_qs, data=body or None, headers=headers
            ) as answer,
        ):
            status, payload = answer.status, await answer.read()
            content_type = answer.content_type
        for rule in self.rules:
            matches = request.method == rule.method and request.path.startswith(rule.path)
            if matches and status == 200 and rule.when(payload):
                rule.seen += 1
            if rule.used < rule.times and matches and status == 200 and rule.when(payload) and rule.seen > rule.skip:
                rule.used += 1
                status, payload, content_type = rule.rewrite(status, payload)
                break
        return web.Response(status=status, body=payload, content_type=content_type)

    def __enter__(self) -> HostileProxy:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._forward)
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())

        threading.Thread(target=serve, daemon=True).start()
        ready.wait()
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
