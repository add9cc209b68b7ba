"""One engine in one process: a warm-up run, then timed runs; prints one JSON line.

python -m bench.measure ENGINE RUNS
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np

from bench.data import daily, minutes
from bench.engines import ENGINES


def _sweep_case(engine: str) -> tuple[int, object]:
    from bench.sweeps import GRID_HOLDS, GRID_LEVELS, ours_sweep, vectorbt_sweep

    frames = daily()
    run = ours_sweep if engine == "sweep-ours" else vectorbt_sweep
    return len(GRID_LEVELS) * len(GRID_HOLDS), lambda: run(frames)


def main() -> None:
    engine, runs = sys.argv[1], int(sys.argv[2])
    if engine.startswith("sweep-"):
        units, call = _sweep_case(engine)
    else:
        frames = minutes() if "minute" in engine else daily()
        units = len(frames["IWM"])
        call = lambda: ENGINES[engine](frames)  # noqa: E731
    result = call()  # warm-up: imports, JIT compilation, caches
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - started)
    if isinstance(result, np.ndarray):  # a sweep's grid, turned into JSON after the clock stopped
        from bench.sweeps import cells

        result = cells(result)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "engine": engine,
                "units": units,
                "seconds": seconds,
                "median": float(np.median(seconds)),
                "peak_rss_mb": round(peak_mb, 1),
                "result": result,
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main()
