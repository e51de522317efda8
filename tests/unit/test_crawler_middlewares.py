"""Hub politeness: token only to the Hub, and 429 waits taken from the server's own headers."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

import pytest
from scrapy import Request
from scrapy.http import Response

from crawler.middlewares import HubAuthMiddleware, wait_seconds
from crawler.spiders.fetcher import is_text_candidate
from crawler.spiders.lister import next_link
from services.events import utcnow


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"RateLimit": '"api";r=0;t=55'}, 55.0),
        ({"Retry-After": "7", "RateLimit": '"api";r=0;t=55'}, 7.0),
        ({}, 10.0),
        ({"Retry-After": "soon"}, 10.0),
    ],
)
def test_wait_seconds(headers: dict[str, str], expected: float) -> None:
    assert wait_seconds(Response("http://h/", status=429, headers=headers), default=10.0) == expected


def test_wait_seconds_reads_http_dates() -> None:
    when = format_datetime(utcnow() + timedelta(seconds=30), usegmt=True)
    assert 25 <= wait_seconds(Response("http://h/", status=429, headers={"Retry-After": when}), 1.0) <= 30


def test_token_goes_to_the_hub_only() -> None:
    middleware = HubAuthMiddleware("http://hub:1/", "hf_token")
    to_hub, elsewhere = Request("http://hub:1/api/spaces"), Request("http://other/")
    middleware.process_request(to_hub)
    middleware.process_request(elsewhere)
    assert to_hub.headers[b"Authorization"] == b"Bearer hf_token"
    assert b"Authorization" not in elsewhere.headers


def test_next_link_follows_rel_next_only() -> None:
    response = Response("http://h/", headers={"Link": '<http://h/api/spaces?cursor=abc>; rel="next"'})
    assert next_link(response) == "http://h/api/spaces?cursor=abc"
    assert next_link(Response("http://h/", headers={"Link": '<http://h/x>; rel="prev"'})) is None
    assert next_link(Response("http://h/")) is None


@pytest.mark.parametrize(
    ("path", "wanted"),
    [("app.py", True), ("src/server.ts", True), ("Dockerfile", True), (".env.local", True),
     ("notebook.ipynb", True), ("model.safetensors", False), ("img/logo.png", False), ("LICENSE", False)],
)
def test_text_candidates(path: str, wanted: bool) -> None:
    assert is_text_candidate(path) is wanted
