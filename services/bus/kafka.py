"""Kafka driver (kafka-python 3.x): acks=all, idempotent producer, keyed by asset id, manual commits."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.serializer import DefaultSerializer

from services.bus.base import CommitRefused, Message, Topic, topic_name

SESSION_TIMEOUT_MS = 10_000
"""A member that dies (kill -9) hands its partitions to the rest of the group after this long."""
FETCH_BYTES_PER_PARTITION = 8 << 20
"""Up to this much per partition and fetch: a backlog arrives in a few round trips instead of one per
~1,600 messages (kafka-python's default is 1 MiB)."""


class BusUnavailable(RuntimeError):
    """The brokers cannot be reached; says which ones, so the operator knows what to start."""


class KafkaBus:
    def __init__(self, bootstrap: Sequence[str], prefix: str, partitions: int = 6) -> None:
        self.bootstrap = list(bootstrap)
        self.prefix = prefix
        self.partitions = partitions
        self._producer: KafkaProducer | None = None
        self._topics_ready = False

    def _names(self, topics: Sequence[Topic]) -> dict[str, Topic]:
        return {topic_name(self.prefix, t): t for t in topics}

    def ensure_topics(self) -> None:
        """Create the project's topics with the configured partition count (existing ones are left alone)."""
        if self._topics_ready:
            return
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id="exposurewatch-admin")
        except KafkaError as exc:
            raise BusUnavailable(f"cannot reach Kafka at {','.join(self.bootstrap)}: {exc}") from exc
        try:
            wanted = {name: {"num_partitions": self.partitions, "replication_factor": -1}
                      for name in self._names(list(Topic))}
            existing = set(admin.list_topics())
            missing = {n: o for n, o in wanted.items() if n not in existing}
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    admin.create_topics(missing, wait_for_metadata=True)
        finally:
            admin.close()
        self._topics_ready = True

    @property
    def producer(self) -> KafkaProducer:
        if self._producer is None:
            self.ensure_topics()
            try:
                self._producer = KafkaProducer(
                    bootstrap_servers=self.bootstrap,
                    acks="all",
                    enable_idempotence=True,
                    linger_ms=5,
                    key_serializer=DefaultSerializer(),
                    client_id="exposurewatch",
                )
            except KafkaError as exc:
                raise BusUnavailable(f"cannot reach Kafka at {','.join(self.bootstrap)}: {exc}") from exc
        return self._producer

    def send(
        self, topic: Topic, key: str | None, value: bytes, headers: Sequence[tuple[str, bytes]] = ()
    ) -> None:
        self.producer.send(topic_name(self.prefix, topic), value=value, key=key, headers=list(headers))

    def flush(self, timeout_s: float | None = None) -> None:
        if self._producer is not None:
            self._producer.flush(timeout=timeout_s)

    def consumer(self, topics: Sequence[Topic], group: str) -> KafkaGroupConsumer:
        self.ensure_topics()
        return KafkaGroupConsumer(self, topics, group)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush()
            self._producer.close()
            self._producer = None


class KafkaGroupConsumer:
    """A consumer-group member with auto-commit off: offsets advance only when :meth:`commit` is called."""

    def __init__(self, bus: KafkaBus, topics: Sequence[Topic], group: str, **overrides: Any) -> None:
        self._by_name = bus._names(topics)
        settings: dict[str, Any] = {
            "bootstrap_servers": bus.bootstrap,
            "group_id": group,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "client_id": f"exposurewatch-{group}",
            "session_timeout_ms": SESSION_TIMEOUT_MS,
            "heartbeat_interval_ms": 3000,
            "max_partition_fetch_bytes": FETCH_BYTES_PER_PARTITION,
        }
        self._consumer = KafkaConsumer(*self._by_name, **(settings | overrides))

    def poll(self, timeout_s: float = 1.0, max_records: int = 500) -> list[Message]:
        batches = self._consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        out: list[Message] = []
        for records in batches.values():
            for r in records:
                out.append(
                    Message(
                        topic=self._by_name[r.topic],
                        partition=r.partition,
                        offset=r.offset,
                        key=r.key.decode() if r.key is not None else None,
                        value=r.value,
                        headers=tuple((k, v) for k, v in (r.headers or [])),
                    )
                )
        return out

    def commit(self) -> None:
        try:
            self._consumer.commit()
        except KafkaError as exc:
            raise CommitRefused(str(exc)) from exc

    def close(self) -> None:
        self._consumer.close(autocommit=False)
