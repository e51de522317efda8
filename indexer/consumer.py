"""The indexer: a consumer-group member moving assets and findings from the bus into the store.

Offsets are committed only after the store acknowledged the batch (at-least-once delivery); the
store's idempotent upserts under deterministic ids turn that into an exactly-once effect. Messages
that can never be written (unreadable, of the wrong type, or refused by the store for good) go to the
dead-letter topic with their reason, so they never hold a partition back.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry

from indexer.deadletter import dead_letter
from services.bus import Bus, CommitRefused, Consumer, Message, Topic
from services.events import Asset, Finding, SchemaError, utcnow
from services.metrics import IndexerMetrics
from services.store import DocumentsRejected, PreparedUpsert, Store, StoreError

log = logging.getLogger(__name__)

INDEXED_TOPICS = (Topic.ASSETS, Topic.FINDINGS)
OUTCOMES = ("indexed", "failed", "deadlettered")
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 10.0
"""A store back from an outage is used again within this long."""
GIL_SWITCH_INTERVAL_S = 0.001
"""For ``sys.setswitchinterval`` in an indexer process. At CPython's default 5 ms, the writer thread, woken by the
store's answer, queues that long behind the reader's decoding before it can send the next bulk request; at 1 ms
the store idles less (bench/bench_indexer.py: 0.93 -> 0.98 of a raw ``helpers.bulk``)."""


@dataclass
class IndexerStats:
    indexed: int = 0
    dead_lettered: int = 0
    batches: int = 0
    store_failures: int = 0
    last_message_at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Batch:
    """Decoded events, ready for the store, with the message each came from, so a refused event can be
    dead-lettered as it arrived."""

    upsert: PreparedUpsert
    sources: list[Message]


class Indexer:
    def __init__(
        self,
        bus: Bus,
        store: Store,
        group: str = "exposurewatch-indexer",
        batch_size: int = 500,
        batch_wait_s: float = 0.25,
        metrics: IndexerMetrics | None = None,
        caught_up: Callable[[], bool] | None = None,
        commit_interval_s: float = 1.0,
    ) -> None:
        self.bus = bus
        self.store = store
        self.group = group
        self.batch_size = batch_size
        self.batch_wait_s = batch_wait_s
        self.metrics = metrics or IndexerMetrics(CollectorRegistry())
        for outcome in OUTCOMES:  # exported at 0 from the start, so increase() sees the first document too
            self.metrics.documents.labels(outcome)
        self.commit_interval_s = commit_interval_s
        self.caught_up = caught_up
        """Whether the group owes nothing more (consumer lag 0); ``--exit-when-idle`` waits for it, so a process
        still waiting for its partitions (a dead member's session has not expired yet) does not leave early."""
        self.stats = IndexerStats()
        self._counting = threading.Lock()

    def collect(self, consumer: Consumer, stop: threading.Event) -> list[Message]:
        """One batch: up to ``batch_size`` messages, waiting at most ``batch_wait_s`` after the first arrived."""
        messages = list(consumer.poll(timeout_s=self.batch_wait_s, max_records=self.batch_size))
        deadline = time.monotonic() + self.batch_wait_s
        while messages and len(messages) < self.batch_size and not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            more = consumer.poll(timeout_s=left, max_records=self.batch_size - len(messages))
            if not more:
                break
            messages.extend(more)
        return messages

    def prepare(self, messages: list[Message]) -> Batch:
        """Decode a batch and build its store request; unreadable or misplaced messages go to the dead-letter topic
        at once."""
        events: list[Asset | Finding] = []
        sources: list[Message] = []
        for message in messages:
            try:
                event = message.event()
                if Topic.for_event(event) is not message.topic or not isinstance(event, Asset | Finding):
                    raise SchemaError(f"{event.type} does not belong on the {message.topic} topic")
            except SchemaError as exc:
                self._dead_letter(message, str(exc))
                continue
            events.append(event)
            sources.append(message)
        return Batch(self.store.prepare(events), sources)

    def _dead_letter(self, message: Message, reason: str) -> None:
        dead_letter(self.bus, message, reason)
        with self._counting:  # the reader (undecodable) and the writer (refused by the store) both park messages
            self.stats.dead_lettered += 1
        self.metrics.documents.labels("deadlettered").inc()

    def write(self, upsert: PreparedUpsert, stop: threading.Event) -> list[tuple[int, str]] | None:
        """Upsert until the store acknowledges, backing off while it fails.

        Returns the ``(position, reason)`` of events the store refused for good (empty if none), or ``None``
        if told to stop before the store acknowledged.
        """
        backoff = FIRST_BACKOFF_S
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.store.write(upsert)
            except DocumentsRejected as exc:
                self.metrics.bulk_latency.observe(time.monotonic() - started)
                return exc.rejected
            except StoreError as exc:
                self.stats.store_failures += 1
                self.metrics.documents.labels("failed").inc(len(upsert.items))
                log.warning("store write failed, retrying in %.1fs: %s", backoff, exc)
                stop.wait(backoff * random.uniform(0.8, 1.2))
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            self.metrics.bulk_latency.observe(time.monotonic() - started)
            return []
        return None

    def process(self, batch: Batch, stop: threading.Event) -> bool:
        """Write one decoded batch; True once everything in it is acknowledged or dead-lettered, so it may be
        committed."""
        refused: dict[int, str] = {}
        if batch.upsert.items:
            rejected = self.write(batch.upsert, stop)
            if rejected is None:
                return False
            refused = dict(rejected)
        for position, reason in refused.items():
            self._dead_letter(batch.sources[position], f"store refused the document: {reason}")
        acknowledged = utcnow()
        written = [e for i, e in enumerate(batch.upsert.items) if i not in refused]
        for event in written:
            if isinstance(event, Finding):
                self.metrics.end_to_end_latency.observe(max(0.0, (acknowledged - event.discovered_at).total_seconds()))
        self.metrics.documents.labels("indexed").inc(len(written))
        self.stats.indexed += len(written)
        self.stats.batches += 1
        return True

    def run(self, stop: threading.Event, exit_when_idle_s: float | None = None) -> IndexerStats:
        """Poll, decode and prepare the next batch on this thread while a writer thread has the store write the
        previous one.

        ``commit()`` commits everything polled so far, so the pipeline is drained before each commit: at most every
        ``commit_interval_s`` under load, and as soon as the bus runs dry. Offsets therefore never pass a message
        the store has not acknowledged; a crash replays at most one interval, which the idempotent store absorbs.
        """
        consumer: Consumer = self.bus.consumer(INDEXED_TOPICS, self.group)
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="indexer-write")
        writing: Future[bool] | None = None
        uncommitted = False
        last_commit = time.monotonic()
        try:
            while not stop.is_set():
                if writing is not None and time.monotonic() - last_commit >= self.commit_interval_s:
                    if not writing.result():
                        return self.stats
                    writing, uncommitted = None, True
                if writing is None and uncommitted:
                    self._commit(consumer)
                    uncommitted, last_commit = False, time.monotonic()
                messages = self.collect(consumer, stop)
                batch = self.prepare(messages) if messages else None
                if writing is not None:
                    if not writing.result():
                        return self.stats
                    writing, uncommitted = None, True
                if batch is None:
                    idle = time.monotonic() - self.stats.last_message_at
                    done = self.caught_up is None or self.caught_up()
                    if exit_when_idle_s is not None and idle >= exit_when_idle_s and done and not uncommitted:
                        break
                    continue
                self.stats.last_message_at = time.monotonic()
                self.metrics.batch_size.observe(len(messages))
                writing = writer.submit(self.process, batch, stop)
            if writing is not None:  # stopped: commit only if the last batch in hand was acknowledged too
                uncommitted = writing.result()
            if uncommitted:
                self._commit(consumer)
        finally:
            writer.shutdown(wait=True)
            consumer.close()
        return self.stats

    def _commit(self, consumer: Consumer) -> None:
        """Commit what was processed, once its dead letters are on the bus too. A refused commit (partitions moved
        to another member in a rebalance) only means the new owner re-reads those messages, which the idempotent
        store turns into no-ops."""
        self.bus.flush()
        try:
            consumer.commit()
        except CommitRefused as exc:
            log.warning("offset commit refused, the batch will be re-read by the partitions' new owner: %s", exc)
