"""``exposurewatch index``: one indexer process in the consumer group of the assets and findings topics,
and ``exposurewatch index migrate``, the reindex-and-swap of the search indices."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Annotated

import typer
from prometheus_client import CollectorRegistry

from indexer.consumer import GIL_SWITCH_INTERVAL_S, INDEXED_TOPICS, Indexer
from indexer.lag import KafkaLagProbe, LagWatch
from services.bus import Bus, topic_name
from services.bus.kafka import BusUnavailable, KafkaBus
from services.config import get_settings, mask_url
from services.console import console, fail
from services.finding_options import open_bus_option, open_store_option
from services.metrics import IndexerMetrics, build_info, serve
from services.store import Entity, QueryError, Store, StoreError
from services.store.search_engine import SearchEngineStore

log = logging.getLogger(__name__)

index_app = typer.Typer(help="Index bus events into the store, and maintain the search indices.")


def _configure_logging(level: str) -> None:
    """Indexer progress and warnings go to stderr; the console keeps stdout for results.

    opensearch-py logs every non-2xx answer as a warning, expected ones too (a missing alias, an existing data
    stream); the store reports the failures that matter, with context, so the client's own log is kept to errors.
    kafka-python narrates every connection at INFO; its warnings and errors are enough.
    """
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("opensearch").setLevel(logging.ERROR)
    logging.getLogger("kafka").setLevel(logging.WARNING)


def _report_layout(store: Store) -> None:
    """Create indices and templates now, so a missing lifecycle manager is reported at start; a store that is down
    is only logged, since the indexer retries it with backoff anyway."""
    if not isinstance(store, SearchEngineStore):
        return
    try:
        store.ensure_indices()
    except StoreError as exc:
        log.warning("store not ready yet, the indexer will keep retrying: %s", exc)
        return
    if store.lifecycle is not None:
        log.log(logging.INFO if store.lifecycle.installed else logging.WARNING, "events lifecycle: %s",
                store.lifecycle.detail)


def _lag_watch(bus: Bus, group: str, metrics: IndexerMetrics, stop: threading.Event) -> LagWatch | None:
    if not isinstance(bus, KafkaBus):
        return None
    names = {topic_name(bus.prefix, t): t for t in INDEXED_TOPICS}
    return LagWatch(KafkaLagProbe(bus.bootstrap, names, group), metrics.consumer_lag, stop)


@index_app.callback(invoke_without_command=True)
def index(
    ctx: typer.Context,
    bus: Annotated[str | None, typer.Option(help="kafka://host:port[,host:port] (default: settings).")] = None,
    store: Annotated[str | None, typer.Option(help="opensearch+http://… or elasticsearch+https://…")] = None,
    group: Annotated[str, typer.Option(help="Consumer group; processes in one group share the partitions.")] = (
        "exposurewatch-indexer"),
    batch_size: Annotated[int, typer.Option(min=1, help="Most messages per bulk request.")] = 500,
    batch_wait: Annotated[float, typer.Option(min=0.01, help="Longest wait (s) to fill a batch.")] = 0.25,
    exit_when_idle: Annotated[float | None, typer.Option(
        help="Exit after this many idle seconds, once the group's consumer lag is 0 (Kafka).")] = None,
    metrics_port: Annotated[int | None, typer.Option(min=0, max=65535, help="Serve Prometheus /metrics on this "
                                                     "port (default: EXPOSUREWATCH_METRICS_PORT).")] = None,
) -> None:
    """Consume assets and findings from the bus and upsert them into the store."""
    if ctx.invoked_subcommand is not None:
        return
    settings = get_settings()
    _configure_logging(settings.log_level)
    opened_bus = open_bus_option(bus)
    opened_store = open_store_option(store)
    registry = CollectorRegistry()
    build_info(registry, "indexer")
    metrics = IndexerMetrics(registry)
    port = metrics_port if metrics_port is not None else settings.metrics_port
    if port is not None:
        server = serve(registry, port)
        log.info("serving /metrics on 127.0.0.1:%d", server.server_port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    _report_layout(opened_store)
    lag = _lag_watch(opened_bus, group, metrics, stop)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    indexer = Indexer(opened_bus, opened_store, group=group, batch_size=batch_size, batch_wait_s=batch_wait,
                      metrics=metrics, caught_up=lag.caught_up if lag else None)
    try:
        stats = indexer.run(stop, exit_when_idle_s=exit_when_idle)
    except BusUnavailable as exc:
        raise fail(str(exc), code=1) from exc
    finally:
        stop.set()
        opened_bus.close()
        opened_store.close()
    console.print(f"indexed {stats.indexed} event(s) in {stats.batches} batch(es) into "
                  f"{mask_url(store or settings.store_url)}; dead-lettered {stats.dead_lettered}; "
                  f"failed store writes {stats.store_failures}", highlight=False, soft_wrap=True)


@index_app.command("migrate")
def migrate(
    store: Annotated[str | None, typer.Option(help="opensearch+http://… or elasticsearch+https://…")] = None,
    entity: Annotated[list[Entity] | None, typer.Option(help="Only this entity (repeatable).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Reindex even if the mapping is current.")] = False,
    keep_old: Annotated[bool, typer.Option("--keep-old", help="Keep the old index (write-blocked).")] = False,
) -> None:
    """Reindex into a new index generation with this release's mappings, then swap the alias atomically."""
    _configure_logging(get_settings().log_level)
    opened = open_store_option(store)
    try:
        if not isinstance(opened, SearchEngineStore):
            raise fail("only search-engine stores have indices to migrate, not SQLite")
        for chosen in entity or list(Entity):
            done = opened.migrate(chosen, force=force, keep_old=keep_old)
            if done.reindexed:
                console.print(f"{chosen}: {done.source} -> {done.target}, {done.documents} document(s); "
                              f"alias {opened.alias(chosen)} swapped", highlight=False, soft_wrap=True)
            else:
                console.print(f"{chosen}: {done.source} already has the current mapping ({done.documents} "
                              f"document(s)); --force reindexes anyway", highlight=False, soft_wrap=True)
    except (StoreError, QueryError) as exc:
        raise fail(str(exc), code=1) from exc
    finally:
        opened.close()
