"""Scrapy extensions: live progress for the CLI, and Prometheus metrics, both from the crawl's stats."""

from __future__ import annotations

import atexit
import time
from collections.abc import Callable, Iterable, Mapping, Sized
from dataclasses import dataclass, field
from typing import Any, Self

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.registry import Collector
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from services.metrics import SPACE_OUTCOMES, CrawlerMetrics, build_info, serve

ProgressCallback = Callable[[str, dict[str, Any]], None]


class CrawlProgress:
    """Hands the stats to the spider's ``progress(spider_name, stats)`` twice a second and at the end."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def report(self) -> None:
        spider = self.crawler.spider
        callback: ProgressCallback | None = getattr(spider, "progress", None)
        if callback is not None and spider is not None and self.crawler.stats is not None:
            callback(spider.name, self.crawler.stats.get_stats())

    def opened(self) -> None:
        self.loop = task.LoopingCall(self.report)
        self.loop.start(0.5)

    def closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.report()


ERROR_STAGES = {
    "listing/bad_pages": "listing",
    "fetch/bad_requests": "crawl_request",
    "fetch/errors": "fetch",
    "downloader/exception_count": "download",
    "ratelimit/gave_up": "ratelimit",
}
PROGRESS_KEYS = frozenset({"listing/pages", "spaces/fetched", "spaces/gone"})
"""Stats that grow only when the crawl moves forward; the stalled-crawler alert watches their timestamp."""
STATUS_PREFIX = "downloader/response_status_count/"


def counter_for(metrics: CrawlerMetrics, key: str) -> Counter | None:
    """The Prometheus counter (or labelled child) a Scrapy stats key feeds, or None for stats not exported."""
    if key.startswith(STATUS_PREFIX):
        return metrics.requests.labels(status=key[len(STATUS_PREFIX):])
    parts = key.split("/")
    if parts[0] == "findings" and len(parts) == 4:
        return metrics.findings.labels(kind=parts[1], provider=parts[2], severity=parts[3])
    if parts[0] == "spaces" and len(parts) == 2 and parts[1] in SPACE_OUTCOMES:
        return metrics.spaces.labels(outcome=parts[1])
    if key in ERROR_STAGES:
        return metrics.errors.labels(stage=ERROR_STAGES[key])
    plain = {
        "downloader/response_bytes": metrics.response_bytes,
        "listing/pages": metrics.listing_pages,
        "findings/resolved": metrics.findings_resolved,
        "ratelimit/waits": metrics.ratelimit_waits,
        "ratelimit/wait_seconds": metrics.ratelimit_wait_seconds,
    }
    return plain.get(key)


@dataclass
class StatsExport:
    """Adds to Prometheus counters what Scrapy's cumulative stats grew by since the previous call.

    Stats are plain numbers that only grow during one crawl; counters must keep growing across the crawls
    of one process (lister, then fetcher), so each crawl exports its own deltas into the shared counters.
    """

    metrics: CrawlerMetrics
    exported: dict[str, float] = field(default_factory=dict)

    def __call__(self, stats: Mapping[str, Any]) -> bool:
        """Export; True if a progress stat moved."""
        progressed = False
        for key, value in list(stats.items()):
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            delta = value - self.exported.get(key, 0)
            counter = counter_for(self.metrics, key) if delta > 0 else None
            if counter is None:
                continue
            counter.inc(delta)
            self.exported[key] = value
            progressed = progressed or key in PROGRESS_KEYS
        return progressed


class ScrapeWatch(Collector):
    """Counts collections of the registry, so a finishing process can wait until Prometheus read its totals."""

    def __init__(self) -> None:
        self.scrapes = 0

    def describe(self) -> Iterable[Any]:
        return ()

    def collect(self) -> Iterable[Any]:
        self.scrapes += 1
        return ()

    def wait_for_next_scrape(self, timeout: float) -> bool:
        """Block until the registry is collected once more (True), or ``timeout`` seconds pass (False)."""
        seen = self.scrapes
        deadline = time.monotonic() + timeout
        while self.scrapes == seen:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True


@dataclass
class MetricsEndpoint:
    """One ``/metrics`` server per process and port, shared by the crawls that process runs one after another."""

    metrics: CrawlerMetrics
    watch: ScrapeWatch


_ENDPOINTS: dict[tuple[str, int], MetricsEndpoint] = {}


def metrics_endpoint(addr: str, port: int, final_scrape_timeout: float) -> MetricsEndpoint:
    """The process's endpoint on ``addr:port``, started on first use.

    At exit the process waits (at most ``final_scrape_timeout`` seconds) for one more scrape: a lister run can
    end within a scrape interval, and its totals would otherwise die with the process unread.
    """
    key = (addr, port)
    if key not in _ENDPOINTS:
        registry = CollectorRegistry()
        build_info(registry, "crawler")
        watch = ScrapeWatch()
        registry.register(watch)
        endpoint = MetricsEndpoint(CrawlerMetrics(registry), watch)
        serve(registry, port, addr)
        atexit.register(watch.wait_for_next_scrape, final_scrape_timeout)
        _ENDPOINTS[key] = endpoint
    return _ENDPOINTS[key]


class PrometheusStats:
    """Serves the crawl's stats as Prometheus metrics on ``EXPOSUREWATCH_METRICS_PORT``, refreshed every second
    and once more when the crawl closes."""

    def __init__(self, crawler: Crawler, endpoint: MetricsEndpoint) -> None:
        self.crawler = crawler
        self.endpoint = endpoint
        self.export = StatsExport(endpoint.metrics)
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        port = settings.get("EXPOSUREWATCH_METRICS_PORT")
        if port is None:
            raise NotConfigured("no metrics port")
        endpoint = metrics_endpoint(settings.get("EXPOSUREWATCH_METRICS_ADDR"), int(port),
                                    settings.getfloat("EXPOSUREWATCH_METRICS_FINAL_SCRAPE_TIMEOUT"))
        extension = cls(crawler, endpoint)
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def pending_requests(self) -> int:
        engine = self.crawler.engine
        if engine is None:
            return 0
        queued = len(engine.scheduler) if isinstance(engine.scheduler, Sized) else 0
        return len(engine.downloader.active) + queued

    def refresh(self) -> None:
        assert self.crawler.stats is not None
        metrics = self.endpoint.metrics
        if self.export(self.crawler.stats.get_stats()):
            metrics.last_progress.set_to_current_time()
        metrics.pending_requests.set(self.pending_requests())

    def opened(self) -> None:
        self.endpoint.metrics.last_progress.set_to_current_time()
        self.loop = task.LoopingCall(self.refresh)
        self.loop.start(1.0)

    def closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.refresh()
        self.endpoint.metrics.pending_requests.set(0)
