"""The bus protocol: what producers and consumers need, apart from any driver.

Drivers (``memory://``, ``kafka://``) are chosen by URL scheme in :func:`services.bus.open_bus`.
Messages are raw bytes (an encoded :class:`services.events.Envelope`) so that a consumer
decides, per message, whether it can read it; a poison message never blocks a partition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from services.events import Asset, CrawlRequest, Finding, decode, encode, event_key


class Topic(StrEnum):
    ASSETS = "assets"
    FINDINGS = "findings"
    CRAWL_REQUESTS = "crawl-requests"
    DEADLETTER = "deadletter"

    @classmethod
    def for_event(cls, event: Asset | Finding | CrawlRequest) -> Topic:
        return {"asset": cls.ASSETS, "finding": cls.FINDINGS, "crawl_request": cls.CRAWL_REQUESTS}[event.type]


def topic_name(prefix: str, topic: Topic) -> str:
    return f"{prefix}.{topic.value}"


@dataclass(frozen=True)
class Message:
    """One record as a consumer sees it; ``value`` is undecoded so bad input can be dead-lettered."""

    topic: Topic
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = field(default=())

    def event(self) -> Asset | Finding | CrawlRequest:
        """Decode the payload; raises :class:`services.events.SchemaError` for a message to dead-letter."""
        return decode(self.value)


class CommitRefused(RuntimeError):
    """The group refused an offset commit, e.g. because a rebalance moved the partitions to another member."""


class Consumer(Protocol):
    """A member of a consumer group. Offsets move only on :meth:`commit`, after the caller's work is done."""

    def poll(self, timeout_s: float = 1.0, max_records: int = 500) -> list[Message]: ...

    def commit(self) -> None:
        """Commit everything polled so far; raises :class:`CommitRefused` if the group will not take it."""

    def close(self) -> None: ...


class Bus(Protocol):
    def send(
        self, topic: Topic, key: str | None, value: bytes, headers: Sequence[tuple[str, bytes]] = ()
    ) -> None: ...

    def flush(self, timeout_s: float | None = None) -> None: ...

    def consumer(self, topics: Sequence[Topic], group: str) -> Consumer: ...

    def close(self) -> None: ...


def publish(bus: Bus, event: Asset | Finding | CrawlRequest) -> None:
    """Send an event to its topic, keyed by asset id so one asset's events stay in order."""
    bus.send(Topic.for_event(event), event_key(event), encode(event))
