"""`exposurewatch report`: a self-contained HTML page with charts, checked as text and as rendered by Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from services.report import bucket_size, build_report, timeline
from services.store import open_store
from tests.store_contract import CORPUS, T0, finding

NOW = T0 + timedelta(hours=2)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/ew.db"
    store = open_store(url)
    store.upsert([*CORPUS, finding(90, "openai", "high", discovered_at=T0 - timedelta(days=3)),
                  finding(91, "openai", "critical", path="<script>alert(1)</script>.py"),
                  finding(92, "anthropic", "critical").resolved(T0 + timedelta(minutes=1))])
    store.close()
    return url


def report_html(url: str, days: float = 7) -> str:
    store = open_store(url)
    try:
        return build_report(store, url, days, now=NOW)
    finally:
        store.close()


def test_report_has_every_chart_and_the_newest_critical_exposures(store_url: str) -> None:
    html = report_html(store_url)
    for section in ("over-time", "by-provider", "by-kind", "newest-critical"):
        assert f'id="{section}"' in html
    assert html.count('<svg class="chart"') == 4
    assert 'aria-label="Open findings by provider"' in html and ">anthropic</text>" in html
    assert 'aria-label="Open findings by severity"' in html
    assert ">model_proxy</text>" in html and ">credential</text>" in html
    critical_rows = re.findall(r"<tr><td>([^<]+)</td>", html)
    assert len(critical_rows) == 10  # 8 anthropic + the Sora proxy + one more critical key; the resolved one not
    assert "owner1/app25" in critical_rows and "sora-turbo" in html


def test_report_loads_nothing_from_the_network_and_escapes_what_it_shows(store_url: str) -> None:
    html = report_html(store_url)
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(", html, re.IGNORECASE)
    assert not re.search(r'(src|href)="', html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.py" in html


def test_period_bounds_the_findings_and_picks_the_bucket() -> None:
    assert bucket_size(timedelta(hours=1)) == timedelta(minutes=1)
    assert bucket_size(timedelta(days=30)) == timedelta(days=1)
    size, columns = timeline([(T0, "high"), (T0 + timedelta(minutes=30), "critical")], T0 - timedelta(hours=1),
                             T0 + timedelta(hours=1))
    assert size == timedelta(minutes=5)
    assert sum(sum(c.values()) for _, c in columns) == 2
    assert columns[0][0] <= T0 - timedelta(hours=1) < columns[1][0]


def test_old_findings_fall_outside_a_short_period(store_url: str) -> None:
    assert "findings seen in period" in report_html(store_url, days=7)
    week = re.search(r'<div class="n">(\d+)</div><div class="k">findings seen in period', report_html(store_url, 7))
    day = re.search(r'<div class="n">(\d+)</div><div class="k">findings seen in period', report_html(store_url, 1))
    assert week and day and int(week.group(1)) == int(day.group(1)) + 1


def test_report_command_writes_the_file(store_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out" / "report.html"
    result = CliRunner().invoke(app, ["report", "--store", store_url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<!doctype html>")


class Charts(HTMLParser):
    """Counts, in the DOM Chromium rendered, the chart SVGs and the bars drawn inside them."""

    def __init__(self) -> None:
        super().__init__()
        self.charts = 0
        self.bars = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        self.charts += tag == "svg" and "chart" in classes
        self.bars += tag == "rect" and "bar" in classes


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (scripts/test.sh does it)")
    return found


def test_report_renders_in_headless_chromium(store_url: str, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(report_html(store_url))
    profile = tmp_path / "chromium-profile"
    run = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    dom = subprocess.run([*run, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    charts = Charts()
    charts.feed(dom)
    assert charts.charts == 4 and charts.bars >= 10
    shot = tmp_path / "report.png"
    subprocess.run([*run, "--hide-scrollbars", "--window-size=1280,1400", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
