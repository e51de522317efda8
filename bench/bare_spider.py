"""The baselines for bench_crawl.py: plain Scrapy fetching the same URLs the crawler fetches, doing nothing else.

Two modes, both without detection, bus or store:
- ``chain``: lists every Space, then for each: info, tree, and the same text files within the same caps, each
  step a callback through Scrapy's scheduler (how a plain Scrapy spider would be written);
- ``flat``: every URL known in advance (a file, one per line, written by bench_crawl.py), all handed to Scrapy at
  once: the most Scrapy alone can do for this URL set.
Run by bench_crawl.py as ``python bench/bare_spider.py HUB_URL CONCURRENCY [URL_FILE]``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Any

import orjson
import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response

from crawler.settings import FETCH_MAX_FILE_BYTES, FETCH_MAX_FILES, FETCH_MAX_SPACE_BYTES
from crawler.spiders.fetcher import is_text_candidate
from crawler.spiders.lister import next_link


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, hub: str, url_file: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hub = hub
        self.url_file = url_file
        self.spaces_done = 0
        self.requests = 0

    async def start(self) -> Any:
        if self.url_file is None:
            yield scrapy.Request(f"{self.hub}/api/spaces?sort=lastModified&limit=1000&expand[]=sha", self.listing)
            return
        with open(self.url_file) as urls:
            for url in urls:
                yield scrapy.Request(url.strip(), self.file, dont_filter=True)

    def listing(self, response: Response) -> Iterator[scrapy.Request]:
        for space in orjson.loads(response.body):
            yield scrapy.Request(f"{self.hub}/api/spaces/{space['id']}", self.info, cb_kwargs={"space": space["id"]})
        following = next_link(response)
        if following:
            yield scrapy.Request(following, self.listing)

    def info(self, response: Response, space: str) -> Iterator[scrapy.Request]:
        sha = orjson.loads(response.body)["sha"]
        yield scrapy.Request(
            f"{self.hub}/api/spaces/{space}/tree/{sha}?recursive=true",
            self.tree,
            cb_kwargs={"space": space, "sha": sha},
        )

    def tree(self, response: Response, space: str, sha: str) -> Iterator[scrapy.Request]:
        budget, chosen = FETCH_MAX_SPACE_BYTES, 0
        for entry in sorted(orjson.loads(response.body), key=lambda e: e["path"]):
            size = int(entry.get("size") or 0)
            if entry["type"] != "file" or entry.get("lfs") or not is_text_candidate(entry["path"]):
                continue
            if size > FETCH_MAX_FILE_BYTES or size > budget or chosen >= FETCH_MAX_FILES:
                continue
            budget -= size
            chosen += 1
            yield scrapy.Request(f"{self.hub}/spaces/{space}/resolve/{sha}/{entry['path']}", self.file)
        self.spaces_done += 1

    def file(self, response: Response) -> None:
        """The body is downloaded; that is all the baseline does."""
        self.requests += 1


def main() -> None:
    hub, concurrency = sys.argv[1], int(sys.argv[2])
    url_file = sys.argv[3] if len(sys.argv) > 3 else None
    process = CrawlerProcess(
        {
            "LOG_LEVEL": "ERROR",
            "CONCURRENT_REQUESTS": concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "AUTOTHROTTLE_ENABLED": True,
            "AUTOTHROTTLE_START_DELAY": 0.0,
            "AUTOTHROTTLE_TARGET_CONCURRENCY": concurrency / 2,
            "COOKIES_ENABLED": False,
            "TELNETCONSOLE_ENABLED": False,
            "ROBOTSTXT_OBEY": False,
        }
    )
    crawler = process.create_crawler(BareSpider)
    started = time.perf_counter()
    process.crawl(crawler, hub=hub, url_file=url_file)
    process.start()
    elapsed = time.perf_counter() - started
    assert crawler.spider is not None
    spider = crawler.spider
    print(orjson.dumps({"spaces": spider.spaces_done, "requests": spider.requests, "seconds": elapsed}).decode())


if __name__ == "__main__":
    main()
