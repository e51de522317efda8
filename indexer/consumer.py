"""The indexer: a consumer-group member moving assets and findings from the bus into the store.

Offsets are committed only after the store acknowledged the batch (at-least-once delivery); the
store's idempotent upserts under deterministic ids turn that into an exactly-once effect.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from indexer.deadletter import dead_letter
from services.bus import Bus, Consumer, Message, Topic
from services.events import Asset, Finding, SchemaError
from services.store import Store, StoreError

log = logging.getLogger(__name__)

INDEXED_TOPICS = (Topic.ASSETS, Topic.FINDINGS)
MAX_BACKOFF_S = 30.0


@dataclass
class IndexerStats:
    indexed: int = 0
    dead_lettered: int = 0
    batches: int = 0
    store_failures: int = 0
    last_message_at: float = field(default_factory=time.monotonic)


class Indexer:
    def __init__(
        self,
        bus: Bus,
        store: Store,
        group: str = "exposurewatch-indexer",
        batch_size: int = 500,
        batch_wait_s: float = 0.5,
    ) -> None:
        self.bus = bus
        self.store = store
        self.group = group
        self.batch_size = batch_size
        self.batch_wait_s = batch_wait_s
        self.stats = IndexerStats()

    def split(self, messages: list[Message]) -> list[Asset | Finding]:
        """Decode a batch; unreadable or misplaced messages go to the dead-letter topic at once."""
        events: list[Asset | Finding] = []
        for message in messages:
            try:
                event = message.event()
                if not isinstance(event, Asset | Finding):
                    raise SchemaError(f"{event.type} does not belong on the {message.topic} topic")
            except SchemaError as exc:
                dead_letter(self.bus, message, str(exc))
                self.stats.dead_lettered += 1
                continue
            events.append(event)
        return events

    def write(self, events: list[Asset | Finding], stop: threading.Event) -> bool:
        """Upsert until the store acknowledges, backing off while it is down; False if told to stop first."""
        backoff = 0.5
        while not stop.is_set():
            try:
                self.store.upsert(events)
                return True
            except StoreError as exc:
                self.stats.store_failures += 1
                log.warning("store unavailable, retrying in %.1fs: %s", backoff, exc)
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
        return False

    def run(self, stop: threading.Event, exit_when_idle_s: float | None = None) -> IndexerStats:
        consumer: Consumer = self.bus.consumer(INDEXED_TOPICS, self.group)
        try:
            while not stop.is_set():
                messages = consumer.poll(timeout_s=self.batch_wait_s, max_records=self.batch_size)
                if not messages:
                    idle = time.monotonic() - self.stats.last_message_at
                    if exit_when_idle_s is not None and idle >= exit_when_idle_s:
                        break
                    continue
                self.stats.last_message_at = time.monotonic()
                events = self.split(messages)
                if events and not self.write(events, stop):
                    break
                self.bus.flush()
                consumer.commit()
                self.stats.indexed += len(events)
                self.stats.batches += 1
        finally:
            consumer.close()
        return self.stats
