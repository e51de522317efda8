"""Item pipeline: every event a spider yields goes onto the bus, keyed by asset id."""

from __future__ import annotations

from typing import Any, Self

from scrapy.crawler import Crawler

from services.bus import Bus, publish
from services.events import Asset, CrawlRequest, Finding


class BusPublishPipeline:
    def __init__(self, crawler: Crawler, bus: Bus) -> None:
        self.crawler = crawler
        self.bus = bus

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        bus = crawler.settings.get("EXPOSUREWATCH_BUS")
        if bus is None:
            raise ValueError("EXPOSUREWATCH_BUS is not set: the crawler has nowhere to send events")
        return cls(crawler, bus)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Asset | Finding | CrawlRequest):
            raise TypeError(f"spiders must yield exposurewatch events, not {type(item).__name__}")
        publish(self.bus, item)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"bus/published/{item.type}")
        return item

    def close_spider(self) -> None:
        self.bus.flush()
