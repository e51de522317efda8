"""The indexer against the real Kafka broker and OpenSearch node of the shared stack.

Poison messages are dead-lettered while the rest is indexed; `kill -9` on an indexer process loses and
duplicates nothing once it is restarted; two processes in one group share the partitions. "Nothing twice" is
checked where a duplicate would show: each finding's ``sightings`` count (a replay counted again would raise it)
and the number of sightings in the events stream (one immutable event per produced message). These tests stop
no server; those that do are in test_indexer_reliability.py, on servers of their own.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaAdminClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from indexer.consumer import INDEXED_TOPICS, Indexer
from indexer.lag import KafkaLagProbe, LagWatch
from services.bus import Message, Topic, open_bus
from services.bus.kafka import KafkaBus
from services.events import Asset, Finding, encode, event_key, utcnow
from services.metrics import IndexerMetrics
from services.stack import harness
from services.store import Entity, SearchQuery, iter_hits, open_store
from services.store.search_engine import SearchEngineStore

PROVIDERS = ("openai", "anthropic", "mistral")


def sightings(tag: str, findings: int, per_finding: int, assets: int = 150) -> list[Finding]:
    """``per_finding`` sightings of each of ``findings`` findings, later sightings later in time and in order."""
    base = utcnow()
    return [
        Finding(kind="credential", provider=PROVIDERS[i % 3], severity="high", confidence=0.9,
                asset_id=f"space:{tag}{i % assets}/app", path=f"app{i}.py", fingerprint=f"{i:032x}",
                detector="test", detector_version="1", discovered_at=base + timedelta(milliseconds=seen))
        for seen in range(per_finding) for i in range(findings)
    ]


def produce(bus: KafkaBus, events: list[Finding]) -> None:
    """Send and wait for every acknowledgement (acks=all), so the test knows exactly what the log holds."""
    futures = [bus.producer.send(f"{bus.prefix}.{Topic.FINDINGS.value}", key=event_key(e), value=encode(e))
               for e in events]
    for future in futures:
        future.get(timeout=180)


def wait_for(check: Callable[[], bool], timeout: float, what: str, every: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class IndexerProcess:
    """``exposurewatch index`` as a real subprocess, its output in a log file, its metrics on a port."""

    def __init__(self, kafka: str, store_url: str, prefix: str, group: str, log_dir: Path, name: str,
                 batch_size: int = 200, *extra: str) -> None:
        self.metrics_port = free_port()
        self.log_path = log_dir / f"{name}.log"
        argv = [sys.executable, "-m", "services", "index", "--bus", f"kafka://{kafka}", "--store", store_url,
                "--group", group, "--batch-size", str(batch_size), "--metrics-port", str(self.metrics_port), *extra]
        env = {**os.environ, "EXPOSUREWATCH_TOPIC_PREFIX": prefix, "EXPOSUREWATCH_INDEX_PREFIX": prefix,
               "EXPOSUREWATCH_KAFKA_PARTITIONS": "6", "EXPOSUREWATCH_LOG_LEVEL": "INFO"}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)

    def metric(self, name: str, **labels: str) -> float | None:
        try:
            text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text
        except httpx.HTTPError:
            return None
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return float(sample.value)
        return None

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, as an orchestrator stops it: the batch in hand is finished and committed first."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def searchable(store: SearchEngineStore) -> int:
    store.refresh()
    return store.count(Entity.FINDINGS)


def recorded_sightings(store: SearchEngineStore, opensearch: str) -> int:
    """Finding sightings in the events stream: one per produced message, however often it was delivered."""
    store.refresh()
    only_findings = {"query": {"term": {"entity": "finding"}}}
    return int(httpx.post(f"{opensearch}/{store.events_stream}/_count", json=only_findings, timeout=30)
               .json()["count"])


def assert_indexed_exactly_once(store: SearchEngineStore, events: list[Finding], opensearch: str) -> None:
    """Every produced finding is there, none twice in effect: ids, sightings per finding, sightings in the stream."""
    store.refresh()
    expected = Counter(e.id for e in events)
    docs = {d["id"]: d for d in iter_hits(store, Entity.FINDINGS, SearchQuery(sort=(("id", "asc"),), limit=1000))}
    assert set(docs) == set(expected), f"{len(set(expected) - set(docs))} finding(s) missing"
    wrong = {i: (d["sightings"], expected[i]) for i, d in docs.items() if d["sightings"] != expected[i]}
    assert not wrong, f"sightings counted wrongly for {len(wrong)} finding(s), e.g. {next(iter(wrong.items()))}"
    assert recorded_sightings(store, opensearch) == len(events), "one immutable event per produced sighting"


@pytest.fixture
def names() -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    return {"prefix": f"test-idx-{tag}", "group": f"test-idx-{tag}"}


@contextmanager
def bus_and_store(stack: dict[str, Any], prefix: str) -> Iterator[tuple[KafkaBus, SearchEngineStore]]:
    """A Kafka bus and an OpenSearch store on fresh topics and indices, both dropped afterwards."""
    bus = open_bus(f"kafka://{stack['kafka']}", prefix=prefix, partitions=6)
    store = open_store(f"opensearch+{stack['opensearch']}", index_prefix=prefix)
    assert isinstance(bus, KafkaBus) and isinstance(store, SearchEngineStore)
    bus.ensure_topics()
    try:
        yield bus, store
    finally:
        bus.close()
        store.close()
        harness.drop_store_layout(stack["opensearch"], prefix)
        harness.drop_bus_topics(stack["kafka"], prefix)


@pytest.fixture
def pair(stack: dict[str, Any], names: dict[str, str]) -> Iterator[tuple[KafkaBus, SearchEngineStore]]:
    with bus_and_store(stack, names["prefix"]) as opened:
        yield opened


def test_poison_messages_go_to_the_dead_letter_topic_and_the_rest_is_indexed(
        stack: dict[str, Any], names: dict[str, str], pair: tuple[KafkaBus, SearchEngineStore]) -> None:
    bus, store = pair
    good = sightings("poison", findings=50, per_finding=2)
    produce(bus, good[:50])
    poison = {
        b"{not json": "message is not JSON",
        b'{"type": "finding", "schema_version": "7.0", "key": "k", "produced_at": "2026-01-01T00:00:00Z", '
        b'"payload": {}}': "newer than this reader",
        b'{"type": "finding", "schema_version": "1.0", "key": "k", "produced_at": "2026-01-01T00:00:00Z", '
        b'"payload": {"kind": "credential"}}': "invalid finding payload",
        b'{"type": "gossip", "schema_version": "1.0", "key": "k", "produced_at": "2026-01-01T00:00:00Z", '
        b'"payload": {}}': "unknown event type",
    }
    for raw in poison:
        bus.send(Topic.FINDINGS, "space:poison0/app", raw)
    bus.send(Topic.ASSETS, "space:poison0/app", encode(good[0]))  # a finding on the assets topic
    bus.flush()
    produce(bus, good[50:])
    publish_asset = Asset.space("poison0/app")
    bus.send(Topic.ASSETS, publish_asset.id, encode(publish_asset))
    bus.flush()
    stop = threading.Event()
    metrics = IndexerMetrics(CollectorRegistry())
    topics = {f"{names['prefix']}.{t.value}": t for t in INDEXED_TOPICS}
    lag = LagWatch(KafkaLagProbe(bus.bootstrap, topics, names["group"]), metrics.consumer_lag, stop)
    indexer = Indexer(bus, store, group=names["group"], batch_size=20, batch_wait_s=0.1, metrics=metrics,
                      caught_up=lag.caught_up)
    stats = indexer.run(stop, exit_when_idle_s=1)
    stop.set()
    assert (stats.indexed, stats.dead_lettered) == (len(good) + 1, len(poison) + 1)
    assert_indexed_exactly_once(store, good, stack["opensearch"])
    assert store.get(Entity.ASSETS, publish_asset.id) is not None
    dead = open_bus(f"kafka://{stack['kafka']}", prefix=names["prefix"]).consumer([Topic.DEADLETTER], "inspect")
    parked: list[Message] = []
    deadline = time.monotonic() + 60
    while len(parked) < len(poison) + 1 and time.monotonic() < deadline:
        parked.extend(dead.poll(timeout_s=1.0))
    dead.close()
    reasons = {m.value: dict(m.headers)["x-deadletter-reason"].decode() for m in parked}
    for raw, reason in poison.items():
        assert reason in reasons[raw]
    assert "finding does not belong on the assets topic" in reasons[encode_value(parked, Topic.ASSETS)]


def encode_value(parked: list[Message], source: Topic) -> bytes:
    [value] = [m.value for m in parked if dict(m.headers)["x-source-topic"] == source.value.encode()]
    return bytes(value)


def test_kill_9_then_restart_loses_nothing_and_duplicates_nothing(
        stack: dict[str, Any], names: dict[str, str], pair: tuple[KafkaBus, SearchEngineStore],
        processes: list[IndexerProcess], tmp_path: Path) -> None:
    bus, store = pair
    events = sightings("kill", findings=2000, per_finding=3)
    produce(bus, events)
    store_url = f"opensearch+{stack['opensearch']}"
    first = IndexerProcess(stack["kafka"], store_url, names["prefix"], names["group"], tmp_path, "first", 100)
    processes.append(first)
    wait_for(lambda: recorded_sightings(store, stack["opensearch"]) >= 1500, 120, "the first indexer to get going")
    first.kill9()
    assert recorded_sightings(store, stack["opensearch"]) < len(events), "killed mid-stream"
    second = IndexerProcess(stack["kafka"], store_url, names["prefix"], names["group"], tmp_path, "second", 100,
                            "--exit-when-idle", "5")
    processes.append(second)
    assert second.proc.wait(180) == 0, second.output()[-3000:]
    assert_indexed_exactly_once(store, events, stack["opensearch"])
    assert "indexed 0 event(s)" not in second.output(), "the restarted indexer picked up the rest"


def members_with_partitions(kafka: str, group: str) -> int:
    """Members of a settled group that own at least one partition (a joining member owns none yet)."""
    admin = KafkaAdminClient(bootstrap_servers=kafka)
    try:
        info = admin.describe_groups([group])[group]
    finally:
        admin.close()
    if info["group_state"] != "Stable":
        return 0
    return sum(1 for m in info["members"]
               if any(a["partitions"] for a in m["member_assignment"]["assigned_partitions"]))


def test_indexer_processes_share_the_partitions_and_report_metrics(
        stack: dict[str, Any], names: dict[str, str], pair: tuple[KafkaBus, SearchEngineStore],
        processes: list[IndexerProcess], tmp_path: Path) -> None:
    bus, store = pair
    store_url = f"opensearch+{stack['opensearch']}"
    indexers = [IndexerProcess(stack["kafka"], store_url, names["prefix"], names["group"], tmp_path, f"p{i}", 100)
                for i in range(2)]
    processes.extend(indexers)
    wait_for(lambda: members_with_partitions(stack["kafka"], names["group"]) == 2, 90,
             "both processes to own partitions")
    events = sightings("share", findings=1500, per_finding=2)
    produce(bus, events)
    wait_for(lambda: searchable(store) == 1500, 180, "all findings indexed")

    def indexed() -> list[float]:
        return [p.metric("exposurewatch_indexer_documents_total", outcome="indexed") or 0 for p in indexers]

    # The lag gauge refreshes every 2 s and read 0 before the events were produced: wait for the counters first.
    wait_for(lambda: sum(indexed()) >= len(events), 60, "every sighting counted as indexed")
    lag = "exposurewatch_indexer_consumer_lag_messages"
    wait_for(lambda: all(p.metric(lag, topic="findings") == 0 for p in indexers), 60, "lag back to 0")
    shares = indexed()
    latency = [p.metric("exposurewatch_indexer_end_to_end_latency_seconds_count") or 0 for p in indexers]
    assert [p.stop() for p in indexers] == [0, 0]
    assert all(n > 0 for n in shares), f"each process indexed a share: {shares}"
    assert sum(shares) >= len(events) and sum(latency) >= len(events)
    assert_indexed_exactly_once(store, events, stack["opensearch"])
