"""Message bus: protocol in :mod:`services.bus.base`, drivers chosen by URL scheme."""

from __future__ import annotations

from urllib.parse import urlsplit

from services.bus.base import Bus, CommitRefused, Consumer, Message, Topic, publish, topic_name

__all__ = ["Bus", "CommitRefused", "Consumer", "Message", "Topic", "open_bus", "publish", "topic_name"]


def open_bus(url: str, prefix: str = "exposurewatch", partitions: int = 6) -> Bus:
    """``memory://`` or ``kafka://host:port[,host:port]``; anything else is a clear error."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        from services.bus.memory import MemoryBus

        return MemoryBus()
    if scheme == "kafka":
        from services.bus.kafka import KafkaBus

        hosts = url.split("://", 1)[1].strip("/")
        bootstrap = [h for h in hosts.split(",") if h]
        if not bootstrap:
            raise ValueError(f"bus URL {url!r} names no broker: use kafka://host:port[,host:port]")
        return KafkaBus(bootstrap, prefix=prefix, partitions=partitions)
    raise ValueError(f"unsupported bus URL {url!r}: use memory:// or kafka://host:port[,host:port]")
