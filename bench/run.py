"""make bench: every engine side by side on the same synthetic data, then the live loop's footprint.

Writes BENCHMARKS.md at the project root.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
REPLAYS = {
    "daily (25 years, 1 symbol scored against SPY)": [
        "ours-daily",
        "backtrader-daily",
        "vectorbt-daily",
    ],
    "minute (1 year of regular-session minutes)": [
        "ours-minute",
        "backtrader-minute",
        "vectorbt-minute",
    ],
}
SWEEPS = ["sweep-ours", "sweep-vectorbt"]
IDLE_RSS_TARGET_MB = 80
IDLE_WINDOW_SECONDS = 120.0  # two polls at the default BOT_POLL_SECONDS
WARM_UP_SECONDS = 75.0


def measure(engine: str) -> dict[str, Any]:
    """One engine's figures, or the reason it could not be measured (an engine that is not installed)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.measure", engine, str(RUNS)], capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        print(f"{engine}: not measured: {reason}", file=sys.stderr)
        return {"engine": engine, "error": reason}
    return dict(json.loads(done.stdout.splitlines()[-1]))


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _same_cells(first: list[Any], second: list[Any]) -> tuple[bool, int]:
    """Both grids empty in the same cells and equal to 1e-9 percentage points elsewhere, skipping the cells the
    second marks "n/a" (vectorbt cannot buy and sell on one bar); and how many were skipped."""
    pairs = [(a, b) for a, b in zip(first, second, strict=True) if b != "n/a"]
    same = len(first) == len(second) and all(
        (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(a)))
        for a, b in pairs
    )
    return same, len(first) - len(pairs)


def _trade_key(trade: list[Any]) -> tuple[str, float, str, float]:
    def day(stamp: str) -> str:
        parsed = pd.Timestamp(stamp)
        return str((parsed.tz_convert("America/New_York") if parsed.tzinfo else parsed).date())

    return day(trade[0]), round(float(trade[1]), 4), day(trade[2]), round(float(trade[3]), 4)


def _env(**extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "STRATEGY_", "BOT_", "LOG_"))}
    return {**clean, "LOG_FORMAT": "json", **extra}


def _start_exchange(*args: str) -> tuple[subprocess.Popen[str], str]:
    # An accelerated replay passes a day in a fraction of a second: Alpaca's per-minute limit would only
    # measure 429s, so it is off here (the idle sample at real-time pace stays far under it anyway).
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "exchange", "--scenario", "breakout", "--rate-limit", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_env(),
        cwd=ROOT,
    )
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())["trading_url"]


def _bot_env(url: str, folder: Path, **extra: str) -> dict[str, str]:
    return _env(
        APCA_API_KEY_ID="PKBENCH",
        APCA_API_SECRET_KEY="bench-secret-key",
        APCA_API_BASE_URL=url,
        APCA_API_DATA_URL=url,
        BOT_DATA_DIR=str(folder),
        **extra,
    )


