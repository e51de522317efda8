"""Fetches the Spaces named by crawl requests on the bus, scans their files, and emits events.

Crawl requests are taken from the bus in batches; a batch's offsets are committed only after every
Space in it was fetched and its events were flushed to the bus, so a worker killed mid-batch loses
nothing: the group re-delivers the batch to another worker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, Self
from urllib.parse import quote

import orjson
import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.extensions import ProgressCallback
from crawler.spiders.lister import next_link
from crawler.state import open_findings
from services.bus import Bus, Message, Topic
from services.detect import Scanner
from services.events import Asset, AssetStatus, CrawlRequest, Finding, SchemaError, utcnow
from services.store import Store

TEXT_SUFFIXES = frozenset({
    ".py", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".json", ".yaml", ".yml", ".toml", ".env", ".txt",
    ".md", ".ipynb", ".html", ".htm", ".cfg", ".ini", ".conf", ".sh", ".dockerfile", ".properties", ".rb",
    ".go", ".java", ".php", ".vue", ".svelte", ".r",
})
TEXT_NAMES = frozenset({"dockerfile", ".env", "procfile", "makefile", "requirements.txt", ".npmrc"})


def is_text_candidate(path: str) -> bool:
    """Files worth scanning: source, config and notes, by name; binaries and media are skipped unread."""
    name = path.rsplit("/", 1)[-1].lower()
    if name in TEXT_NAMES or name.startswith(".env"):
        return True
    dot = name.rfind(".")
    return dot >= 0 and name[dot:] in TEXT_SUFFIXES


class FetchBatch:
    """Counts the Spaces of one bus batch still in flight; the batch commits when it reaches zero."""

    def __init__(self, size: int) -> None:
        self.remaining = size
        self.done = asyncio.Event()
        if size == 0:
            self.done.set()

    def finish_one(self) -> None:
        self.remaining -= 1
        if self.remaining <= 0:
            self.done.set()


class SpaceFetcherSpider(scrapy.Spider):
    name = "space-fetcher"

    def __init__(self, bus: Bus, store: Store | None, group: str, exit_when_idle_s: float | None,
                 batch_size: int, max_file_bytes: int, max_space_bytes: int, max_files: int,
                 progress: ProgressCallback | None = None) -> None:
        super().__init__()
        self.progress = progress
        self.bus = bus
        self.store = store
        self.group = group
        self.exit_when_idle_s = exit_when_idle_s
        self.batch_size = batch_size
        self.max_file_bytes = max_file_bytes
        self.max_space_bytes = max_space_bytes
        self.max_files = max_files
        self.scanner = Scanner(max_file_bytes=max_file_bytes)
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        """Live objects come as crawl arguments: ``bus``, ``store`` (lifecycle) and ``progress``."""
        s = crawler.settings
        spider = cls(
            bus=kwargs["bus"],
            store=kwargs.get("store"),
            group=kwargs.get("group", "exposurewatch-fetcher"),
            exit_when_idle_s=kwargs.get("exit_when_idle_s"),
            batch_size=s.getint("FETCH_BATCH"),
            max_file_bytes=s.getint("FETCH_MAX_FILE_BYTES"),
            max_space_bytes=s.getint("FETCH_MAX_SPACE_BYTES"),
            max_files=s.getint("FETCH_MAX_FILES"),
            progress=kwargs.get("progress"),
        )
        spider._set_crawler(crawler)
        crawler.signals.connect(spider.request_stop, scrapy.signals.spider_closed)
        return spider

    def request_stop(self) -> None:
        self.stopping = True

    async def start(self) -> AsyncIterator[Any]:
        consumer = self.bus.consumer([Topic.CRAWL_REQUESTS], self.group)
        idle_since = time.monotonic()
        try:
            while not self.stopping:
                messages = await asyncio.to_thread(consumer.poll, 1.0, self.batch_size)
                if not messages:
                    if self.exit_when_idle_s is not None and time.monotonic() - idle_since >= self.exit_when_idle_s:
                        return
                    continue
                batch = FetchBatch(len(messages))
                for request in self.requests_for(messages, batch):
                    yield request
                await batch.done.wait()
                await asyncio.to_thread(self.bus.flush)
                await asyncio.to_thread(consumer.commit)
                idle_since = time.monotonic()
        finally:
            consumer.close()

    def requests_for(self, messages: list[Message], batch: FetchBatch) -> Iterator[scrapy.Request]:
        stats = self.crawler.stats
        assert stats is not None
        for message in messages:
            try:
                crawl = message.event()
                if not isinstance(crawl, CrawlRequest):
                    raise SchemaError(f"{crawl.type} on the crawl-requests topic")
            except SchemaError as exc:
                stats.inc_value("fetch/bad_requests")
                self.logger.error("skipping unreadable crawl request at offset %s: %s", message.offset, exc)
                batch.finish_one()
                continue
            yield scrapy.Request(
                f"{crawl.hub_url}/api/spaces/{crawl.space_id}",
                callback=self.parse_space,
                errback=self.space_failed,
                cb_kwargs={"crawl": crawl, "batch": batch},
                meta={"handle_httpstatus_list": [404, 401, 403]},
                dont_filter=True,
            )

    async def space_failed(self, failure: Any) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("fetch/errors")
        request = failure.request
        self.logger.warning("could not fetch %s: %s", request.url, failure.value)
        request.cb_kwargs["batch"].finish_one()

    async def parse_space(self, response: Response, crawl: CrawlRequest, batch: FetchBatch) -> AsyncIterator[Any]:
        stats = self.crawler.stats
        assert stats is not None
        try:
            if response.status in (401, 403, 404) or crawl.reason == "deleted":
                for event in self.gone(crawl):
                    yield event
                return
            info = orjson.loads(response.body)
            disabled = bool(info.get("disabled"))
            files = [] if disabled else await self.download_files(crawl, info)
            asset = Asset.space(
                crawl.space_id, hub_url=crawl.hub_url, sha=info.get("sha"), sdk=info.get("sdk"),
                runtime_stage=(info.get("runtime") or {}).get("stage"),
                hardware=((info.get("runtime") or {}).get("hardware") or {}).get("current"),
            )
            yield asset
            if disabled:  # files answer 403: nothing to read, and nothing proven gone
                stats.inc_value("spaces/disabled")
                return
            findings = self.scanner.scan_files(files, asset.id)
            for finding in findings:
                stats.inc_value(f"findings/{finding.kind.value}/{finding.provider}/{finding.severity.value}")
                yield finding
            for event in self.resolved(asset.id, {f.id for f in findings}):
                yield event
            stats.inc_value("spaces/fetched")
        except (orjson.JSONDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            stats.inc_value("fetch/errors")
            self.logger.warning("bad answer for %s: %s", crawl.space_id, exc)
        finally:
            batch.finish_one()

    async def download_files(self, crawl: CrawlRequest, info: dict[str, Any]) -> list[tuple[str, bytes]]:
        """The Space's text files at the sha just read, within the file, byte and count caps."""
        sha = info.get("sha") or "main"
        base = f"{crawl.hub_url}/api/spaces/{crawl.space_id}/tree/{sha}?recursive=true"
        entries: list[dict[str, Any]] = []
        url: str | None = base
        while url:
            page = await self.get(url)
            entries.extend(e for e in orjson.loads(page.body) if isinstance(e, dict))
            url = next_link(page)
        chosen: list[str] = []
        budget = self.max_space_bytes
        for entry in sorted(entries, key=lambda e: str(e.get("path"))):
            path, size = str(entry.get("path", "")), int(entry.get("size") or 0)
            if entry.get("type") != "file" or entry.get("lfs") or not is_text_candidate(path):
                continue
            if size > self.max_file_bytes or size > budget or len(chosen) >= self.max_files:
                assert self.crawler.stats is not None
                self.crawler.stats.inc_value("fetch/files_skipped_cap")
                continue
            budget -= size
            chosen.append(path)
        responses = await asyncio.gather(
            *(self.get(f"{crawl.hub_url}/spaces/{crawl.space_id}/resolve/{sha}/{quote(p)}") for p in chosen),
            return_exceptions=True,
        )
        files: list[tuple[str, bytes]] = []
        for path, result in zip(chosen, responses, strict=True):
            if isinstance(result, Response) and result.status == 200:
                files.append((path, result.body))
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("fetch/files", len(files))
        self.crawler.stats.inc_value("fetch/file_bytes", sum(len(b) for _, b in files))
        return files

    async def get(self, url: str) -> Response:
        assert self.crawler.engine is not None
        response = await self.crawler.engine.download_async(scrapy.Request(url, dont_filter=True))
        if response.status >= 400:
            raise ValueError(f"{url} answered {response.status}")
        return response

    def gone(self, crawl: CrawlRequest) -> Iterator[Asset | Finding]:
        """A deleted (or now private) Space: mark the asset deleted and resolve everything open on it."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("spaces/gone")
        asset = Asset.space(crawl.space_id, hub_url=crawl.hub_url, status=AssetStatus.DELETED)
        yield asset
        yield from self.resolved(asset.id, set())

    def resolved(self, asset_id: str, still_there: set[str]) -> Iterator[Finding]:
        if self.store is None:
            return
        now = utcnow()
        for finding in open_findings(self.store, asset_id):
            if finding.id not in still_there:
                assert self.crawler.stats is not None
                self.crawler.stats.inc_value("findings/resolved")
                yield finding.resolved(now)
