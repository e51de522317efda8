"""Metric families: Scrapy stats exported as counters, open-exposure gauges from a store, and the endpoint that
keeps a finished crawl alive until Prometheus read it."""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

import services.metrics
from crawler.extensions import ERROR_STAGES, PrometheusStats, StatsExport, metrics_endpoint
from services.metrics import CRAWL_ERROR_STAGES, CrawlerMetrics, ExposureMetrics, build_info, tally_open_exposures
from services.store import open_store
from services.store.sqlite import SqliteStore
from tests.store_contract import T0, finding


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_stats_export_adds_only_growth_and_maps_each_kind_of_stat() -> None:
    registry = CollectorRegistry()
    export = StatsExport(CrawlerMetrics(registry))
    stats: dict[str, Any] = {
        "downloader/response_status_count/200": 10, "downloader/response_status_count/429": 2,
        "downloader/response_bytes": 5000, "spaces/listed": 7, "spaces/unchanged": 3,
        "findings/credential/openai/critical": 2, "fetch/errors": 1, "ratelimit/waits": 2,
        "ratelimit/wait_seconds": 30, "start_time": "not a number", "log_count/INFO": 9,
    }
    assert export(stats) is False  # nothing that marks progress yet
    stats.update({"downloader/response_status_count/200": 15, "spaces/fetched": 4, "listing/pages": 1})
    assert export(stats) is True
    assert export(stats) is False  # unchanged stats add nothing
    assert sample(registry, "exposurewatch_crawler_requests_total", status="200") == 15
    assert sample(registry, "exposurewatch_crawler_requests_total", status="429") == 2
    assert sample(registry, "exposurewatch_crawler_response_bytes_total") == 5000
    assert sample(registry, "exposurewatch_crawler_spaces_total", outcome="listed") == 7
    assert sample(registry, "exposurewatch_crawler_spaces_total", outcome="fetched") == 4
    assert sample(registry, "exposurewatch_crawler_findings_total", kind="credential", provider="openai",
                  severity="critical") == 2
    assert sample(registry, "exposurewatch_crawler_errors_total", stage="fetch") == 1
    assert sample(registry, "exposurewatch_crawler_ratelimit_wait_seconds_total") == 30
    assert sample(registry, "exposurewatch_crawler_listing_pages_total") == 1


def test_crawls_of_one_process_add_up_in_the_shared_counters() -> None:
    registry = CollectorRegistry()
    metrics = CrawlerMetrics(registry)
    StatsExport(metrics)({"downloader/response_status_count/200": 4})  # the lister
    StatsExport(metrics)({"downloader/response_status_count/200": 6})  # then the fetcher, stats from zero
    assert sample(registry, "exposurewatch_crawler_requests_total", status="200") == 10


def test_every_error_stage_exists_at_zero_before_any_error() -> None:
    registry = CollectorRegistry()
    CrawlerMetrics(registry)
    assert set(ERROR_STAGES.values()) == set(CRAWL_ERROR_STAGES)
    assert all(sample(registry, "exposurewatch_crawler_errors_total", stage=s) == 0 for s in CRAWL_ERROR_STAGES)


def test_build_info_names_version_and_service() -> None:
    registry = CollectorRegistry()
    build_info(registry, "indexer")
    assert sample(registry, "exposurewatch_build_info", version=services.metrics.package_version(),
                  python=services.metrics.platform.python_version(), service="indexer") == 1


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    opened = open_store(f"sqlite:///{tmp_path}/ew.db")
    assert isinstance(opened, SqliteStore)
    return opened


def test_open_exposures_are_counted_by_labels(store: SqliteStore) -> None:
    later = T0 + timedelta(minutes=5)
    store.upsert([
        finding(1, "openai", "critical"), finding(2, "openai", "critical", discovered_at=later),
        finding(3, "openai", "critical"), finding(4, "anthropic", "high"),
        finding(5, "openai", "critical", kind="model_proxy", restricted=True, models=["sora-turbo"]),
        finding(6, "openai", "critical").resolved(later),
    ])
    tallies = tally_open_exposures(store)
    assert {labels: t.open for labels, t in tallies.items()} == {
        ("credential", "openai", "critical", "false"): 3,
        ("credential", "anthropic", "high", "false"): 1,
        ("model_proxy", "openai", "critical", "true"): 1,
    }
    assert tallies[("credential", "openai", "critical", "false")].newest_first_seen == later.timestamp()


def test_exposure_gauges_drop_to_zero_when_everything_is_resolved(store: SqliteStore) -> None:
    registry = CollectorRegistry()
    gauges = ExposureMetrics(registry)
    open_one = finding(1, "anthropic", "critical")
    store.upsert([open_one])
    gauges.refresh(store)
    labels = {"kind": "credential", "provider": "anthropic", "severity": "critical", "restricted": "false"}
    assert sample(registry, "exposurewatch_exposures_open", **labels) == 1
    assert sample(registry, "exposurewatch_exposures_newest_first_seen_timestamp_seconds", **labels) == \
        T0.timestamp()
    store.upsert([open_one.resolved(T0 + timedelta(minutes=1))])
    gauges.refresh(store)
    gauges.refresh(store)  # a second refresh with nothing open must not fail on the removed series
    assert sample(registry, "exposurewatch_exposures_open", **labels) == 0
    assert sample(registry, "exposurewatch_exposures_newest_first_seen_timestamp_seconds", **labels) is None
    assert (sample(registry, "exposurewatch_exposures_last_refresh_timestamp_seconds") or 0) > time.time() - 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_closing_crawl_exports_its_final_totals() -> None:
    port = free_port()
    endpoint = metrics_endpoint("127.0.0.1", port, final_scrape_timeout=0)
    crawler: Any = SimpleNamespace(stats=SimpleNamespace(get_stats=lambda: {"spaces/fetched": 3}), engine=None)
    PrometheusStats(crawler, endpoint).closed()
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    assert 'exposurewatch_crawler_spaces_total{outcome="fetched"} 3.0' in text
    assert "exposurewatch_crawler_pending_requests 0.0" in text


def test_the_process_waits_for_the_next_scrape_and_it_shows_the_final_totals() -> None:
    port = free_port()
    endpoint = metrics_endpoint("127.0.0.1", port, final_scrape_timeout=0)
    endpoint.metrics.spaces.labels(outcome="unchanged").inc(400)
    scraped: list[str] = []
    timer = threading.Timer(0.5, lambda: scraped.append(httpx.get(f"http://127.0.0.1:{port}/metrics").text))
    started = time.monotonic()
    timer.start()
    assert endpoint.watch.wait_for_next_scrape(timeout=30)
    timer.join()
    assert 0.4 < time.monotonic() - started < 5
    assert 'exposurewatch_crawler_spaces_total{outcome="unchanged"} 400.0' in scraped[0]


def test_without_a_scraper_the_wait_ends_at_the_timeout() -> None:
    endpoint = metrics_endpoint("127.0.0.1", free_port(), final_scrape_timeout=0)
    started = time.monotonic()
    assert endpoint.watch.wait_for_next_scrape(timeout=0.3) is False
    assert 0.25 < time.monotonic() - started < 2
