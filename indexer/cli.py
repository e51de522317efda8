"""``exposurewatch index``: one indexer process in the consumer group of the assets and findings topics."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer
from rich.console import Console

from indexer.consumer import Indexer
from services.bus import open_bus
from services.config import get_settings
from services.store import StoreError, open_store

console = Console(stderr=True)


def index(
    bus: Annotated[str | None, typer.Option(help="kafka://host:port[,host:port] (default: settings).")] = None,
    store: Annotated[str | None, typer.Option(help="opensearch+http://… or elasticsearch+https://…")] = None,
    group: Annotated[str, typer.Option(help="Consumer group; processes in one group share the partitions.")] = (
        "exposurewatch-indexer"),
    batch_size: Annotated[int, typer.Option(min=1, help="Most messages per bulk request.")] = 500,
    batch_wait: Annotated[float, typer.Option(min=0.01, help="Longest wait (s) to fill a batch.")] = 0.5,
    exit_when_idle: Annotated[float | None, typer.Option(help="Exit after this many idle seconds.")] = None,
) -> None:
    """Consume assets and findings from the bus and upsert them into the store."""
    settings = get_settings()
    try:
        opened_bus = open_bus(bus or settings.bus_url, settings.topic_prefix, settings.kafka_partitions)
        opened_store = open_store(store or settings.store_url, settings.index_prefix)
    except (ValueError, StoreError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    indexer = Indexer(opened_bus, opened_store, group=group, batch_size=batch_size, batch_wait_s=batch_wait)
    stats = indexer.run(stop, exit_when_idle_s=exit_when_idle)
    opened_bus.close()
    opened_store.close()
    console.print(f"indexed {stats.indexed} event(s) in {stats.batches} batch(es); "
                  f"dead-lettered {stats.dead_lettered}; store retries {stats.store_failures}")