def live_footprint(work: Path) -> dict[str, Any]:
    import requests

    from bot.engine.clock import RESYNC_SECONDS

    figures: dict[str, Any] = {}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        capture_output=True,
        check=True,
        cwd=work,
        env=_env(BOT_DATA_DIR=str(work / "demo")),
    )
    figures["demo_seconds"] = round(time.perf_counter() - started, 1)

    # Requests per simulated trading day: the demo's pace (0.25 s a session, polling speed/50) over a season.
    start, end = date(2023, 12, 1), date(2024, 7, 3)
    exchange, url = _start_exchange("--start", str(start), "--end", str(end), "--speed", "0.25")
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        stdout=subprocess.DEVNULL,
        env=_bot_env(url, work / "requests", BOT_POLL_SECONDS="0.005"),
        cwd=work,
    )
    while not requests.get(f"{url}/_exchange/stats", timeout=5).json()["finished"]:
        time.sleep(0.5)
    stats = requests.get(f"{url}/_exchange/stats", timeout=5).json()
    bot.send_signal(signal.SIGTERM)
    bot.wait(timeout=15)
    exchange.send_signal(signal.SIGTERM)
    exchange.wait(timeout=15)
    from bot.market.calendar import nyse_sessions

    sessions = len(nyse_sessions(start, end))
    clock_polls = stats["requests"].get("GET /v2/clock", 0)
    figures["requests_per_day"] = round(stats["total"] / sessions, 1)
    figures["requests_per_day_without_clock_polls"] = round((stats["total"] - clock_polls) / sessions, 1)
    # Every pass reads the account once (and the start-up once more): passes a day, each of which reads the
    # clock itself against a wall-speed clock, where the demo's pace used the loop's poll for it.
    figures["passes_per_day"] = round((stats["requests"].get("GET /v2/account", 0) - 1) / sessions, 1)
    figures["requests_by_route"] = stats["requests"]
    figures["orders_placed"] = stats["requests"].get("POST /v2/orders", 0)

    # Idle: real-time replay starting at midnight (a clock at wall speed, as Alpaca's), the bot waiting for the
    # open with the default poll (60 s): it refreshes its heartbeat twice in the window and asks nothing.
    exchange, url = _start_exchange()
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], stdout=subprocess.DEVNULL, env=_bot_env(url, work / "idle"), cwd=work
    )
    time.sleep(WARM_UP_SECONDS)  # the start-up pass, and the poll after it that tells the clock keeps wall speed
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu_seconds() -> float:
        fields = Path(f"/proc/{bot.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    def requests_so_far() -> int:
        return int(requests.get(f"{url}/_exchange/stats", timeout=5).json()["total"])

    cpu_before, requests_before, window = cpu_seconds(), requests_so_far(), IDLE_WINDOW_SECONDS
    time.sleep(window)
    figures["idle_cpu_percent"] = round((cpu_seconds() - cpu_before) / window * 100, 2)
    figures["idle_requests_per_minute"] = round((requests_so_far() - requests_before) / window * 60, 2)
    figures["real_pace_requests_per_day"] = round(
        figures["idle_requests_per_minute"] * 24 * 60
        + figures["requests_per_day_without_clock_polls"]
        + figures["passes_per_day"]
        + 24 * 3600 / RESYNC_SECONDS
    )
    status = Path(f"/proc/{bot.pid}/status").read_text()
    figures["idle_rss_mb"] = round(
        int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) / 1024, 1
    )
    bot.send_signal(signal.SIGTERM)
    bot.wait(timeout=15)
    exchange.send_signal(signal.SIGTERM)
    exchange.wait(timeout=15)
    return figures


def _row(result: dict[str, Any], fastest: float, unit: str) -> str:
    if "error" in result:
        return f"| {result['engine']} | not measured: {result['error']} | | | | |"
    seconds = result["seconds"]
    rate = result["units"] / result["median"]
    return (
        f"| {result['engine']} | {result['median'] * 1000:.1f} | {min(seconds) * 1000:.1f}–{max(seconds) * 1000:.1f} "
        f"| {rate:,.0f} {unit}/s | {result['median'] / fastest:.1f}× | {result['peak_rss_mb']:.0f} |"
    )


def _table(results: list[dict[str, Any]], unit: str) -> list[str]:
    measured = [r["median"] for r in results if "error" not in r]
    fastest = min(measured) if measured else 1.0
    return [
        f"| engine | median ms | min–max ms | {unit} | vs fastest | peak RSS MB |",
        "|---|---|---|---|---|---|",
        *[_row(r, fastest, unit) for r in results],
    ]


def _by_engine(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["engine"]: r for r in results if "error" not in r}


def _minutes_read(trades: list[list[Any]]) -> str:
    """How many sessions' minute bars our intraday replay turns into bars: those it looks for an entry on."""
    from bench.data import MINUTE_END, MINUTE_START
    from bot.market.calendar import nyse_sessions

    sessions = nyse_sessions(MINUTE_START, MINUTE_END)
    held = {
        day
        for entry, _, exit_, _ in (_trade_key(t) for t in trades)
        for day in sessions
        if entry < day.isoformat() <= exit_
    }
    return f"{len(sessions) - len(held)} of {len(sessions)}"


