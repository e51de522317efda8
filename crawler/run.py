"""Runs the crawl: the lister, and (embedded, or as a worker) the fetcher, inside one Twisted reactor.

With ``memory://`` the whole product runs in this process: lister, fetcher and an indexer thread
writing to the store. With ``kafka://`` the lister only publishes crawl requests and
``crawl worker`` processes consume them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from scrapy.settings import Settings as ScrapySettings

from crawler import settings as crawler_defaults
from crawler.extensions import ProgressCallback
from indexer.consumer import Indexer
from services.bus import Bus, Topic
from services.bus.memory import MemoryBus
from services.store import Store


@dataclass
class CrawlReport:
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)

    def value(self, key: str) -> int:
        return sum(int(s.get(key, 0) or 0) for s in self.stats.values())


def scrapy_settings(overrides: dict[str, Any]) -> ScrapySettings:
    settings = ScrapySettings()
    settings.setmodule(crawler_defaults, priority="project")
    settings.update({k: v for k, v in overrides.items() if v is not None}, priority="cmdline")
    return settings


def _run_in_reactor(settings: ScrapySettings, body: Callable[[Any], Coroutine[Any, Any, None]]) -> None:
    """Start the asyncio reactor, run ``body(runner)``, stop. Scrapy's reactor can run once per process."""
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from scrapy.crawler import AsyncCrawlerRunner
    from scrapy.utils.defer import deferred_from_coro
    from scrapy.utils.log import configure_logging
    from twisted.internet import reactor

    configure_logging(settings)
    runner = AsyncCrawlerRunner(settings)
    failures: list[Any] = []
    done = deferred_from_coro(body(runner))
    done.addErrback(failures.append)
    done.addBoth(lambda _: reactor.stop())  # type: ignore[misc]
    reactor.run()  # type: ignore[misc]
    if failures:
        failures[0].raiseException()


def crawl_spaces(bus: Bus, store: Store, overrides: dict[str, Any], progress: ProgressCallback | None) -> CrawlReport:
    """List the Hub; in embedded mode also fetch every requested Space and index the events."""
    from crawler.spiders.fetcher import SpaceFetcherSpider
    from crawler.spiders.lister import SpaceListerSpider

    report = CrawlReport()
    embedded = isinstance(bus, MemoryBus)
    settings = scrapy_settings(overrides)
    stop_indexer = threading.Event()
    indexer = Indexer(bus, store, batch_wait_s=0.2)
    indexer_thread = threading.Thread(target=indexer.run, args=(stop_indexer,), name="indexer", daemon=True)
    if embedded:
        indexer_thread.start()

    async def body(runner: Any) -> None:
        lister = runner.create_crawler(SpaceListerSpider)
        await runner.crawl(lister, bus=bus, store=store, progress=progress)
        report.stats["lister"] = lister.stats.get_stats()
        if embedded:
            fetcher = runner.create_crawler(SpaceFetcherSpider)
            await runner.crawl(fetcher, bus=bus, store=store, progress=progress, exit_when_idle_s=0.0)
            report.stats["fetcher"] = fetcher.stats.get_stats()

    try:
        _run_in_reactor(settings, body)
    finally:
        if embedded:
            drain(indexer, stop_indexer, indexer_thread)
    return report


def drain(indexer: Indexer, stop: threading.Event, thread: threading.Thread) -> None:
    """Let the indexer catch up with everything published, then stop it."""
    bus = indexer.bus
    assert isinstance(bus, MemoryBus)
    wanted = bus.size(Topic.ASSETS) + bus.size(Topic.FINDINGS)
    while thread.is_alive() and indexer.stats.indexed + indexer.stats.dead_lettered < wanted:
        thread.join(0.1)
    stop.set()
    thread.join()


def crawl_worker(bus: Bus, store: Store | None, overrides: dict[str, Any], exit_when_idle_s: float | None,
                 progress: ProgressCallback | None) -> CrawlReport:
    """A fetcher worker in the consumer group of crawl requests."""
    from crawler.spiders.fetcher import SpaceFetcherSpider

    report = CrawlReport()
    settings = scrapy_settings(overrides)

    async def body(runner: Any) -> None:
        fetcher = runner.create_crawler(SpaceFetcherSpider)
        await runner.crawl(fetcher, bus=bus, store=store, progress=progress, exit_when_idle_s=exit_when_idle_s)
        report.stats["fetcher"] = fetcher.stats.get_stats()

    _run_in_reactor(settings, body)
    return report
