"""The indexer while its servers fail: a Kafka broker restart and a 30 s OpenSearch outage, mid-stream.

These tests stop and start servers, so they run on a Kafka and an OpenSearch of their own (run directory
``indexer-reliability`` of the stack harness, other ports, the shared download cache) and never disturb the shared
stack other tests use; those servers are stopped and their data deleted at the end. The indexer under test is a
real ``exposurewatch index`` process.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.bus import open_bus
from services.bus.kafka import KafkaBus
from services.events import Finding
from services.stack import harness
from services.store import open_store
from services.store.search_engine import SearchEngineStore
from tests.integration.test_indexer_kafka import (
    IndexerProcess,
    assert_indexed_exactly_once,
    produce,
    recorded_sightings,
    sightings,
    wait_for,
)

RUN = "indexer-reliability"
OUTAGE_S = 30.0
LAG = "exposurewatch_indexer_consumer_lag_messages"


@pytest.fixture(scope="module")
def own_stack(stack: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Kafka and OpenSearch for this module alone; depends on the shared stack only so downloads happen once."""
    info = harness.ensure_up(only="kafka,opensearch", run_name=RUN)
    assert info["kafka"] != stack["kafka"] and info["opensearch"] != stack["opensearch"]
    try:
        yield info
    finally:
        harness.purge(run_name=RUN)


@pytest.fixture
def pair(own_stack: dict[str, Any]) -> Iterator[tuple[KafkaBus, SearchEngineStore]]:
    """Bus and store on the module's own servers and a fresh prefix; the servers' data goes with the run dir."""
    prefix = f"test-reliability-{uuid.uuid4().hex[:6]}"
    bus = open_bus(f"kafka://{own_stack['kafka']}", prefix=prefix, partitions=6)
    store = open_store(f"opensearch+{own_stack['opensearch']}", index_prefix=prefix)
    assert isinstance(bus, KafkaBus) and isinstance(store, SearchEngineStore)
    bus.ensure_topics()
    yield bus, store
    bus.close()
    store.close()


class Sender(threading.Thread):
    """Produces in the background (through a broker outage, the producer buffers and retries); keeps any error."""

    def __init__(self, bus: KafkaBus, events: list[Finding]) -> None:
        super().__init__(daemon=True)
        self.bus = bus
        self.events = events
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            produce(self.bus, self.events)
        except BaseException as exc:
            self.error = exc

    def finish(self, timeout: float) -> None:
        self.join(timeout)
        assert not self.is_alive(), "producing did not finish"
        assert self.error is None, f"producing failed: {self.error!r}"


def test_kafka_broker_restart_mid_stream_loses_and_duplicates_nothing(
        own_stack: dict[str, Any], pair: tuple[KafkaBus, SearchEngineStore], processes: list[IndexerProcess],
        tmp_path: Path) -> None:
    bus, store = pair
    prefix = store.prefix
    opensearch = own_stack["opensearch"]
    events = sightings("restart", findings=1500, per_finding=4)
    half = len(events) // 2
    indexer = IndexerProcess(own_stack["kafka"], f"opensearch+{opensearch}", prefix, prefix, tmp_path, "indexer", 100)
    processes.append(indexer)
    produce(bus, events[:half])
    wait_for(lambda: recorded_sightings(store, opensearch) >= half // 4, 120, "indexing under way")
    assert harness.stop(only="kafka", run_name=RUN) == ["kafka"]
    sender = Sender(bus, events[half:])
    sender.start()
    time.sleep(3)
    restarted = harness.ensure_up(only="kafka", run_name=RUN)
    assert restarted["kafka"] == own_stack["kafka"], "the broker came back on its address"
    sender.finish(240)
    wait_for(lambda: recorded_sightings(store, opensearch) >= len(events), 240, "every sighting indexed")
    assert indexer.proc.poll() is None, "the indexer rode out the restart:\n" + indexer.output()[-3000:]
    assert indexer.stop() == 0
    assert_indexed_exactly_once(store, events, opensearch)


def test_opensearch_outage_backs_off_then_lag_recovers_and_nothing_is_lost(
        own_stack: dict[str, Any], pair: tuple[KafkaBus, SearchEngineStore], processes: list[IndexerProcess],
        tmp_path: Path) -> None:
    bus, store = pair
    prefix = store.prefix
    opensearch = own_stack["opensearch"]
    events = sightings("outage", findings=2000, per_finding=3)
    third = len(events) // 3
    indexer = IndexerProcess(own_stack["kafka"], f"opensearch+{opensearch}", prefix, prefix, tmp_path, "indexer", 100)
    processes.append(indexer)
    produce(bus, events[:third])
    wait_for(lambda: recorded_sightings(store, opensearch) >= third // 2, 120, "indexing under way")
    assert harness.stop(only="opensearch", run_name=RUN) == ["opensearch"]
    down_at = time.monotonic()
    produce(bus, events[third:2 * third])
    wait_for(lambda: (indexer.metric(LAG, topic="findings") or 0) > 0, 20, "lag to build up during the outage")
    wait_for(lambda: (indexer.metric("exposurewatch_indexer_documents_total", outcome="failed") or 0) > 0, 20,
             "failed writes to be counted")
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
    restarted = harness.ensure_up(only="opensearch", run_name=RUN)
    outage_s = time.monotonic() - down_at
    assert restarted["opensearch"] == opensearch, "OpenSearch came back on its address"
    produce(bus, events[2 * third:])
    wait_for(lambda: recorded_sightings(store, opensearch) >= len(events), 240, "every sighting indexed")
    wait_for(lambda: indexer.metric(LAG, topic="findings") == 0, 30, "lag back to 0")
    assert indexer.proc.poll() is None, "the indexer rode out the outage:\n" + indexer.output()[-3000:]
    assert indexer.stop() == 0
    assert_indexed_exactly_once(store, events, opensearch)
    output = indexer.output()
    assert "store write failed, retrying in" in output
    failures = int(re.findall(r"failed store writes (\d+)", output)[-1])
    # Backoff doubles from 0.5 s up to 10 s: about 6 tries in the first 30 s, then one per ~10 s. A busy loop
    # would be hundreds; no retry at all would have lost the batch.
    assert 3 <= failures <= 8 + outage_s / 5, f"{failures} failed writes in a {outage_s:.0f}s outage"
