"""The indexer on the in-process bus and SQLite: commit only after the store acknowledged, dead-letter poison."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import orjson

from indexer.consumer import Indexer
from services.bus import Topic, publish
from services.bus.memory import MemoryBus
from services.events import Asset, Finding
from services.store import Entity, StoreError, open_store
from services.store.sqlite import SqliteStore
from tests.store_contract import finding


def run_until_idle(indexer: Indexer) -> None:
    indexer.run(threading.Event(), exit_when_idle_s=0.3)


def test_events_are_indexed_and_poison_is_dead_lettered_with_reason(tmp_path: Path) -> None:
    bus = MemoryBus()
    store = open_store(f"sqlite:///{tmp_path}/ew.db")
    publish(bus, Asset.space("alice/demo"))
    publish(bus, finding(1))
    bus.send(Topic.FINDINGS, "k", b"{not json")
    bus.send(Topic.FINDINGS, "k", orjson.dumps({"type": "finding", "schema_version": "9.0", "key": "k",
                                                "produced_at": "2026-01-01T00:00:00Z", "payload": {}}))
    publish(bus, finding(2))
    indexer = Indexer(bus, store, batch_wait_s=0.05)
    run_until_idle(indexer)
    assert (indexer.stats.indexed, indexer.stats.dead_lettered) == (3, 2)
    assert store.count(Entity.FINDINGS) == 2 and store.count(Entity.ASSETS) == 1
    dead = bus.consumer([Topic.DEADLETTER], "inspect").poll(timeout_s=0)
    reasons = [dict(m.headers)["x-deadletter-reason"].decode() for m in dead]
    assert "not JSON" in reasons[0] and "newer than this reader" in reasons[1]
    assert dict(dead[0].headers)["x-source-topic"] == b"findings"


class FlakyStore(SqliteStore):
    """Refuses the first ``failures`` writes, as a search engine restarting would."""

    def __init__(self, path: str, failures: int) -> None:
        super().__init__(path)
        self.failures = failures

    def upsert(self, items: Sequence[Asset | Finding]) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreError("connection refused")
        super().upsert(items)


def test_store_outage_backs_off_and_loses_nothing(tmp_path: Path) -> None:
    bus = MemoryBus()
    for i in range(20):
        publish(bus, finding(i))
    store = FlakyStore(f"{tmp_path}/ew.db", failures=3)
    indexer = Indexer(bus, store, batch_size=7, batch_wait_s=0.05)
    run_until_idle(indexer)
    assert store.count(Entity.FINDINGS) == 20
    assert indexer.stats.store_failures == 3


def test_offsets_are_not_committed_when_stopped_before_the_store_acknowledged(tmp_path: Path) -> None:
    bus = MemoryBus()
    publish(bus, finding(1))
    stop = threading.Event()
    store = FlakyStore(f"{tmp_path}/ew.db", failures=1000)
    threading.Timer(0.3, stop.set).start()
    Indexer(bus, store, batch_wait_s=0.05).run(stop)
    assert len(bus.consumer([Topic.FINDINGS], "exposurewatch-indexer").poll(timeout_s=0)) == 1
