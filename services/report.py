"""``exposurewatch report``: one self-contained HTML page summarising the findings of any store.

For people without Grafana: charts are inline SVG drawn here, styles are inline, and the page loads nothing
from the network, so it can be mailed, archived or opened offline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from services.config import mask_url
from services.events import Severity
from services.metrics import package_version
from services.store import Entity, SearchQuery, Store, iter_hits

SEVERITIES = tuple(s.value for s in reversed(Severity))
"""critical first: the order of stacks, legends and tables."""
SEVERITY_COLORS = {"critical": "#8e0b21", "high": "#e0303b", "medium": "#f08c2a", "low": "#e8c547", "info": "#5b8def"}
BUCKETS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1),
           timedelta(hours=6), timedelta(days=1), timedelta(days=7))
MAX_TIME_BUCKETS = 60
TOP_BARS = 12
NEWEST_CRITICAL = 20
PAGE = 1000


@dataclass
class ReportData:
    """Everything the page shows, computed from the findings seen since ``since``."""

    store: str
    generated_at: datetime
    since: datetime
    total: int = 0
    open_by_severity: Counter[str] = field(default_factory=Counter)
    open_by_provider: dict[str, Counter[str]] = field(default_factory=dict)
    open_by_kind: dict[str, Counter[str]] = field(default_factory=dict)
    first_seen: list[tuple[datetime, str]] = field(default_factory=list)
    newest_critical: list[dict[str, Any]] = field(default_factory=list)
    restricted_proxies: int = 0


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def collect(store: Store, store_label: str, since: datetime, now: datetime) -> ReportData:
    data = ReportData(store=store_label, generated_at=now, since=since)
    critical: list[dict[str, Any]] = []
    query = SearchQuery(since=since, sort=(("id", "asc"),), limit=PAGE)
    for doc in iter_hits(store, Entity.FINDINGS, query):
        data.total += 1
        severity = str(doc["severity"])
        first_seen = parse_time(str(doc["first_seen"]))
        if first_seen >= since:
            data.first_seen.append((first_seen, severity))
        if doc.get("status") != "open":
            continue
        data.open_by_severity[severity] += 1
        data.open_by_provider.setdefault(str(doc["provider"]), Counter())[severity] += 1
        data.open_by_kind.setdefault(str(doc["kind"]), Counter())[severity] += 1
        if doc.get("kind") == "model_proxy" and doc.get("restricted"):
            data.restricted_proxies += 1
        if severity == "critical":
            critical.append(doc)
    critical.sort(key=lambda d: (str(d["first_seen"]), str(d["id"])), reverse=True)
    data.newest_critical = critical[:NEWEST_CRITICAL]
    return data


def bucket_size(span: timedelta) -> timedelta:
    """The finest bucket that draws the span in at most ``MAX_TIME_BUCKETS`` columns."""
    return next((b for b in BUCKETS if span / b <= MAX_TIME_BUCKETS), BUCKETS[-1])


def timeline(first_seen: Sequence[tuple[datetime, str]], since: datetime,
             until: datetime) -> tuple[timedelta, list[tuple[datetime, Counter[str]]]]:
    """New findings per time bucket and severity over the whole period, empty buckets included."""
    size = bucket_size(until - since)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    origin = epoch + ((since - epoch) // size) * size
    counts: dict[int, Counter[str]] = {}
    for moment, severity in first_seen:
        counts.setdefault((moment - origin) // size, Counter())[severity] += 1
    return size, [(origin + i * size, counts.get(i, Counter())) for i in range((until - origin) // size + 1)]


# ------------------------------------------------------------------------------------------------ SVG


def label_time(moment: datetime, size: timedelta) -> str:
    return moment.strftime("%b %d" if size >= timedelta(days=1) else "%b %d %H:%M")


def column_chart(columns: list[tuple[datetime, Counter[str]]], size: timedelta) -> str:
    """Stacked columns of new findings per bucket, critical at the bottom."""
    width, height, left, bottom, top = 880, 260, 44, 28, 12
    if not any(counts for _, counts in columns):
        return empty_chart("No new findings in this period.")
    peak = max(sum(c.values()) for _, c in columns)
    plot_w, plot_h = width - left - 8, height - bottom - top
    step = plot_w / len(columns)
    bar_w = max(step * 0.8, 1.0)
    parts = [axis_lines(left, top, plot_w, plot_h, peak)]
    for i, (moment, counts) in enumerate(columns):
        x = left + i * step + (step - bar_w) / 2
        y = float(top + plot_h)
        for severity in SEVERITIES:
            n = counts.get(severity, 0)
            if not n:
                continue
            h = n / peak * plot_h
            y -= h
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                         f'fill="{SEVERITY_COLORS[severity]}"><title>{label_time(moment, size)}: {n} {severity}'
                         f'</title></rect>')
    for i in sorted({0, len(columns) // 2, len(columns) - 1}):
        anchor = "start" if i == 0 else "end" if i == len(columns) - 1 and i else "middle"
        x = left + i * step + (step / 2 if anchor == "middle" else 0 if anchor == "start" else step)
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="{anchor}" class="tick">'
                     f'{escape(label_time(columns[i][0], size))}</text>')
    return svg(width, height, "New findings over time by severity", "".join(parts))


def axis_lines(left: int, top: int, plot_w: float, plot_h: float, peak: int) -> str:
    lines = []
    for fraction in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - fraction)
        lines.append(f'<line x1="{left}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
                     f'{round(peak * fraction)}</text>')
    return "".join(lines)


def bar_chart(title: str, rows: dict[str, Counter[str]], ranked_by_size: bool = True) -> str:
    """Horizontal bars stacked by severity, at most ``TOP_BARS`` rows: largest first, or in the given order."""
    ordered = sorted(rows.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])) if ranked_by_size else rows.items()
    ranked = list(ordered)[:TOP_BARS]
    if not ranked:
        return empty_chart("Nothing open.")
    label_w, width, row_h = 150, 420, 24
    height = row_h * len(ranked) + 8
    peak = max(sum(c.values()) for _, c in ranked)
    plot_w = width - label_w - 48
    parts = []
    for i, (name, counts) in enumerate(ranked):
        y = 4 + i * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" class="label">{escape(name)}</text>')
        x = float(label_w)
        for severity in SEVERITIES:
            n = counts.get(severity, 0)
            if not n:
                continue
            w = n / peak * plot_w
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
                         f'fill="{SEVERITY_COLORS[severity]}"><title>{escape(name)}: {n} {severity}</title></rect>')
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 16}" class="value">{sum(counts.values())}</text>')
    return svg(width, height, title, "".join(parts))


def svg(width: int, height: int, title: str, body: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{body}</svg>')


def empty_chart(message: str) -> str:
    return f'<p class="empty">{escape(message)}</p>'


# ----------------------------------------------------------------------------------------------- page


STYLE = """
:root { color-scheme: light; --ink: #1d2330; --muted: #6b7383; --line: #e3e6ec; --card: #fff; --bg: #f4f6f9; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header { background: #141a26; color: #fff; padding: 20px 32px; }
header h1 { margin: 0; font-size: 22px; font-weight: 650; letter-spacing: .2px; }
header p { margin: 4px 0 0; color: #b7bfcc; font-size: 13px; }
main { padding: 20px 32px 32px; display: grid; gap: 16px; grid-template-columns: repeat(12, 1fr); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
section h2 { margin: 0 0 10px; font-size: 15px; font-weight: 600; }
section h2.next { margin-top: 22px; }
.tiles { grid-column: span 12; display: grid; grid-template-columns: repeat(6, 1fr); gap: 12px;
         background: none; border: 0; padding: 0; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px;
        border-top: 4px solid var(--accent, #5b8def); }
.tile .n { font-size: 28px; font-weight: 700; }
.tile .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .6px; }
.wide { grid-column: span 12; } .half { grid-column: span 6; }
.chart { width: 100%; height: auto; display: block; }
.chart .grid { stroke: var(--line); } .chart .tick { fill: var(--muted); font-size: 11px; }
.chart .label { fill: var(--ink); font-size: 12px; } .chart .value { fill: var(--muted); font-size: 12px; }
.legend { display: flex; gap: 14px; margin: 2px 0 8px; color: var(--muted); font-size: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th { text-align: left; color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); padding: 6px; }
td { border-bottom: 1px solid var(--line); padding: 6px; vertical-align: top; }
td code { font: 12px ui-monospace, "DejaVu Sans Mono", monospace; background: #f1f3f7; padding: 1px 4px;
          border-radius: 4px; }
.empty { color: var(--muted); }
footer { padding: 0 32px 24px; color: var(--muted); font-size: 12px; }
"""


def legend() -> str:
    items = "".join(f'<span><i style="background:{SEVERITY_COLORS[s]}"></i>{s}</span>' for s in SEVERITIES)
    return f'<div class="legend">{items}</div>'


def tiles(data: ReportData) -> str:
    open_total = sum(data.open_by_severity.values())
    cells = [("open findings", open_total, "#141a26"),
             *((severity, data.open_by_severity.get(severity, 0), SEVERITY_COLORS[severity])
               for severity in SEVERITIES[:3]),
             ("restricted-model proxies", data.restricted_proxies, SEVERITY_COLORS["critical"]),
             ("findings seen in period", data.total, "#5b8def")]
    return "".join(f'<div class="tile" style="--accent:{color}"><div class="n">{n}</div><div class="k">'
                   f'{escape(label)}</div></div>' for label, n, color in cells)


def redacted_cell(redacted: object) -> str:
    return f"<code>{escape(str(redacted))}</code>" if redacted else "—"


def critical_table(docs: list[dict[str, Any]]) -> str:
    if not docs:
        return empty_chart("No open critical exposure.")
    rows = []
    for doc in docs:
        asset = str(doc.get("asset_id", ""))
        where = str(doc.get("path") or "") + (f":{doc['line']}" if doc.get("line") else "")
        rows.append(
            "<tr>"
            f"<td>{escape(asset.split(':', 1)[-1])}</td><td>{escape(str(doc['kind']))}</td>"
            f"<td>{escape(str(doc['provider']))}</td><td>{redacted_cell(doc.get('redacted'))}</td>"
            f"<td>{escape(where)}</td><td>{escape(', '.join(doc.get('models') or []))}</td>"
            f"<td>{escape(parse_time(str(doc['first_seen'])).strftime('%Y-%m-%d %H:%M UTC'))}</td>"
            "</tr>"
        )
    head = "".join(f"<th>{h}</th>" for h in ("Space", "kind", "provider", "secret (redacted)", "where", "models",
                                              "first seen"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_html(data: ReportData) -> str:
    size, columns = timeline(data.first_seen, data.since, data.generated_at)
    by_severity = {s: Counter({s: data.open_by_severity[s]}) for s in SEVERITIES}
    when = data.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    since = data.since.strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>exposurewatch report — {escape(when)}</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>exposurewatch — leaked AI-model access</h1>
<p>Findings seen since {escape(since)} in {escape(data.store)} · generated {escape(when)}</p>
</header>
<main>
<div class="tiles">{tiles(data)}</div>
<section class="wide" id="over-time"><h2>New findings over time</h2>{legend()}{column_chart(columns, size)}</section>
<section class="half" id="by-provider"><h2>Open findings by provider</h2>
{bar_chart("Open findings by provider", data.open_by_provider)}</section>
<section class="half" id="by-kind"><h2>Open findings by kind</h2>
{bar_chart("Open findings by kind", data.open_by_kind)}
<h2 class="next">Open findings by severity</h2>
{bar_chart("Open findings by severity", by_severity, ranked_by_size=False)}</section>
<section class="wide" id="newest-critical"><h2>Newest critical exposures</h2>
{critical_table(data.newest_critical)}</section>
</main>
<footer>exposurewatch {escape(package_version())}. Secrets are never stored: only their redacted form is shown.
</footer>
</body>
</html>
"""


def build_report(store: Store, store_url: str, days: float, now: datetime | None = None) -> str:
    """The HTML report of the findings seen in the last ``days`` days."""
    moment = now or datetime.now(UTC)
    data = collect(store, mask_url(store_url), moment - timedelta(days=days), moment)
    return render_html(data)
