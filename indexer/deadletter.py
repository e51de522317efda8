"""Dead-letter policy: a message the indexer cannot read is parked with its reason, never retried in place."""

from __future__ import annotations

from services.bus import Bus, Message, Topic


def dead_letter(bus: Bus, message: Message, reason: str) -> None:
    """Copy the raw message to the dead-letter topic with headers saying why and where it came from."""
    headers = (
        *message.headers,
        ("x-deadletter-reason", reason[:1000].encode()),
        ("x-source-topic", message.topic.value.encode()),
        ("x-source-partition", str(message.partition).encode()),
        ("x-source-offset", str(message.offset).encode()),
    )
    bus.send(Topic.DEADLETTER, message.key, message.value, headers)