def _replays(lines: list[str], verdicts: list[str]) -> None:
    for title, engines in REPLAYS.items():
        results = [measure(engine) for engine in engines]
        lines += [f"## Replay: {title}", "", *_table(results, "bars")]
        measured = _by_engine(results)
        trades = {engine: [_trade_key(t) for t in r["result"]] for engine, r in measured.items()}
        agree = len(trades) > 1 and len({json.dumps(t) for t in trades.values()}) == 1
        first = next(iter(trades.values()), [])
        lines += [
            "",
            f"Trades: {len(first)} per engine; the {len(trades)} engines measured agree on every trade's dates and "
            f"prices: **{'yes' if agree else 'NO'}**.",
            "",
        ]
        if not agree:
            lines += [f"- {engine}: {trade_list[:3]}" for engine, trade_list in trades.items()]
            lines.append("")
        verdicts.append(f"Replay {title}: engines agree on every trade: {'yes' if agree else 'NO'}.")
        if {"ours-daily", "backtrader-daily"} <= measured.keys():
            ratio = measured["backtrader-daily"]["median"] / measured["ours-daily"]["median"]
            lines += [
                "`ours-daily` is `bot backtest`: the live loop's cycle on the local exchange's venue model "
                "in-process, placing, following and recording every order as `bot run` does (in memory). It makes "
                "the passes at which something can change (a close that can buy, an order working, the exit due) "
                "and records the others as they would (a close on the same side of a fixed level, a held session "
                "before the exit is due: its decision and its mark); `tests/test_backtest_quiet.py` holds that "
                "both record alike, mark for mark.",
                "",
            ]
            verdicts.append(
                f"Replay on daily bars: {ratio:.1f}× backtrader's bars per second "
                f"(target ≥ 5×: {'met' if ratio >= 5 else 'NOT met'})."
            )
        if "minute" not in title:
            continue
        if "ours-minute" in measured:
            lines += [
                "`ours-minute` looks each minute while it waits for the breakout, reading only the new minute, and "
                f"holds from the entry to the exit without a look ({_minutes_read(measured['ours-minute']['result'])} "
                "sessions looked at here). backtrader steps through every minute bar.",
                "",
            ]
        if {"ours-minute", "backtrader-minute"} <= measured.keys():
            ratio = measured["backtrader-minute"]["median"] / measured["ours-minute"]["median"]
            verdicts.append(
                f"Replay on minute bars: {ratio:.1f}× backtrader's bars per second "
                f"(target ≥ 5×: {'met' if ratio >= 5 else 'NOT met'})."
            )
        else:
            verdicts.append("Replay on minute bars against backtrader: not measured (see the table).")


