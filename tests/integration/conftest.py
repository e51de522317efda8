"""Integration tests run against the real Kafka, OpenSearch and Prometheus of `exposurewatch stack up`.

The session fixture reuses servers that are already up (a developer's `stack up`) and leaves them running;
servers it had to start itself are stopped at the end unless EXPOSUREWATCH_KEEP_STACK=1.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from services.stack import harness

if TYPE_CHECKING:
    from tests.integration.test_indexer_kafka import IndexerProcess

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration, so `-m "not integration"` skips them without per-file markers."""
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def stack() -> Iterator[dict[str, Any]]:
    """Endpoints of the running stack: {"kafka": "127.0.0.1:P", "opensearch": "http://...", "prometheus": ...}."""
    before = harness.status()["pids"]
    info = harness.ensure_up()
    yield info
    started = [name for name in harness.SERVICES if info["pids"][name] != before[name]]
    if started and os.environ.get("EXPOSUREWATCH_KEEP_STACK") != "1":
        harness.stop(only=started)


ScrapeTarget = Callable[[str], str]


@pytest.fixture
def prometheus_target(stack: dict[str, Any]) -> Iterator[ScrapeTarget]:
    """Register ``host:port`` as a scrape target of the exposurewatch job and wait for a first successful scrape.

    Returns the target's ``target`` label value, which is unique per registration so queries can select it.
    """
    layout = harness.layout_for()
    names: list[str] = []

    def register(address: str) -> str:
        name = f"pytest-{uuid.uuid4().hex[:10]}"
        names.append(name)
        harness.add_scrape_target(layout, name, [address], labels={"target": name})
        harness.wait_for_scrape(stack["prometheus"], address, timeout=30)
        return name

    yield register
    for name in names:
        harness.remove_scrape_target(layout, name)


@pytest.fixture
def processes() -> Iterator[list[IndexerProcess]]:
    """Indexer processes a test started; any still running at the end are killed (they are ours)."""
    started: list[IndexerProcess] = []
    yield started
    for process in started:
        if process.proc.poll() is None:
            process.kill9()
