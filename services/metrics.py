"""Prometheus metrics of every service, registered on an injected registry.

Each service builds the metric families it needs on the registry it is given (a fresh one in tests,
the process's own in production) and serves it with :func:`serve`. Names follow Prometheus
conventions: ``exposurewatch_`` prefix, units in names, ``_total`` counters, bounded labels only
(kind, provider, severity, status — never a Space id or a URL).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, start_http_server

NAMESPACE = "exposurewatch"


def package_version() -> str:
    try:
        return version("exposurewatch")
    except PackageNotFoundError:
        return "0+unknown"


def build_info(registry: CollectorRegistry, service: str) -> Info:
    info = Info("build", "Version and role of this exposurewatch process.", namespace=NAMESPACE, registry=registry)
    info.info({"version": package_version(), "service": service})
    return info


class CrawlerMetrics:
    """What the crawler does to the Hub and what it finds there."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter("crawler_requests", "HTTP responses received from the Hub, by status code.",
                                ["status"], namespace=NAMESPACE, registry=registry)
        self.response_bytes = Counter("crawler_response_bytes", "Bytes of response bodies received.",
                                      namespace=NAMESPACE, registry=registry)
        self.spaces = Counter("crawler_spaces", "Spaces by crawl outcome: listed, new, changed, unchanged, "
                              "fetched, gone.", ["outcome"], namespace=NAMESPACE, registry=registry)
        self.findings = Counter("crawler_findings", "Findings emitted by the fetcher.",
                                ["kind", "provider", "severity"], namespace=NAMESPACE, registry=registry)
        self.errors = Counter("crawler_errors", "Failed fetches and unreadable answers.", ["stage"],
                              namespace=NAMESPACE, registry=registry)
        self.ratelimit_waits = Counter("crawler_ratelimit_waits", "429 answers waited out.",
                                       namespace=NAMESPACE, registry=registry)
        self.ratelimit_wait_seconds = Counter("crawler_ratelimit_wait_seconds", "Time spent waiting out 429s.",
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


class ExposureMetrics:
    """Open exposures as the store sees them, for the security team's overview."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.open = Gauge("exposures_open", "Open findings.", ["kind", "provider", "severity"],
                          namespace=NAMESPACE, registry=registry)


def serve(registry: CollectorRegistry, port: int, addr: str = "127.0.0.1") -> WSGIServer:
    """Serve ``/metrics`` for this registry on a daemon thread; port 0 picks a free one."""
    server, _thread = start_http_server(port, addr=addr, registry=registry)
    return server
