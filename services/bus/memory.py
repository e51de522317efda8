"""In-process bus for the embedded, one-process mode: one partition per topic, group offsets kept in memory."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence

from services.bus.base import Message, Topic


class MemoryBus:
    def __init__(self) -> None:
        self._logs: dict[Topic, list[Message]] = defaultdict(list)
        self._committed: dict[tuple[str, Topic], int] = defaultdict(int)
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)

    def send(
        self, topic: Topic, key: str | None, value: bytes, headers: Sequence[tuple[str, bytes]] = ()
    ) -> None:
        with self._lock:
            log = self._logs[topic]
            log.append(Message(topic, 0, len(log), key, value, tuple(headers)))
            self._arrived.notify_all()

    def flush(self, timeout_s: float | None = None) -> None:
        """Nothing is buffered: a send is visible to consumers at once."""

    def consumer(self, topics: Sequence[Topic], group: str) -> MemoryConsumer:
        return MemoryConsumer(self, tuple(topics), group)

    def close(self) -> None:
        """Nothing to release; present to satisfy the protocol."""

    def size(self, topic: Topic) -> int:
        with self._lock:
            return len(self._logs[topic])


class MemoryConsumer:
    """Reads from the group's committed offset; uncommitted reads are re-delivered to the next consumer."""

    def __init__(self, bus: MemoryBus, topics: tuple[Topic, ...], group: str) -> None:
        self._bus = bus
        self._topics = topics
        self._group = group
        with bus._lock:
            self._position = {t: bus._committed[(group, t)] for t in topics}

    def poll(self, timeout_s: float = 1.0, max_records: int = 500) -> list[Message]:
        bus = self._bus
        with bus._arrived:
            if not self._pending():
                bus._arrived.wait(timeout_s)
            batch: list[Message] = []
            for topic in self._topics:
                log = bus._logs[topic]
                start = self._position[topic]
                taken = log[start : start + max_records - len(batch)]
                batch.extend(taken)
                self._position[topic] = start + len(taken)
            return batch

    def _pending(self) -> bool:
        return any(len(self._bus._logs[t]) > self._position[t] for t in self._topics)

    def commit(self) -> None:
        with self._bus._lock:
            for topic, offset in self._position.items():
                self._bus._committed[(self._group, topic)] = offset

    def close(self) -> None:
        """Uncommitted positions are dropped, as a Kafka consumer leaving its group would."""
