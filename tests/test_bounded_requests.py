"""A server that trickles its answer or sends far too much cannot hold a pass or fill the memory."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.broker.alpaca import AlpacaBroker
from bot.broker.bounded import MAX_RESPONSE_BYTES
from bot.config import Settings, load_settings
from bot.errors import BrokerDataInvalid, BrokerUnavailable
from tests.processes import clean_environment

HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"


def serve(answer: object) -> Iterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()
    sent: list[int] = []

    def handle(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):  # the client hangs up on us: that is the point
            conn.recv(65536)
            answer(conn, stop, sent)  # type: ignore[operator]

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener was closed
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()


def trickle(conn: socket.socket, stop: threading.Event, sent: list[int]) -> None:
    body = b'{"timestamp": "2024-01-02T10:00:00-05:00", "is_open": true}'
    conn.sendall(HEADERS % len(body))
    for byte in body:  # one byte every 0.2 s: each read is well inside the read timeout
        if stop.wait(0.2):
            return
        conn.sendall(bytes([byte]))


def flood(conn: socket.socket, stop: threading.Event, sent: list[int]) -> None:
    size = 4 * MAX_RESPONSE_BYTES
    conn.sendall(HEADERS % size)
    chunk = b" " * 65536
    while not stop.is_set() and sum(sent) < size:
        conn.sendall(chunk)
        sent.append(len(chunk))


def broker_for(url: str, tmp_path: Path) -> AlpacaBroker:
    base = load_settings()
    alpaca = base.alpaca.model_copy(
        update={"key_id": SecretStr("PKBOUND"), "secret_key": SecretStr("bound-secret"), "base_url": url}
    )
    runtime = base.runtime.model_copy(
        update={"data_dir": tmp_path, "http_timeout_seconds": 1.0, "retry_max_seconds": 0.5}
    )
    return AlpacaBroker(Settings(base.strategy, alpaca, runtime), sleep=lambda seconds: None)


@pytest.fixture
def trickling() -> Iterator[str]:
    yield from serve(trickle)


@pytest.fixture
def flooding() -> Iterator[str]:
    yield from serve(flood)


def test_a_trickling_answer_ends_at_the_deadline_as_a_timeout(trickling: str, tmp_path: Path) -> None:
    with pytest.raises(BrokerUnavailable, match="Timeout"):
        broker_for(trickling, tmp_path).clock()


def test_an_oversized_answer_is_refused_without_reading_it_whole(flooding: str, tmp_path: Path) -> None:
    with pytest.raises(BrokerDataInvalid, match="larger than"):
        broker_for(flooding, tmp_path).clock()


def stall(conn: socket.socket, stop: threading.Event, sent: list[int]) -> None:
    sent.append(1)  # a connection came in; it never gets an answer
    stop.wait(60)


@pytest.fixture
def stalling() -> Iterator[str]:
    yield from serve(stall)


def test_sigterm_stops_the_bot_inside_a_request_that_never_answers(stalling: str, tmp_path: Path) -> None:
    env = clean_environment(
        APCA_API_KEY_ID="PKSTALL",
        APCA_API_SECRET_KEY="stall-secret-0a1b",
        APCA_API_BASE_URL=stalling,
        APCA_API_DATA_URL=stalling,
        BOT_DATA_DIR=str(tmp_path / "data"),
        BOT_HTTP_TIMEOUT_SECONDS="120",
        LOG_FORMAT="json",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        deadline = threading.Event()
        while not (tmp_path / "data" / "heartbeat.json").exists() and not deadline.wait(0.05):
            pass
        deadline.wait(0.5)  # inside the first request, which would block for two minutes
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)  # a liveness bound: the read timeout is 120 s
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    events = [json.loads(line) for line in out.splitlines()]
    assert events[-1]["event"] == "shutdown" and events[-1]["reason"] == "SIGTERM"
