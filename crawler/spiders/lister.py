"""Lists Spaces page by page and turns only the new and changed ones into crawl requests.

The listing asks for each Space's sha (``expand[]=sha``), so a recrawl with no change costs only
the listing pages; Spaces the store knows but a complete listing no longer shows become deletions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, Self
from urllib.parse import urlencode

import orjson
import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.extensions import ProgressCallback
from crawler.state import known_spaces
from services.bus import Bus
from services.events import CrawlRequest
from services.store import Store


def next_link(response: Response) -> str | None:
    """The ``rel="next"`` target of a GitHub-style ``Link`` header, as the Hub paginates."""
    header = response.headers.get(b"Link")
    if not header:
        return None
    for part in header.decode("latin-1").split(","):
        url, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
            return url.strip().strip("<>")
    return None


class SpaceListerSpider(scrapy.Spider):
    name = "space-lister"

    def __init__(self, hub_url: str, known: dict[str, str | None], full: bool, search: str | None,
                 author: str | None, limit: int, expand: list[str], bus: Bus,
                 progress: ProgressCallback | None = None) -> None:
        super().__init__()
        self.bus = bus
        self.progress = progress
        self.hub_url = hub_url.rstrip("/")
        self.known = known
        self.full = full
        self.search = search
        self.author = author
        self.limit = limit
        self.expand = expand
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        """Live objects come as crawl arguments: ``bus``, ``store`` (recrawl state) and ``progress``."""
        s = crawler.settings
        store: Store | None = kwargs.get("store")
        author = s.get("HUB_AUTHOR")
        spider = cls(
            hub_url=s.get("HUB_URL"),
            known={} if store is None else known_spaces(store, author=author),
            full=s.getbool("EXPOSUREWATCH_FULL"),
            search=s.get("HUB_SEARCH"),
            author=author,
            limit=s.getint("HUB_LIST_LIMIT"),
            expand=s.getlist("HUB_LIST_EXPAND"),
            bus=kwargs["bus"],
            progress=kwargs.get("progress"),
        )
        spider._set_crawler(crawler)
        return spider

    def first_page_url(self) -> str:
        params: list[tuple[str, str]] = [("sort", "lastModified"), ("limit", str(self.limit))]
        params += [("expand[]", field) for field in self.expand]
        if self.search:
            params.append(("search", self.search))
        if self.author:
            params.append(("author", self.author))
        return f"{self.hub_url}/api/spaces?{urlencode(params)}"

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(self.first_page_url(), callback=self.parse_listing)

    def parse_listing(self, response: Response) -> Iterator[Any]:
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value("listing/pages")
        try:
            spaces = orjson.loads(response.body)
        except orjson.JSONDecodeError:
            stats.inc_value("listing/bad_pages")
            self.logger.error("listing page %s is not JSON; listing stopped", response.url)
            return
        for space in spaces if isinstance(spaces, list) else []:
            request = self.crawl_request(space)
            if request is not None:
                yield request
        following = next_link(response)
        if following:
            yield response.follow(following, callback=self.parse_listing)
        else:
            yield from self.deletions()

    def crawl_request(self, space: Any) -> CrawlRequest | None:
        stats = self.crawler.stats
        assert stats is not None
        space_id = space.get("id") if isinstance(space, dict) else None
        if not isinstance(space_id, str) or space_id in self.seen:
            return None
        self.seen.add(space_id)
        stats.inc_value("spaces/listed")
        sha = space.get("sha")
        if space_id not in self.known:
            reason = "new"
        elif self.full:
            reason = "full"
        elif sha is None or self.known[space_id] != sha:
            reason = "changed"
        else:
            stats.inc_value("spaces/unchanged")
            return None
        stats.inc_value(f"spaces/{reason}")
        return CrawlRequest(space_id=space_id, sha=sha, reason=reason, hub_url=self.hub_url)

    def deletions(self) -> Iterator[CrawlRequest]:
        """After a complete listing: what the store holds in scope but the Hub no longer lists is gone."""
        if self.search:
            return  # a search shows a subset; absence proves nothing
        for space_id in sorted(set(self.known) - self.seen):
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("spaces/deleted")
            yield CrawlRequest(space_id=space_id, reason="deleted", hub_url=self.hub_url)
