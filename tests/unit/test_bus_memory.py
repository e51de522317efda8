"""The in-process bus behaves like a one-partition Kafka: group offsets move only on commit."""

from __future__ import annotations

import threading

import pytest

from services.bus import Topic, open_bus, publish
from services.bus.memory import MemoryBus
from services.events import Asset, decode


def test_open_bus_picks_driver_by_scheme() -> None:
    assert isinstance(open_bus("memory://"), MemoryBus)
    with pytest.raises(ValueError, match="unsupported bus URL"):
        open_bus("amqp://x")
    with pytest.raises(ValueError, match="names no broker"):
        open_bus("kafka://")


def test_publish_routes_events_to_their_topic_keyed_by_asset() -> None:
    bus = MemoryBus()
    publish(bus, Asset.space("alice/demo"))
    [message] = bus.consumer([Topic.ASSETS], "g").poll(timeout_s=0)
    assert message.key == "space:alice/demo"
    assert decode(message.value).id == "space:alice/demo"


def test_uncommitted_messages_are_redelivered_to_the_next_group_member() -> None:
    bus = MemoryBus()
    for i in range(5):
        bus.send(Topic.FINDINGS, "k", str(i).encode())
    first = bus.consumer([Topic.FINDINGS], "indexer")
    assert [m.value for m in first.poll(timeout_s=0, max_records=2)] == [b"0", b"1"]
    first.commit()
    first.poll(timeout_s=0)  # read but crash before commit
    first.close()
    second = bus.consumer([Topic.FINDINGS], "indexer")
    assert [m.value for m in second.poll(timeout_s=0)] == [b"2", b"3", b"4"]
    assert bus.consumer([Topic.FINDINGS], "other-group").poll(timeout_s=0)[0].value == b"0"


def test_poll_wakes_when_a_message_arrives() -> None:
    bus = MemoryBus()
    consumer = bus.consumer([Topic.ASSETS], "g")
    threading.Timer(0.05, bus.send, args=(Topic.ASSETS, None, b"x")).start()
    assert [m.value for m in consumer.poll(timeout_s=5)] == [b"x"]
