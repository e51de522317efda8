"""Prometheus really scrapes a metrics endpoint registered as a target, as it will scrape the project's services."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, start_http_server

from tests.integration.conftest import ScrapeTarget


@pytest.fixture
def probe() -> Iterator[tuple[Counter, int]]:
    """A counter in its own registry, served on an ephemeral loopback port by this test process."""
    registry = CollectorRegistry()
    counter = Counter("exposurewatch_stack_probe", "Incremented by the scrape test.", registry=registry)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    yield counter, int(server.server_port)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def wait_for_value(prometheus: str, query: str, want: float, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    seen: Any = None
    while time.monotonic() < deadline:
        result = httpx.get(f"{prometheus}/api/v1/query", params={"query": query}, timeout=5).json()["data"]["result"]
        seen = [sample["value"][1] for sample in result]
        if seen and float(seen[0]) == want:
            return
        time.sleep(0.5)
    pytest.fail(f"Prometheus never returned {want} for {query!r} within {timeout:.0f}s; last answer: {seen}")


def test_registered_target_is_scraped_with_current_values(
    stack: dict[str, Any], prometheus_target: ScrapeTarget, probe: tuple[Counter, int]
) -> None:
    counter, port = probe
    counter.inc(7)
    label = prometheus_target(f"127.0.0.1:{port}")
    query = f'exposurewatch_stack_probe_total{{job="exposurewatch", target="{label}"}}'
    wait_for_value(stack["prometheus"], query, 7)
    counter.inc(3)
    wait_for_value(stack["prometheus"], query, 10)
