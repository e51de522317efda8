"""Indexer throughput against a raw ``helpers.bulk`` of the same documents, and end-to-end latency at steady load.

Runs against the Kafka and OpenSearch of `exposurewatch stack up` (started if needed), on fresh topics and
indices that are deleted afterwards.

1. Throughput: N findings are produced to Kafka first; the indexer (the real :class:`indexer.consumer.Indexer`
   over the Kafka bus and the OpenSearch store, default batch size, GIL switch interval as ``exposurewatch index``
   sets it) then consumes, bulk-upserts and commits them all; its clock runs from its first batch in hand (after
   joining the consumer group, reported apart) to the last acknowledgement. Against it, opensearch-py
   ``helpers.bulk`` writes the same documents into the same node twice, timed from actions in hand to the end:

   - the very bulk operations the store sends (scripted upsert keeping first_seen/last_seen/sightings, plus one
     immutable sighting in the events stream), in the same batches: what the consumer pipeline costs;
   - plain ``index`` operations of the same documents into an index with the same template: what the
     exactly-once history semantics cost on top.

2. Latency: a producer sends findings at a steady rate, each stamped ``discovered_at`` = now; the indexer records
   every finding's time from ``discovered_at`` to the store's acknowledgement (the metric
   ``exposurewatch_indexer_end_to_end_latency_seconds``), reported as p50 and p95.

    python bench/bench_indexer.py --events 50000 --rounds 5 --rate 1000 --duration 30
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

from opensearchpy import OpenSearch, helpers
from prometheus_client import CollectorRegistry

from indexer.consumer import GIL_SWITCH_INTERVAL_S, Indexer
from services.bus import Consumer, Message, Topic, open_bus
from services.bus.kafka import KafkaBus
from services.events import Finding, encode, event_key, utcnow
from services.metrics import IndexerMetrics
from services.stack import harness
from services.store import open_store
from services.store.base import new_document
from services.store.search_engine import SearchEngineStore

PROVIDERS = ("openai", "anthropic", "mistral", "huggingface", "google")
SEVERITIES = ("low", "medium", "high", "critical")


def findings(tag: str, n: int) -> list[Finding]:
    now = utcnow()
    return [
        Finding(
            kind="credential",
            provider=PROVIDERS[i % 5],
            severity=SEVERITIES[i % 4],
            confidence=0.9,
            asset_id=f"space:{tag}{i % 2000}/app{i % 7}",
            path=f"src/app{i}.py",
            line=i % 400 + 1,
            fingerprint=f"{i:032x}",
            redacted=f"sk-…{i % 10000:04d}",
            detector="bench-key",
            detector_version="1",
            models=["gpt-4o"] if i % 9 == 0 else [],
            discovered_at=now + timedelta(microseconds=i),
        )
        for i in range(n)
    ]


def produce(bus: KafkaBus, events: list[Finding]) -> None:
    topic = f"{bus.prefix}.{Topic.FINDINGS.value}"
    futures = [bus.producer.send(topic, key=event_key(e), value=encode(e)) for e in events]
    for future in futures:
        future.get(timeout=120)


def open_engines(kafka: str, opensearch: str, prefix: str) -> tuple[KafkaBus, SearchEngineStore]:
    bus = open_bus(f"kafka://{kafka}", prefix=prefix, partitions=6)
    store = open_store(f"opensearch+{opensearch}", index_prefix=prefix)
    assert isinstance(bus, KafkaBus) and isinstance(store, SearchEngineStore)
    bus.ensure_topics()
    store.ensure_indices()
    return bus, store


class TimedIndexer(Indexer):
    """The indexer, noting when its first batch arrived: joining the consumer group (about 0.3 s, once per
    process) is start-up, not throughput, and the raw baseline has nothing like it."""

    first_batch_at: float | None = None

    def collect(self, consumer: Consumer, stop: threading.Event) -> list[Message]:
        messages = super().collect(consumer, stop)
        if messages and self.first_batch_at is None:
            self.first_batch_at = time.perf_counter()
        return messages


def indexer_throughput(kafka: str, opensearch: str, events: list[Finding], batch: int) -> tuple[float, float]:
    """Events/s from the first batch in hand to the last acknowledged, and the seconds spent joining the group."""
    prefix = f"bench-idx-{uuid.uuid4().hex[:6]}"
    bus, store = open_engines(kafka, opensearch, prefix)
    produce(bus, events)
    indexer = TimedIndexer(bus, store, group=prefix, batch_size=batch)
    stop = threading.Event()
    thread = threading.Thread(target=indexer.run, args=(stop,), daemon=True)
    started = time.perf_counter()
    thread.start()
    while indexer.stats.indexed < len(events):
        time.sleep(0.005)
    finished = time.perf_counter()
    stop.set()
    thread.join(60)
    bus.close()
    store.close()
    harness.drop_store_layout(opensearch, prefix)
    harness.drop_bus_topics(kafka, prefix)
    assert indexer.first_batch_at is not None
    return len(events) / (finished - indexer.first_batch_at), indexer.first_batch_at - started


def raw_bulk_same_operations(opensearch: str, events: list[Finding], batch: int) -> float:
    prefix = f"bench-raw-{uuid.uuid4().hex[:6]}"
    store = open_store(f"opensearch+{opensearch}", index_prefix=prefix)
    assert isinstance(store, SearchEngineStore)
    store.ensure_indices()
    actions: list[dict[str, Any]] = []
    for op in store._operations(events):
        [(kind, meta)] = op.action.items()
        actions.append(
            {
                "_op_type": kind,
                **{k: v for k, v in meta.items()},
                **(op.source if kind == "update" else {"_source": op.source}),
            }
        )
    client = OpenSearch([opensearch], timeout=60)
    started = time.perf_counter()
    helpers.bulk(client, actions, chunk_size=2 * batch, max_chunk_bytes=1 << 30)
    elapsed = time.perf_counter() - started
    client.close()
    store.close()
    harness.drop_store_layout(opensearch, prefix)
    return len(events) / elapsed


def raw_bulk_plain_index(opensearch: str, events: list[Finding], batch: int) -> float:
    prefix = f"bench-plain-{uuid.uuid4().hex[:6]}"
    store = open_store(f"opensearch+{opensearch}", index_prefix=prefix)
    assert isinstance(store, SearchEngineStore)
    store.ensure_indices()
    actions = [
        {"_op_type": "index", "_index": f"{prefix}-findings", "_id": e.id, "_source": new_document(e)} for e in events
    ]
    client = OpenSearch([opensearch], timeout=60)
    started = time.perf_counter()
    helpers.bulk(client, actions, chunk_size=batch, max_chunk_bytes=1 << 30)
    elapsed = time.perf_counter() - started
    client.close()
    store.close()
    harness.drop_store_layout(opensearch, prefix)
    return len(events) / elapsed


class Recorder:
    """Stands in for the latency histogram: keeps every observation for exact percentiles."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def observe(self, value: float) -> None:
        self.values.append(value)


