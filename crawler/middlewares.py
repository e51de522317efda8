"""Downloader middlewares for talking to the Hub politely: token auth, and waiting out 429s as told."""

from __future__ import annotations

import asyncio
import re
from email.utils import parsedate_to_datetime
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from services.events import utcnow

RATELIMIT_RESET = re.compile(r"\bt=(\d+)")


class HubAuthMiddleware:
    """Adds ``Authorization: Bearer $HF_TOKEN`` to requests for the Hub, and to nothing else."""

    def __init__(self, hub_url: str, token: str | None) -> None:
        self.hub_url = hub_url.rstrip("/")
        self.token = token

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings.get("HUB_URL"), crawler.settings.get("HUB_TOKEN"))

    def process_request(self, request: Request) -> None:
        if self.token and request.url.startswith(self.hub_url):
            request.headers.setdefault(b"Authorization", f"Bearer {self.token}".encode())


def wait_seconds(response: Response, default: float) -> float:
    """How long the Hub asked us to wait: ``Retry-After`` (seconds or date), else ``RateLimit: …;t=N``."""
    retry_after = response.headers.get(b"Retry-After")
    if retry_after:
        text = retry_after.decode("latin-1").strip()
        if text.isdigit():
            return float(text)
        try:
            return max(0.0, (parsedate_to_datetime(text) - utcnow()).total_seconds())
        except (TypeError, ValueError):
            pass
    ratelimit = response.headers.get(b"RateLimit")
    if ratelimit:
        match = RATELIMIT_RESET.search(ratelimit.decode("latin-1"))
        if match:
            return float(match.group(1))
    return default


class HubRateLimitMiddleware:
    """On 429, sleeps for the time the server named and re-sends the request (bounded per request).

    A blind exponential back-off would either hammer the Hub or idle too long; its headers say exactly when.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_waits = crawler.settings.getint("HUB_RATELIMIT_MAX_WAITS")
        self.default_wait = crawler.settings.getfloat("HUB_RATELIMIT_DEFAULT_WAIT")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status != 429:
            return response
        stats = self.crawler.stats
        assert stats is not None
        waits = int(request.meta.get("ratelimit_waits", 0))
        if waits >= self.max_waits:
            stats.inc_value("ratelimit/gave_up")
            return response
        delay = min(wait_seconds(response, self.default_wait), 300.0)
        stats.inc_value("ratelimit/waits")
        stats.inc_value("ratelimit/wait_seconds", round(delay))
        await asyncio.sleep(delay)
        retry = request.replace(dont_filter=True)
        retry.meta["ratelimit_waits"] = waits + 1
        return retry