def _sweeps(lines: list[str], verdicts: list[str]) -> None:
    from bench.sweeps import GRID_HOLDS, GRID_LEVELS

    results = [measure(engine) for engine in SWEEPS]
    lines += [
        f"## Sweep: {len(GRID_LEVELS)} levels × {len(GRID_HOLDS)} holds = "
        f"{len(GRID_LEVELS) * len(GRID_HOLDS):,} cells over 25 years of daily bars",
        "",
        "Our side is `bot sweep`'s vectorised replay (`bot.research`: the backtest's rule, every season, one round "
        "trip per season, the exit `hold` sessions after the entry or at the end of June), arrays to scores; "
        "vectorbt's "
        "is `Portfolio.from_signals` over one column per cell, its entry and exit signals computed with numpy. "
        "Neither includes reading the CSV files.",
        "",
        *_table(results, "cells"),
        "",
    ]
    measured = _by_engine(results)
    ours = measured.get("sweep-ours")
    if ours is None:
        verdicts.append("Sweep: not measured (see the table).")
        return
    filled = sum(value is not None for value in ours["result"])
    if "sweep-vectorbt" in measured:
        vbt = measured["sweep-vectorbt"]
        same, skipped = _same_cells(ours["result"], vbt["result"])
        lines += [
            f"Every cell's return equal in both (to 1e-9, relative above 1 point; {filled:,} cells with a trade, the "
            f"rest empty in both): **{'yes' if same else 'NO'}**. {skipped:,} cells are left out of the comparison: "
            "they hold a round trip bought and sold in one session (an entry on the season's last session), which "
            "vectorbt's signals cannot express.",
            "",
        ]
        met = ours["median"] < 0.5 and vbt["median"] >= 1000 * ours["median"]
        verdicts.append(
            f"Sweep: {ours['units']:,} cells in {ours['median'] * 1000:.1f} ms, {vbt['median'] / ours['median']:,.0f}× "
            f"faster than vectorbt's {vbt['median'] * 1000:,.0f} ms; cells equal: {'yes' if same else 'NO'} "
            f"(target: well under 1 s and at least 1,000× vectorbt: {'met' if met else 'NOT met'})."
        )
    else:
        verdicts.append(
            f"Sweep: {ours['units']:,} cells in {ours['median'] * 1000:.1f} ms (vectorbt not measured; "
            f"well under 1 s: {'met' if ours['median'] < 0.5 else 'NOT met'})."
        )


def _universe(lines: list[str], verdicts: list[str]) -> None:
    from bench import universe

    directory = ROOT / "bench" / "universe-data"
    shutil.rmtree(directory, ignore_errors=True)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("STRATEGY_")}
    try:
        universe.report(lines, verdicts, directory, environment)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _commands(lines: list[str], verdicts: list[str]) -> None:
    from bench import commands
    from bench.data import daily

    shared = ROOT.parent / "shared" / "data"
    data = shared if (shared / "IWM.csv").is_file() else ROOT / "bench" / "results" / "daily"
    if data != shared:
        data.mkdir(parents=True, exist_ok=True)
        for symbol, frame in daily().items():
            frame.to_csv(data / f"{symbol}.csv", index_label="date")
    environment = _env(BOT_DATA_DIR=str(ROOT / "bench" / "results" / "nobody"))
    table, said = commands.report(commands.footprint(ROOT, environment, data, RUNS), data)
    lines += table
    verdicts += said


