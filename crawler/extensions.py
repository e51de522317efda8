"""Scrapy extensions: live progress for the CLI from the crawl's stats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

ProgressCallback = Callable[[str, dict[str, Any]], None]


class CrawlProgress:
    """Hands the stats to ``EXPOSUREWATCH_PROGRESS(spider_name, stats)`` twice a second and at the end."""

    def __init__(self, crawler: Crawler, callback: ProgressCallback) -> None:
        self.crawler = crawler
        self.callback = callback
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        callback = crawler.settings.get("EXPOSUREWATCH_PROGRESS")
        if callback is None:
            raise NotConfigured("no progress callback")
        extension = cls(crawler, callback)
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def report(self) -> None:
        assert self.crawler.stats is not None and self.crawler.spider is not None
        self.callback(self.crawler.spider.name, self.crawler.stats.get_stats())

    def opened(self) -> None:
        self.loop = task.LoopingCall(self.report)
        self.loop.start(0.5)

    def closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.report()
