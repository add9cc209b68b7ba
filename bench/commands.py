"""The light commands as whole processes: CPU seconds, wall seconds and peak RSS of `bot health`, `bot --help`
and `bot backtest` (the real history in ../shared/data when it is there, else the bench's synthetic years)."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

TIME = shutil.which("time") or "/usr/bin/time"  # GNU time, not the shell's keyword
TARGETS = {"bot health": (0.1, 40.0), "bot --help": (0.3, None), "bot backtest": (0.8, None)}


def _one(command: list[str], environment: dict[str, str], cwd: Path) -> tuple[float, float, float]:
    """CPU seconds, wall seconds and peak RSS (MB) of one run, measured by GNU time: a child forked from this
    (large) process would report this process's pages as its own peak until it execs."""
    done = subprocess.run(
        [TIME, "-f", "%e %U %S %M", *command], capture_output=True, text=True, env=environment, cwd=cwd
    )
    if done.returncode not in (0, 1):  # bot health exits 1 when no bot is running here: still measured
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()[-300:]}")
    wall, user, system, kilobytes = done.stderr.strip().splitlines()[-1].split()
    return float(user) + float(system), float(wall), int(kilobytes) / 1024


def footprint(root: Path, environment: dict[str, str], data: Path, runs: int) -> list[dict[str, Any]]:
    commands = {
        "bot health": ["health"],
        "bot --help": ["--help"],
        "bot backtest": ["backtest", "--data", str(data)],
    }
    rows = []
    for name, arguments in commands.items():
        command = [sys.executable, "-m", "bot", *arguments]
        _one(command, environment, root)  # warm the file cache
        samples = [_one(command, environment, root) for _ in range(runs)]
        rows.append({
            "command": name,
            "cpu": statistics.median(s[0] for s in samples),
            "wall": statistics.median(s[1] for s in samples),
            "rss": max(s[2] for s in samples),
        })  # fmt: skip
    return rows


def report(rows: list[dict[str, Any]], data: Path) -> tuple[list[str], list[str]]:
    lines = [
        "## Commands as processes",
        "",
        f"Each command run as `python -m bot …` (medians of the runs; `bot backtest --data {data}`).",
        "",
        "| command | CPU s | wall s | peak RSS MB | target |",
        "|---|---|---|---|---|",
    ]
    verdicts = []
    for row in rows:
        seconds, megabytes = TARGETS[row["command"]]
        measure = "CPU" if row["command"] == "bot health" else "wall"
        spent = row["cpu"] if measure == "CPU" else row["wall"]
        met = spent <= seconds and (megabytes is None or row["rss"] <= megabytes)
        target = f"≤ {seconds} s {measure}" + (f", ≤ {megabytes:.0f} MB" if megabytes else "")
        lines.append(f"| `{row['command']}` | {row['cpu']:.2f} | {row['wall']:.2f} | {row['rss']:.0f} | {target} |")
        verdicts.append(
            f"`{row['command']}`: {spent:.2f} s {measure}, {row['rss']:.0f} MB ({target}: {'met' if met else 'NOT met'})"
        )
    return [*lines, ""], ["; ".join(verdicts) + "."]