def _live(lines: list[str], verdicts: list[str]) -> None:
    work = ROOT / "bench" / "results"
    shutil.rmtree(work, ignore_errors=True)  # a ledger left by an earlier run would make the bot sit the season out
    work.mkdir(parents=True)
    live = live_footprint(work)
    real_pace_met = live["real_pace_requests_per_day"] <= 100
    idle_cpu = live["idle_cpu_percent"] or f"< {100 / os.sysconf('SC_CLK_TCK') / IDLE_WINDOW_SECONDS:.3f}"
    lines += [
        "## The live loop",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| `bot demo` season wall time (default: 0.25 s a session, Dec 1 – Jul 3) | {live['demo_seconds']} s | < 60 s |",
        f"| API requests per simulated trading day, close trigger, at the demo's pace | {live['requests_per_day']} | ≤ 100 |",
        f"| … of which not clock polls | {live['requests_per_day_without_clock_polls']} | |",
        f"| orders placed over that season (the entry and the exit) | {live['orders_placed']} | 2 |",
        f"| passes per simulated trading day (each reads the account once) | {live['passes_per_day']} | |",
        f"| `bot run` requests a minute while waiting, real-time replay, default `BOT_POLL_SECONDS` (60) | "
        f"{live['idle_requests_per_minute']} | |",
        "| API requests per trading day at Alpaca's pace (that rate over 24 h, the demo's non-poll requests, one "
        f"clock reading per pass and the hourly re-reading) | about {live['real_pace_requests_per_day']:,} | ≤ 100 |",
        f"| `bot run` idle CPU while waiting for the next decision point (default poll) | {idle_cpu} % | |",
        f"| `bot run` RSS while waiting | {live['idle_rss_mb']} MB | ≤ {IDLE_RSS_TARGET_MB} MB |",
        "",
        "Requests by route over the demo-paced season: `" + json.dumps(live["requests_by_route"]) + "`.",
        "",
        "How many requests a day depends on the pace. A pass runs only at the decision points the bot names "
        "(19:00 ET after each close; a minute after the open for the intraday trigger or after an unfilled entry; "
        "and when a working order can have changed) and reads the clock, the account and the position. In between, the loop only "
        "refreshes its heartbeat every `BOT_POLL_SECONDS`: against a clock that keeps wall speed (Alpaca's, or "
        "the real-time replay above) it counts the time itself and re-reads the broker's clock once an hour; "
        "against the accelerated replay it reads the clock at each wake (the demo's clock polls above, "
        f"{live['requests_per_day'] - live['requests_per_day_without_clock_polls']:.1f} a simulated day). "
        f"The idle run measured {live['idle_requests_per_minute']} requests a minute while it waited for the "
        f"open ({IDLE_WINDOW_SECONDS:.0f} s sampled), so a day at Alpaca's pace takes about "
        f"{live['real_pace_requests_per_day']:,} requests" + ("." if real_pace_met else ", over the target of 100."),
        "",
        f"Idle CPU and RSS are sampled from `/proc` over the same {IDLE_WINDOW_SECONDS:.0f} s.",
        "",
    ]
    verdicts.append(
        f"Demo season: {live['demo_seconds']} s (target < 60 s: "
        f"{'met' if live['demo_seconds'] < 60 else 'NOT met'}); idle CPU {idle_cpu} %; idle RSS "
        f"{live['idle_rss_mb']} MB (≤ {IDLE_RSS_TARGET_MB}: {'met' if live['idle_rss_mb'] <= IDLE_RSS_TARGET_MB else 'NOT met'})."
    )
    verdicts.append(
        f"API requests per trading day (target ≤ 100): {live['requests_per_day']} at the demo's pace "
        f"(a season that placed {live['orders_placed']} orders); about {live['real_pace_requests_per_day']:,} at "
        f"Alpaca's pace ({'met' if real_pace_met else 'NOT met'})."
    )


def main() -> None:
    started = time.perf_counter()
    lines = [
        "# Benchmarks",
        "",
        f"Reproduce: `make bench` (this file is written by `bench/run.py`). Runs per engine: "
        f"{RUNS} timed after one warm-up, each engine in its own process (peak RSS is that process's).",
        "",
        f"Machine: {_cpu()}, {os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}, "
        f"Python {platform.python_version()}. Versions: "
        + ", ".join(f"{p} {_version(p)}" for p in ("numpy", "pandas", "backtrader", "vectorbt", "alpaca-py"))
        + ".",
        "",
        "Data: deterministic synthetic bars from `bench/data.py` — 25 years of daily IWM and SPY bars (IWM "
        "swinging between about 120 and 240, crossing 200 many times) and one year of regular-session minute "
        "bars (IWM first trading above 200 in late December 2023). The strategy is the bot's default rule in "
        "every engine (see `bench/engines.py`).",
        "",
    ]
    summary_at = len(lines)
    verdicts: list[str] = []
    _replays(lines, verdicts)
    _sweeps(lines, verdicts)
    _universe(lines, verdicts)
    _live(lines, verdicts)
    _commands(lines, verdicts)
    verdicts.append(
        "vectorbt replays faster than our event-driven path: it evaluates precomputed signal arrays "
        "(computed here by `bench/engines.py`) instead of stepping through the bars; our backtest runs the "
        "live loop's own cycle, which is what makes the live path and the backtest agree."
    )
    lines[summary_at:summary_at] = ["## Summary", "", *[f"- {v}" for v in verdicts], ""]
    lines.append(f"The whole run took {time.perf_counter() - started:.0f} s.")
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines) + "\n")
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
