"""The read-only status page: health, the next action, the hold chart, the trades and the last events.

Plain HTML with the chart as an SVG image: no scripts, no forms, no secrets (it is built from the same
document as ``bot status --json``, which holds none).
"""

from __future__ import annotations

from html import escape
from typing import Any

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 60rem; }
.ok { color: #176b2c; } .bad { color: #b00020; }
table { border-collapse: collapse; margin: 1rem 0; } td, th { border: 1px solid #ccc; padding: .3rem .6rem; }
th { background: #f3f3f3; text-align: left; } figure { margin: 1rem 0; } img { max-width: 100%; }
"""


def _row(cells: list[Any], tag: str = "td") -> str:
    return "<tr>" + "".join(f"<{tag}>{escape(str(c))}</{tag}>" for c in cells) + "</tr>"


def _table(head: list[str], rows: list[list[Any]], empty: str) -> str:
    if not rows:
        return f"<p>{escape(empty)}</p>"
    return "<table>" + _row(head, "th") + "".join(_row(r) for r in rows) + "</table>"


def render_page(document: dict[str, Any]) -> str:
    symbol, benchmark = document["symbol"], document["benchmark"]
    health, ledger, score = document["health"], document["ledger"], document["ledger"]["score"]
    state, verdict_word = ("ok", "healthy") if health["ok"] else ("bad", "UNHEALTHY")
    verdict = {True: "holds", False: "does not hold", None: "not tested yet"}[score["claim_holds"]]
    if any(not t["closed"] for t in score["trades"]):
        verdict = f"open: decided at the exit (so far it {verdict})"
    trades = [
        [t["entry_date"], t["entry_price"], t["exit_date"], t["exit_price"], t["qty"], t["pnl"], t["return_pct"],
         "closed" if t["closed"] else "open (marked at the last close)"]
        for t in score["trades"]
    ]  # fmt: skip
    bench = score["benchmark"]
    figures = [
        ["position (the bot's orders)", f"{ledger['position_qty']} {symbol}"],
        [f"{symbol} return, last trade", f"{_pct(score['trades'][-1]['return_pct'] if score['trades'] else None)}"],
        [f"{benchmark} return, same days", _pct(bench["return_pct"])],
        ["excess return", _pct(score["excess_return_pct"])],
        ["the claim (at least double the benchmark)", verdict],
        ["equity", score["end_equity"]],
    ]
    last = ledger["last_decision"]
    decided = f"{last['session']}: {last['reason']}" if last else "none yet"
    step = document["next_action"]["text"] or "unknown until `bot run` has made a pass"
    recent = [[e["at"], e["what"], e["detail"]] for e in ledger["recent"]]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="60">
<title>{escape(symbol)} breakout bot: status</title><style>{STYLE}</style></head>
<body>
<h1>{escape(symbol)} breakout vs {escape(benchmark)}</h1>
<p id="health" class="{state}"><strong>{verdict_word}</strong>: {escape(health["cause"])}</p>
<p id="next"><strong>Next:</strong> {escape(step)}</p>
<p id="decision"><strong>Last decision:</strong> {escape(decided)}</p>
<figure><img id="chart" src="chart.svg" alt="{escape(symbol)} position against the same dollars in {escape(benchmark)}"
 width="900" height="400"><figcaption>Value over the hold; dotted: the value that would double
 {escape(benchmark)}'s return.</figcaption></figure>
<h2>Figures</h2>
{_table(["", "value"], [[str(a), str(b)] for a, b in figures], "")}
<h2>Trades</h2>
{_table(["entry", "price", "exit", "price", "shares", "P&L", "return %", "state"], trades, "No trade yet.")}
<h2>Recent events</h2>
{_table(["at", "what", "detail"], recent, "Nothing yet.")}
<p><small>Read-only. Generated {escape(str(document.get("generated_at", "")))}; metrics at
<a href="metrics">/metrics</a>.</small></p>
</body></html>
"""


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{value} %"
