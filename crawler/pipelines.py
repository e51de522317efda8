"""Item pipeline: every event a spider yields goes onto the bus, keyed by asset id."""

from __future__ import annotations

from typing import Any, Self

from scrapy.crawler import Crawler

from services.bus import Bus, publish
from services.events import Asset, CrawlRequest, Finding


class BusPublishPipeline:
    """Publishes to the spider's own ``bus``, so one in-process bus serves every spider of a run."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def bus(self) -> Bus:
        bus: Bus | None = getattr(self.crawler.spider, "bus", None)
        if bus is None:
            raise ValueError("the spider has no bus: the crawler has nowhere to send events")
        return bus

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Asset | Finding | CrawlRequest):
            raise TypeError(f"spiders must yield exposurewatch events, not {type(item).__name__}")
        publish(self.bus, item)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"bus/published/{item.type}")
        return item

    def close_spider(self) -> None:
        self.bus.flush()
