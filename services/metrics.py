"""Prometheus metrics of every service, registered on an injected registry.

Each service builds the metric families it needs on the registry it is given (a fresh one in tests,
the process's own in production) and serves it with :func:`serve`. Names follow Prometheus
conventions: ``exposurewatch_`` prefix, units in names, ``_total`` counters, bounded labels only
(kind, provider, severity, status — never a Space id or a URL).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, start_http_server

from services.store import SearchQuery, Store

NAMESPACE = "exposurewatch"


def package_version() -> str:
    try:
        return version("exposurewatch")
    except PackageNotFoundError:
        return "0+unknown"


def build_info(registry: CollectorRegistry, service: str) -> Info:
    """``exposurewatch_build_info{version, python, service} 1``: which release and role each scraped process runs."""
    info = Info("build", "Version and role of this exposurewatch process.", namespace=NAMESPACE, registry=registry)
    info.info({"version": package_version(), "python": platform.python_version(), "service": service})
    return info


SPACE_OUTCOMES = ("listed", "new", "changed", "full", "unchanged", "deleted", "fetched", "gone")
CRAWL_ERROR_STAGES = ("listing", "crawl_request", "fetch", "download", "ratelimit")


class CrawlerMetrics:
    """What the crawler does to the Hub and what it finds there, fed from Scrapy's stats.

    Known label values start at 0, so rates and alerts see a series before the first event.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter("crawler_requests", "HTTP responses received from the Hub, by status code.",
                                ["status"], namespace=NAMESPACE, registry=registry)
        self.response_bytes = Counter("crawler_response_bytes", "Bytes of response bodies received.",
                                      namespace=NAMESPACE, registry=registry)
        self.listing_pages = Counter("crawler_listing_pages", "Pages of the Space listing read.",
                                     namespace=NAMESPACE, registry=registry)
        self.spaces = Counter("crawler_spaces", "Spaces by crawl outcome: listed, new, changed, full, unchanged, "
                              "deleted, fetched, gone.", ["outcome"], namespace=NAMESPACE, registry=registry)
        for outcome in SPACE_OUTCOMES:
            self.spaces.labels(outcome=outcome)
        self.findings = Counter("crawler_findings", "Findings emitted by the fetcher.",
                                ["kind", "provider", "severity"], namespace=NAMESPACE, registry=registry)
        self.findings_resolved = Counter("crawler_findings_resolved",
                                         "Open findings resolved because a recrawl no longer saw them.",
                                         namespace=NAMESPACE, registry=registry)
        self.errors = Counter("crawler_errors", "Failed fetches and unreadable answers, by crawl stage: listing, "
                              "crawl_request, fetch, download, ratelimit.", ["stage"],
                              namespace=NAMESPACE, registry=registry)
        for stage in CRAWL_ERROR_STAGES:
            self.errors.labels(stage=stage)
        self.ratelimit_waits = Counter("crawler_ratelimit_waits", "429 answers waited out.",
                                       namespace=NAMESPACE, registry=registry)
        self.ratelimit_wait_seconds = Counter("crawler_ratelimit_wait_seconds", "Time spent waiting out 429s.",
                                              namespace=NAMESPACE, registry=registry)
        self.pending_requests = Gauge("crawler_pending_requests", "Requests queued or downloading right now.",
                                      namespace=NAMESPACE, registry=registry)
        self.last_progress = Gauge("crawler_last_progress_timestamp_seconds",
                                   "Unix time the crawler last completed a Space or a listing page.",
                                   namespace=NAMESPACE, registry=registry)


class IndexerMetrics:
    """How the indexer keeps up with the bus and how the store answers."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.consumer_lag = Gauge("indexer_consumer_lag_messages", "Messages behind the log end, per topic.",
                                  ["topic"], namespace=NAMESPACE, registry=registry)
        self.batch_size = Histogram("indexer_batch_size_messages", "Messages per bulk request.",
                                    buckets=(1, 5, 10, 50, 100, 250, 500, 1000, 2500),
                                    namespace=NAMESPACE, registry=registry)
        self.bulk_latency = Histogram("indexer_bulk_latency_seconds", "Time for the store to acknowledge a batch.",
                                      buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
                                      namespace=NAMESPACE, registry=registry)
        self.documents = Counter("indexer_documents", "Documents by outcome: indexed, failed, deadlettered.",
                                 ["outcome"], namespace=NAMESPACE, registry=registry)
        self.end_to_end_latency = Histogram("indexer_end_to_end_latency_seconds",
                                            "From a finding's discovered_at to its acknowledgement by the store.",
                                            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
                                            namespace=NAMESPACE, registry=registry)


EXPOSURE_LABELS = ("kind", "provider", "severity", "restricted")
ExposureLabels = tuple[str, ...]
"""Values of :data:`EXPOSURE_LABELS` of open findings; restricted is "true" or "false"."""


@dataclass
class ExposureTally:
    open: int
    newest_first_seen: float


def tally_open_exposures(store: Store) -> dict[ExposureLabels, ExposureTally]:
    """Count open findings by labels in one aggregation of the store, however many findings it holds."""
    groups = store.groups(EXPOSURE_LABELS, SearchQuery(filters={"status": ["open"]}))
    return {group.key: ExposureTally(group.count, group.newest_first_seen.timestamp()) for group in groups}


class ExposureMetrics:
    """Open exposures as the store sees them, for the security team's overview and the exposure alerts."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = list(EXPOSURE_LABELS)
        self.open = Gauge("exposures_open", "Open findings in the store.", labels,
                          namespace=NAMESPACE, registry=registry)
        self.newest_first_seen = Gauge("exposures_newest_first_seen_timestamp_seconds",
                                       "first_seen of the newest open finding: it moves when a new exposure opens.",
                                       labels, namespace=NAMESPACE, registry=registry)
        self.last_refresh = Gauge("exposures_last_refresh_timestamp_seconds",
                                  "Unix time the exposure gauges were last computed from the store.",
                                  namespace=NAMESPACE, registry=registry)
        self.currently_open: set[ExposureLabels] = set()

    def refresh(self, store: Store) -> None:
        """Recompute from the store; label sets with nothing open drop to 0 and lose their newest timestamp."""
        tallies = tally_open_exposures(store)
        for labels in self.currently_open - tallies.keys():
            self.open.labels(*labels).set(0)
            self.newest_first_seen.remove(*labels)
        for labels, tally in tallies.items():
            self.open.labels(*labels).set(tally.open)
            self.newest_first_seen.labels(*labels).set(tally.newest_first_seen)
        self.currently_open = set(tallies)
        self.last_refresh.set_to_current_time()


def serve(registry: CollectorRegistry, port: int, addr: str = "127.0.0.1") -> WSGIServer:
    """Serve ``/metrics`` for this registry on a daemon thread; port 0 picks a free one."""
    server, _thread = start_http_server(port, addr=addr, registry=registry)
    return server
