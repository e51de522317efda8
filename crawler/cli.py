"""``exposurewatch crawl``: the main job (list and fetch Spaces) and its distributed worker."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from crawler.run import CrawlReport, crawl_spaces, crawl_worker
from services.bus import Bus
from services.config import get_settings
from services.finding_options import open_bus_option, open_store_option
from services.store import Store

app = typer.Typer(help="Crawl the Hugging Face Hub for leaked AI-model access.", no_args_is_help=True)
console = Console(stderr=True)

REQUEST_KINDS = ("spaces/new", "spaces/changed", "spaces/full", "spaces/deleted")


class CrawlProgressBar:
    """A Rich progress bar fed by the crawler's stats: Spaces listed, then Spaces fetched of those requested."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.listed = progress.add_task("listing Spaces", total=None)
        self.fetched = progress.add_task("fetching changed Spaces", total=None)
        self.requested = 0

    def __call__(self, spider: str, stats: dict[str, Any]) -> None:
        if spider == "space-lister":
            self.requested = sum(int(stats.get(k, 0)) for k in REQUEST_KINDS)
            self.progress.update(self.listed, completed=int(stats.get("spaces/listed", 0)),
                                 description=f"listed Spaces ({self.requested} to fetch)")
        else:
            done = sum(int(stats.get(k, 0)) for k in ("spaces/fetched", "spaces/disabled", "spaces/gone",
                                                      "fetch/errors"))
            self.progress.update(self.fetched, completed=done, total=self.requested or None)


def summary_table(report: CrawlReport) -> Table:
    counts: Counter[tuple[str, str, str]] = Counter()
    for key, value in report.stats.get("fetcher", {}).items():
        parts = key.split("/")
        if parts[0] == "findings" and len(parts) == 4:
            counts[(parts[1], parts[2], parts[3])] += int(value)
    table = Table("kind", "provider", "severity", "findings", title="findings in this crawl")
    for (kind, provider, severity), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(kind, provider, severity, str(n))
    return table


def run_line(report: CrawlReport) -> str:
    return (
        f"listed {report.value('spaces/listed')} Spaces in {report.value('listing/pages')} pages; "
        f"unchanged {report.value('spaces/unchanged')}, fetched {report.value('spaces/fetched')}, "
        f"disabled {report.value('spaces/disabled')}, "
        f"gone {report.value('spaces/gone')}, errors {report.value('fetch/errors')}; "
        f"{report.value('downloader/request_count')} requests; "
        f"resolved {report.value('findings/resolved')} finding(s)"
    )


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


ConcurrencyOption = Annotated[int | None, typer.Option(min=1, help="Concurrent requests to the Hub.")]
MetricsPortOption = Annotated[int | None, typer.Option(
    min=0, max=65535, help="Serve Prometheus /metrics on this port (default: EXPOSUREWATCH_METRICS_PORT).")]
StatsFileOption = Annotated[Path | None, typer.Option(help="Write this run's Scrapy stats here as JSON.")]


def common_overrides(concurrency: int | None, metrics_port: int | None) -> dict[str, Any]:
    """Scrapy settings every crawl process takes from the CLI and the environment."""
    settings = get_settings()
    return {
        "HUB_TOKEN": settings.hf_token.get_secret_value() if settings.hf_token else None,
        "CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "EXPOSUREWATCH_METRICS_PORT": settings.metrics_port if metrics_port is None else metrics_port,
        "EXPOSUREWATCH_METRICS_ADDR": settings.metrics_addr,
    }


def finish(report: CrawlReport, bus: Bus, store: Store, stats_file: Path | None) -> None:
    bus.close()
    store.close()
    console.print(run_line(report))
    if report.value("ratelimit/waits"):
        console.print(f"waited out {report.value('ratelimit/waits')} rate-limit answer(s)")
    if stats_file is not None:
        stats_file.write_bytes(orjson.dumps(report.stats, default=str, option=orjson.OPT_INDENT_2))


@app.command("spaces")
def spaces(
    hub_url: Annotated[str | None, typer.Option(help="Hub base URL (default https://huggingface.co).")] = None,
    search: Annotated[str | None, typer.Option(help="Only Spaces matching this search.")] = None,
    author: Annotated[str | None, typer.Option(help="Only this owner's Spaces.")] = None,
    store: Annotated[str | None, typer.Option(help="Store URL (default sqlite:///./exposurewatch.db).")] = None,
    bus: Annotated[str | None, typer.Option(help="memory:// runs everything here; kafka://… feeds workers.")] = None,
    full: Annotated[bool, typer.Option("--full", help="Ignore recrawl state and fetch every Space.")] = False,
    concurrency: ConcurrencyOption = None,
    metrics_port: MetricsPortOption = None,
    stats_file: StatsFileOption = None,
) -> None:
    """List Spaces and fetch the new and changed ones (the main job)."""
    opened_bus, opened_store = open_bus_option(bus), open_store_option(store)
    overrides = {
        **common_overrides(concurrency, metrics_port),
        "HUB_URL": (hub_url or get_settings().hub_url).rstrip("/"),
        "HUB_SEARCH": search, "HUB_AUTHOR": author, "EXPOSUREWATCH_FULL": full,
    }
    with progress_bar() as progress:
        report = crawl_spaces(opened_bus, opened_store, overrides, CrawlProgressBar(progress))
    finish(report, opened_bus, opened_store, stats_file)
    Console().print(summary_table(report))


@app.command("worker")
def worker(
    bus: Annotated[str | None, typer.Option(help="kafka://host:port of the crawl-request topic.")] = None,
    store: Annotated[str | None, typer.Option(help="Store URL, to resolve findings that disappeared.")] = None,
    exit_when_idle: Annotated[float | None, typer.Option(help="Exit after this many idle seconds.")] = None,
    concurrency: ConcurrencyOption = None,
    metrics_port: MetricsPortOption = None,
    stats_file: StatsFileOption = None,
) -> None:
    """Fetch Spaces named by crawl requests on the bus, as one member of the fetcher group."""
    opened_bus, opened_store = open_bus_option(bus), open_store_option(store)
    with progress_bar() as progress:
        report = crawl_worker(opened_bus, opened_store, common_overrides(concurrency, metrics_port), exit_when_idle,
                              CrawlProgressBar(progress))
    finish(report, opened_bus, opened_store, stats_file)
