"""Run a sweep's chunks in this process or on Dask, with the same answer either way.

A sweep is split into chunks of at most CHUNK_CELLS cells of one symbol, in grid order, so the split depends only
on the grid and the symbols. ``--workers N`` starts a local cluster of N single-threaded worker processes;
``--scheduler ADDRESS`` uses a running ``dask.distributed`` scheduler. Dask recomputes a chunk whose worker was
lost. Dask is the optional ``scale`` extra and is imported only here, only when asked for.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from bot.errors import ConfigError
from bot.research.cells import Cells
from bot.research.replay import Replay, Trades, replay
from bot.research.series import Series
from bot.research.signals import Window

CHUNK_CELLS = 2_000
ROUNDS = 3  # sends of a chunk Dask cancelled


@dataclass(frozen=True)
class Chunk:
    series: Series
    cells: Cells
    cash: Decimal
    window: Window


def run_chunk(chunk: Chunk) -> Replay:
    return replay(chunk.series, chunk.cells, cash=chunk.cash, window=chunk.window)


def split(series: Series, cells: Cells, cash: Decimal, window: Window) -> list[Chunk]:
    return [
        Chunk(series, cells.part(first, first + CHUNK_CELLS), cash, window)
        for first in range(0, max(len(cells), 1), CHUNK_CELLS)
    ]


def run_chunks(chunks: Sequence[Chunk], *, workers: int | None = None, scheduler: str | None = None) -> list[Replay]:
    if workers is None and scheduler is None:
        return [run_chunk(chunk) for chunk in chunks]
    with _client(workers, scheduler) as client:
        answers = _gather(client, chunks)
    return [
        Replay(chunk.series, chunk.cells, trades, end_units, pending, chunk.window)
        for chunk, (trades, end_units, pending) in zip(chunks, answers, strict=True)
    ]


def _gather(client: Any, chunks: Sequence[Chunk]) -> list[tuple[Trades, np.ndarray, np.ndarray]]:
    """Every chunk's answer; chunks Dask cancelled (their worker, and with it a copy they read, was lost at a bad
    moment) are sent again, at most ``ROUNDS`` times. A chunk that raised raises here."""
    from dask.distributed import wait

    answers: dict[int, tuple[Trades, np.ndarray, np.ndarray]] = {}
    for _ in range(ROUNDS):
        run = uuid.uuid4().hex[:8]
        left = [i for i in range(len(chunks)) if i not in answers]
        # Each symbol's arrays go to every worker once (a copy survives a lost worker), not inside every task.
        distinct = {id(chunks[i].series): chunks[i].series for i in left}
        copies = client.scatter(list(distinct.values()), broadcast=True, hash=False)
        sent = dict(zip(distinct, copies, strict=True))
        futures = {
            i: client.submit(_remote, sent[id(chunks[i].series)], chunks[i].cells, chunks[i].cash, chunks[i].window,
                             key=f"sweep-{run}-{i}", pure=False)
            for i in left
        }  # fmt: skip
        wait(list(futures.values()))  # type: ignore[no-untyped-call]
        answers |= {i: future.result() for i, future in futures.items() if not future.cancelled()}
        if len(answers) == len(chunks):
            return [answers[i] for i in range(len(chunks))]
    raise ConfigError(
        f"the Dask cluster cancelled {len(chunks) - len(answers)} chunks {ROUNDS} times; is it losing workers?"
    )


def _remote(series: Series, cells: Cells, cash: Decimal, window: Window) -> tuple[Trades, np.ndarray, np.ndarray]:
    """A chunk on a worker; it sends back only what the client does not have."""
    result = replay(series, cells, cash=cash, window=window)
    return result.trades, result.end_units, result.pending_qty


def _client(workers: int | None, scheduler: str | None) -> Any:
    try:
        from dask.distributed import Client
    except ImportError:
        raise ConfigError(
            "--workers and --scheduler need Dask: install the scale extra (pip install 'iwm-breakout-bot[scale]')"
        ) from None
    if scheduler is not None:
        try:
            return Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError) as exc:  # refused, silent, or not an address
            raise ConfigError(f"--scheduler {scheduler!r}: no Dask scheduler answered ({exc})") from None
    # The client owns the cluster it starts, and closes it with itself.
    return Client(  # type: ignore[no-untyped-call]
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )


def merge(parts: Sequence[Replay], cells: Cells) -> Replay:
    """The chunks of one symbol (of ``cells``) as one replay, cells in grid order."""
    first = parts[0]
    offsets = np.cumsum([0, *[len(part.cells) for part in parts[:-1]]])
    joined = {}
    for name in ("cell", "signal", "entry", "exit", "qty", "closed", "season"):
        pieces = [getattr(part.trades, name) for part in parts]
        if name == "cell":
            pieces = [piece + offset for piece, offset in zip(pieces, offsets, strict=True)]
        joined[name] = np.concatenate(pieces)
    return Replay(
        series=first.series,
        cells=cells,
        trades=Trades(**joined),
        end_units=np.concatenate([part.end_units for part in parts]),
        pending_qty=np.concatenate([part.pending_qty for part in parts]),
        window=first.window,
    )