def steady_latency(kafka: str, opensearch: str, rate: int, duration: float) -> tuple[float, float, int]:
    prefix = f"bench-lat-{uuid.uuid4().hex[:6]}"
    bus, store = open_engines(kafka, opensearch, prefix)
    metrics = IndexerMetrics(CollectorRegistry())
    recorder = Recorder()
    metrics.end_to_end_latency = recorder  # type: ignore[assignment]
    indexer = Indexer(bus, store, group=prefix, metrics=metrics)
    stop = threading.Event()
    thread = threading.Thread(target=indexer.run, args=(stop,), daemon=True)
    thread.start()
    time.sleep(3)  # join the group before the clock starts
    topic = f"{bus.prefix}.{Topic.FINDINGS.value}"
    sent = 0
    started = time.perf_counter()
    tick = 0.05
    while time.perf_counter() - started < duration:
        due = int((time.perf_counter() - started) * rate)
        for event in findings(f"lat{sent}-", due - sent):
            bus.producer.send(topic, key=event_key(event), value=encode(event))
        sent = due
        time.sleep(tick)
    bus.flush()
    deadline = time.monotonic() + 60
    while indexer.stats.indexed < sent and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(60)
    bus.close()
    store.close()
    harness.drop_store_layout(opensearch, prefix)
    harness.drop_bus_topics(kafka, prefix)
    values = sorted(recorder.values)
    return statistics.median(values), values[int(0.95 * (len(values) - 1))], len(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000, help="findings for the throughput runs")
    parser.add_argument("--batch", type=int, default=500, help="indexer batch size (and raw bulk chunk)")
    parser.add_argument("--rate", type=int, default=1000, help="findings/s for the latency run")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of steady load")
    parser.add_argument("--rounds", type=int, default=5, help="throughput rounds; the median is reported")
    args = parser.parse_args()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)  # as `exposurewatch index` runs; the raw baseline has one thread
    stack = harness.ensure_up(only="kafka,opensearch")
    kafka, opensearch = stack["kafka"], stack["opensearch"]
    events = findings("tp", args.events)
    rows: dict[str, list[float]] = {"indexer": [], "indexer + join": [], "raw same ops": [], "raw plain index": []}
    joins: list[float] = []
    for round_ in range(args.rounds):
        rate, join = indexer_throughput(kafka, opensearch, events, args.batch)
        rows["indexer"].append(rate)
        rows["indexer + join"].append(len(events) / (len(events) / rate + join))
        joins.append(join)
        rows["raw same ops"].append(raw_bulk_same_operations(opensearch, events, args.batch))
        rows["raw plain index"].append(raw_bulk_plain_index(opensearch, events, args.batch))
        print(f"round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in rows.items()), flush=True)
    median = {k: statistics.median(v) for k, v in rows.items()}
    print(f"\n{args.events:,} findings, batch {args.batch}, median of {args.rounds} rounds "
          f"(indexer clock from its first batch; joining the group took a median {statistics.median(joins):.2f}s)")
    for name, value in median.items():
        print(f"  {name:16} {value:>9,.0f} events/s")
    print(f"  ratio indexer / raw same ops:    {median['indexer'] / median['raw same ops']:.2f} "
          f"({median['indexer + join'] / median['raw same ops']:.2f} with the group join on the clock)")
    print(f"  ratio indexer / raw plain index: {median['indexer'] / median['raw plain index']:.2f}")
    p50, p95, n = steady_latency(kafka, opensearch, args.rate, args.duration)
    print(
        f"\nend-to-end latency at {args.rate}/s for {args.duration:.0f}s ({n:,} findings): "
        f"p50 {p50:.3f}s, p95 {p95:.3f}s"
    )


if __name__ == "__main__":
    main()
