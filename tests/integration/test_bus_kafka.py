"""The Kafka bus driver against the real broker: keys, per-key order, consumer-group commits."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaAdminClient

from services.bus import CommitRefused, Message, Topic, open_bus, publish, topic_name
from services.bus.kafka import BusUnavailable, KafkaBus, KafkaGroupConsumer
from services.events import Finding, decode
from services.stack import harness

pytestmark = pytest.mark.integration


@pytest.fixture
def bus(stack: dict[str, Any]) -> Iterator[KafkaBus]:
    """A bus on a fresh topic prefix so runs and tests never share a log; its topics are deleted afterwards."""
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    opened = open_bus(f"kafka://{stack['kafka']}", prefix=prefix, partitions=3)
    assert isinstance(opened, KafkaBus)
    yield opened
    opened.close()
    harness.drop_bus_topics(stack["kafka"], prefix)


def drain(consumer: Any, want: int, deadline_s: float = 60) -> list[Message]:
    got: list[Message] = []
    end = time.monotonic() + deadline_s
    while len(got) < want and time.monotonic() < end:
        got.extend(consumer.poll(timeout_s=1.0))
    return got


def finding(asset: int, seq: int) -> Finding:
    return Finding(kind="credential", provider="openai", severity="high", confidence=0.9,
                   asset_id=f"space:o/a{asset}", fingerprint=f"{asset:04d}{seq:028d}", detector="d",
                   detector_version="1", line=seq + 1)


def test_topics_are_created_with_prefix_and_partitions(bus: KafkaBus) -> None:
    from kafka import KafkaAdminClient

    bus.ensure_topics()
    admin = KafkaAdminClient(bootstrap_servers=bus.bootstrap)
    try:
        topics = {t["name"]: t for t in admin.describe_topics([f"{bus.prefix}.{t.value}" for t in Topic])}
    finally:
        admin.close()
    assert set(topics) == {f"{bus.prefix}.{t}" for t in ("assets", "findings", "crawl-requests", "deadletter")}
    assert all(len(t["partitions"]) == 3 for t in topics.values())


def test_keys_and_per_key_order_survive_the_broker(bus: KafkaBus) -> None:
    sent = [finding(asset, seq) for seq in range(20) for asset in range(5)]
    for event in sent:
        publish(bus, event)
    bus.flush()
    consumer = bus.consumer([Topic.FINDINGS], group="order")
    got = drain(consumer, len(sent))
    consumer.close()
    bus.close()
    assert len(got) == len(sent)
    partitions: dict[str, set[int]] = {}
    lines: dict[str, list[int]] = {}
    for message in got:
        event = decode(message.value)
        assert isinstance(event, Finding) and message.key == event.asset_id
        partitions.setdefault(event.asset_id, set()).add(message.partition)
        lines.setdefault(event.asset_id, []).append(event.line or 0)
    assert all(len(p) == 1 for p in partitions.values()), "one key, one partition"
    assert all(seq == sorted(seq) for seq in lines.values()), "order kept per key"


def test_uncommitted_work_is_redelivered_to_the_group(bus: KafkaBus) -> None:
    for seq in range(10):
        publish(bus, finding(1, seq))
    bus.flush()
    first = bus.consumer([Topic.FINDINGS], group="workers")
    assert len(drain(first, 10)) == 10
    first.close()  # crashed before commit
    second = bus.consumer([Topic.FINDINGS], group="workers")
    again = drain(second, 10)
    assert len(again) == 10
    second.commit()
    second.close()
    publish(bus, finding(1, 99))
    bus.flush()
    third = bus.consumer([Topic.FINDINGS], group="workers")
    rest = drain(third, 1)
    third.close()
    bus.close()
    assert [decode(m.value).line for m in rest] == [100], "committed offsets are not re-read"


def test_unreachable_broker_is_a_clear_error() -> None:
    bus = open_bus("kafka://127.0.0.1:9", prefix="none")
    with pytest.raises(BusUnavailable, match=r"127\.0\.0\.1:9"):
        bus.send(Topic.ASSETS, "k", b"v")


def test_a_commit_the_group_no_longer_accepts_is_refused_in_bus_terms(bus: KafkaBus) -> None:
    """A member that stalled past its poll interval has left the group; its commit must fail as CommitRefused,
    which the indexer logs and survives, not as a driver exception."""
    for seq in range(3):
        publish(bus, finding(1, seq))
    bus.flush()
    # The heartbeat thread checks the poll interval only when it wakes, once per heartbeat: at the default 3 s it
    # could notice the stall after the commit below was already sent, and the commit would go through.
    stalled = KafkaGroupConsumer(bus, [Topic.FINDINGS], "workers", max_poll_interval_ms=1000, heartbeat_interval_ms=100)
    assert len(drain(stalled, 3)) == 3
    time.sleep(3)  # well past max_poll_interval_ms: the heartbeat thread has left the group
    with pytest.raises(CommitRefused):
        stalled.commit()
    stalled.close()
    bus.close()


def test_dropping_a_prefix_deletes_its_topics_and_no_others(stack: dict[str, Any]) -> None:
    kept, dropped = (f"test-{uuid.uuid4().hex[:8]}" for _ in range(2))
    for prefix in (kept, dropped):
        opened = open_bus(f"kafka://{stack['kafka']}", prefix=prefix, partitions=1)
        assert isinstance(opened, KafkaBus)
        opened.ensure_topics()
    harness.drop_bus_topics(stack["kafka"], dropped)
    admin = KafkaAdminClient(bootstrap_servers=stack["kafka"])
    try:
        deadline = time.monotonic() + 30
        while any(name.startswith(f"{dropped}.") for name in admin.list_topics()) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = set(admin.list_topics())
    finally:
        admin.close()
    harness.drop_bus_topics(stack["kafka"], kept)
    assert not any(name.startswith(f"{dropped}.") for name in left)
    assert {topic_name(kept, topic) for topic in Topic} <= left
