"""The indexer on the in-process bus and SQLite: commit only after the store acknowledged, dead-letter poison,
bounded batches, and the metrics an operator watches."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from prometheus_client import CollectorRegistry

from indexer.consumer import Indexer
from services.bus import Message, Topic, publish
from services.bus.memory import MemoryBus
from services.events import Asset, CrawlRequest, Finding, encode, utcnow
from services.metrics import IndexerMetrics
from services.store import DocumentsRejected, Entity, PreparedUpsert, StoreError, open_store
from services.store.sqlite import SqliteStore
from tests.store_contract import finding


def run_until_idle(indexer: Indexer) -> None:
    indexer.run(threading.Event(), exit_when_idle_s=0.3)


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_events_are_indexed_and_poison_is_dead_lettered_with_reason(tmp_path: Path) -> None:
    bus = MemoryBus()
    store = open_store(f"sqlite:///{tmp_path}/ew.db")
    publish(bus, Asset.space("alice/demo"))
    publish(bus, finding(1))
    bus.send(Topic.FINDINGS, "k", b"{not json")
    bus.send(Topic.FINDINGS, "k", orjson.dumps({"type": "finding", "schema_version": "9.0", "key": "k",
                                                "produced_at": "2026-01-01T00:00:00Z", "payload": {}}))
    bus.send(Topic.ASSETS, "k", encode(CrawlRequest(space_id="alice/demo")))
    publish(bus, finding(2))
    indexer = Indexer(bus, store, batch_wait_s=0.05)
    run_until_idle(indexer)
    assert (indexer.stats.indexed, indexer.stats.dead_lettered) == (3, 3)
    assert store.count(Entity.FINDINGS) == 2 and store.count(Entity.ASSETS) == 1
    dead = bus.consumer([Topic.DEADLETTER], "inspect").poll(timeout_s=0)
    reasons: dict[bytes, list[str]] = {dict(m.headers)["x-source-topic"]: [] for m in dead}
    for m in dead:
        reasons[dict(m.headers)["x-source-topic"]].append(dict(m.headers)["x-deadletter-reason"].decode())
    assert "not JSON" in reasons[b"findings"][0] and "newer than this reader" in reasons[b"findings"][1]
    assert reasons[b"assets"] == ["crawl_request does not belong on the assets topic"]


class FlakyStore(SqliteStore):
    """Refuses the first ``failures`` writes, as a search engine restarting would."""

    def __init__(self, path: str, failures: int) -> None:
        super().__init__(path)
        self.failures = failures

    def write(self, prepared: PreparedUpsert) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreError("connection refused")
        super().write(prepared)


def test_store_outage_backs_off_and_loses_nothing(tmp_path: Path) -> None:
    bus = MemoryBus()
    for i in range(20):
        publish(bus, finding(i))
    store = FlakyStore(f"{tmp_path}/ew.db", failures=3)
    registry = CollectorRegistry()
    indexer = Indexer(bus, store, batch_size=7, batch_wait_s=0.05, metrics=IndexerMetrics(registry))
    run_until_idle(indexer)
    assert store.count(Entity.FINDINGS) == 20
    assert indexer.stats.store_failures == 3
    assert sample(registry, "exposurewatch_indexer_documents_total", outcome="failed") == 3 * 7
    assert sample(registry, "exposurewatch_indexer_documents_total", outcome="indexed") == 20


def test_offsets_are_not_committed_when_stopped_before_the_store_acknowledged(tmp_path: Path) -> None:
    bus = MemoryBus()
    publish(bus, finding(1))
    stop = threading.Event()
    store = FlakyStore(f"{tmp_path}/ew.db", failures=1000)
    threading.Timer(0.3, stop.set).start()
    Indexer(bus, store, batch_wait_s=0.05).run(stop)
    assert len(bus.consumer([Topic.FINDINGS], "exposurewatch-indexer").poll(timeout_s=0)) == 1


class RefusingStore(SqliteStore):
    """Writes everything but findings on one provider, which it refuses for good, as a mapping conflict would."""

    def write(self, prepared: PreparedUpsert) -> None:
        items = prepared.items
        refused = [(i, "400 mapper_parsing_exception") for i, item in enumerate(items)
                   if isinstance(item, Finding) and item.provider == "broken"]
        super().write(self.prepare([item for i, item in enumerate(items) if i not in dict(refused)]))
        if refused:
            raise DocumentsRejected(refused, "test store")


def test_documents_the_store_refuses_are_dead_lettered_and_the_rest_committed(tmp_path: Path) -> None:
    bus = MemoryBus()
    for i in range(6):
        publish(bus, finding(i, provider="broken" if i in (2, 4) else "openai"))
    store = RefusingStore(f"{tmp_path}/ew.db")
    indexer = Indexer(bus, store, batch_wait_s=0.05)
    run_until_idle(indexer)
    assert (indexer.stats.indexed, indexer.stats.dead_lettered) == (4, 2)
    dead = bus.consumer([Topic.DEADLETTER], "inspect").poll(timeout_s=0)
    assert [m.offset for m in dead] == [0, 1]
    assert all(b"store refused the document: 400 mapper_parsing" in dict(m.headers)["x-deadletter-reason"]
               for m in dead)
    assert {dict(m.headers)["x-source-offset"] for m in dead} == {b"2", b"4"}
    assert bus.consumer([Topic.FINDINGS], "exposurewatch-indexer").poll(timeout_s=0) == [], "all committed"


class RecordingConsumer:
    """Hands out prepared polls, so batching can be checked poll by poll."""

    def __init__(self, polls: list[list[Message]], delay_s: float = 0.0) -> None:
        self.polls = polls
        self.delay_s = delay_s
        self.asked: list[int] = []

    def poll(self, timeout_s: float = 1.0, max_records: int = 500) -> list[Message]:
        self.asked.append(max_records)
        time.sleep(min(self.delay_s, timeout_s))
        return self.polls.pop(0) if self.polls else []

    def commit(self) -> None:
        """Nothing to commit in this double."""

    def close(self) -> None:
        """Nothing to release in this double."""


def messages(n: int) -> list[Message]:
    return [Message(Topic.FINDINGS, 0, i, "k", encode(finding(i))) for i in range(n)]


def test_a_batch_is_bounded_by_size(tmp_path: Path) -> None:
    consumer = RecordingConsumer([messages(3), messages(3), messages(3)])
    batch = Indexer(MemoryBus(), open_store(f"sqlite:///{tmp_path}/ew.db"), batch_size=5,
                    batch_wait_s=5).collect(consumer, threading.Event())
    assert len(batch) == 6 and consumer.asked == [5, 2]


def test_a_batch_is_bounded_by_time_after_its_first_message(tmp_path: Path) -> None:
    consumer = RecordingConsumer([messages(1) for _ in range(50)], delay_s=0.05)
    started = time.monotonic()
    batch = Indexer(MemoryBus(), open_store(f"sqlite:///{tmp_path}/ew.db"), batch_size=1000,
                    batch_wait_s=0.3).collect(consumer, threading.Event())
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 1.0 and 2 <= len(batch) <= 8


def test_metrics_count_batches_documents_and_latency(tmp_path: Path) -> None:
    bus = MemoryBus()
    for i in range(10):
        publish(bus, finding(i, discovered_at=utcnow() - timedelta(seconds=3)))
    bus.send(Topic.FINDINGS, "k", b"[]")
    registry = CollectorRegistry()
    indexer = Indexer(bus, open_store(f"sqlite:///{tmp_path}/ew.db"), batch_size=4, batch_wait_s=0.05,
                      metrics=IndexerMetrics(registry))
    run_until_idle(indexer)
    assert sample(registry, "exposurewatch_indexer_documents_total", outcome="indexed") == 10
    assert sample(registry, "exposurewatch_indexer_documents_total", outcome="deadlettered") == 1
    assert sample(registry, "exposurewatch_indexer_batch_size_messages_count") == 3
    assert sample(registry, "exposurewatch_indexer_batch_size_messages_sum") == 11
    assert sample(registry, "exposurewatch_indexer_bulk_latency_seconds_count") == 3
    assert sample(registry, "exposurewatch_indexer_end_to_end_latency_seconds_count") == 10
    assert sample(registry, "exposurewatch_indexer_end_to_end_latency_seconds_bucket", le="2.0") == 0
    assert sample(registry, "exposurewatch_indexer_end_to_end_latency_seconds_bucket", le="5.0") == 10


@pytest.mark.parametrize("replays", [1, 3])
def test_replayed_messages_are_indexed_once_in_effect(tmp_path: Path, replays: int) -> None:
    bus = MemoryBus()
    sightings = [finding(1, discovered_at=utcnow() + timedelta(minutes=m)) for m in range(3)]
    for _ in range(replays):
        for event in sightings:
            publish(bus, event)
    store = open_store(f"sqlite:///{tmp_path}/ew.db")
    run_until_idle(Indexer(bus, store, batch_wait_s=0.05))
    doc = store.get(Entity.FINDINGS, sightings[0].id)
    assert doc is not None and doc["sightings"] == 3 and store.count(Entity.FINDINGS) == 1


class GatedStore(SqliteStore):
    """Holds write number ``held`` until the test opens the gate, as a slow bulk request would."""

    def __init__(self, path: str, held: int = 2) -> None:
        super().__init__(path)
        self.gate = threading.Event()
        self.held = held
        self.writes = 0
        self.prepared = 0

    def prepare(self, items: Sequence[Asset | Finding]) -> PreparedUpsert:
        self.prepared += 1
        return super().prepare(items)

    def write(self, prepared: PreparedUpsert) -> None:
        self.writes += 1
        if self.writes == self.held:
            self.gate.wait(10)
        super().write(prepared)


def wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_next_batch_is_prepared_while_one_is_written_and_no_further(tmp_path: Path) -> None:
    """Building the next bulk request overlaps the store's work on the last one; reading stops one batch ahead."""
    bus = MemoryBus()
    for i in range(15):
        publish(bus, finding(i))
    store = GatedStore(f"{tmp_path}/ew.db", held=1)
    indexer = Indexer(bus, store, batch_size=5, batch_wait_s=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=indexer.run, args=(stop,), kwargs={"exit_when_idle_s": 0.3})
    thread.start()
    wait_for(lambda: store.prepared >= 2)
    time.sleep(0.3)
    assert (store.writes, store.prepared) == (1, 2)
    store.gate.set()
    thread.join(10)
    assert not thread.is_alive() and store.count(Entity.FINDINGS) == 15 and store.prepared == 3


