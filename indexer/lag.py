"""Consumer lag of the indexer's group, read from Kafka the way an operator's tool reads it.

Lag is the log-end offset minus the group's committed offset, summed per topic. It is measured from the
broker rather than from this process's fetch position, so it counts what the whole group still owes the store
(work fetched but not yet acknowledged included) and every member reports the same figure.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec
from kafka.errors import KafkaError
from prometheus_client import Gauge

from services.bus import Topic

log = logging.getLogger(__name__)

LAG_INTERVAL_S = 2.0


class KafkaLagProbe:
    """Reads end offsets and the group's committed offsets with one admin client."""

    def __init__(self, bootstrap: list[str], topics: Mapping[str, Topic], group: str) -> None:
        self.bootstrap = bootstrap
        self.topics = dict(topics)
        self.group = group
        self._admin: KafkaAdminClient | None = None

    def measure(self) -> dict[Topic, int]:
        if self._admin is None:
            self._admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=f"{self.group}-lag")
        admin = self._admin
        partitions = [TopicPartition(t["name"], p["partition_index"])
                      for t in admin.describe_topics(list(self.topics)) for p in t["partitions"]]
        ends = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in partitions})
        starts = admin.list_partition_offsets({tp: OffsetSpec.EARLIEST for tp in partitions})
        committed = admin.list_group_offsets({self.group: None}).get(self.group, {})
        lag = dict.fromkeys(self.topics.values(), 0)
        for tp in partitions:
            done = committed[tp].offset if tp in committed and committed[tp].offset >= 0 else starts[tp].offset
            lag[self.topics[tp.topic]] += max(0, ends[tp].offset - done)
        return lag

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None


class LagWatch:
    """Refreshes the lag gauge every ``interval_s`` on a daemon thread until ``stop``.

    A broker outage keeps the last value (and says so in the log) rather than stalling the indexer. The latest
    measurement also tells a process started with ``--exit-when-idle`` whether the group still owes anything.
    """

    def __init__(self, probe: KafkaLagProbe, gauge: Gauge, stop: threading.Event,
                 interval_s: float = LAG_INTERVAL_S) -> None:
        self.probe = probe
        self.gauge = gauge
        self.stop = stop
        self.interval_s = interval_s
        self.latest: dict[Topic, int] | None = None
        self.thread = threading.Thread(target=self._loop, name="indexer-lag", daemon=True)
        self.thread.start()

    def caught_up(self) -> bool:
        """True once a measurement found nothing left to consume; unknown (no measurement yet) is not caught up."""
        latest = self.latest
        return latest is not None and sum(latest.values()) == 0

    def _loop(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    measured = self.probe.measure()
                except (KafkaError, OSError) as exc:
                    log.info("consumer lag not measured this time: %s", exc)
                    self.latest = None
                    self.probe.close()
                else:
                    for topic, lag in measured.items():
                        self.gauge.labels(topic.value).set(lag)
                    self.latest = measured
                self.stop.wait(self.interval_s)
        finally:
            self.probe.close()