def test_the_next_batch_is_read_while_one_is_written_but_nothing_unacknowledged_is_committed(
        tmp_path: Path) -> None:
    bus = MemoryBus()
    for i in range(10):
        publish(bus, finding(i))
    store = GatedStore(f"{tmp_path}/ew.db")
    indexer = Indexer(bus, store, batch_size=5, batch_wait_s=0.05, commit_interval_s=60)
    stop = threading.Event()
    thread = threading.Thread(target=indexer.run, args=(stop,), kwargs={"exit_when_idle_s": 0.3})
    thread.start()
    wait_for(lambda: store.writes >= 2)
    time.sleep(0.3)  # the first batch is acknowledged, the second is being written
    unacknowledged = bus.consumer([Topic.FINDINGS], "exposurewatch-indexer").poll(timeout_s=0)
    assert len(unacknowledged) >= 5, "the batch in the store's hands is not committed"
    store.gate.set()
    thread.join(10)
    assert not thread.is_alive() and store.count(Entity.FINDINGS) == 10
    assert bus.consumer([Topic.FINDINGS], "exposurewatch-indexer").poll(timeout_s=0) == [], "all committed at the end"


def test_document_outcomes_are_exported_at_zero_before_the_first_document(tmp_path: Path) -> None:
    """increase() cannot see the first dead letter of a series born at 1; the alert rules rely on this."""
    registry = CollectorRegistry()
    Indexer(MemoryBus(), open_store(f"sqlite:///{tmp_path}/ew.db"), metrics=IndexerMetrics(registry))
    for outcome in ("indexed", "failed", "deadlettered"):
        assert registry.get_sample_value("exposurewatch_indexer_documents_total", {"outcome": outcome}) == 0.0
