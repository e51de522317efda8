"""Bulk retries against the real OpenSearch node, with throttling and server errors injected by a small proxy.

The node does not throttle on demand, so a test-only proxy in front of it answers chosen bulk requests with 429
or 503 (whole request), or forwards them and marks one item of the real answer as throttled. Everything else
passes through untouched; the documents land in the real node.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from services.stack import harness
from services.store import Entity, StoreError, open_store
from services.store.search_engine import BULK_RETRIES, SearchEngineStore
from tests.store_contract import CORPUS

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}


class Faults:
    """What the next bulk requests get: "429"/"503" (refused whole), "item-429" (first item refused), "pass"."""

    def __init__(self, plan: list[str]) -> None:
        self.plan = plan
        self.bulk_lines: list[int] = []
        self.lock = threading.Lock()

    def next_for_bulk(self, body: bytes) -> str:
        with self.lock:
            self.bulk_lines.append(len(body.splitlines()))
            return self.plan.pop(0) if self.plan else "pass"


def _handler(upstream: httpx.Client, faults: Faults) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fault = faults.next_for_bulk(body) if self.path.split("?")[0].endswith("/_bulk") else "pass"
            if fault in ("429", "503"):
                error = {"error": {"type": "injected", "reason": f"injected {fault}"}, "status": int(fault)}
                self._reply(int(fault), json.dumps(error).encode(), {"Content-Type": "application/json"})
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            response = upstream.request(self.command, self.path, content=body or None, headers=headers)
            payload = response.content
            if fault == "item-429":
                answer = response.json()
                first = answer["items"][0]
                [(action, outcome)] = first.items()
                first[action] = {**outcome, "status": 429, "error": {"type": "es_rejected_execution_exception",
                                                                     "reason": "injected item throttle"}}
                answer["errors"] = True
                payload = json.dumps(answer).encode()
            self._reply(response.status_code, payload, dict(response.headers))

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: pytest shows failures, not every proxied request."""

    return Handler


@pytest.fixture
def faulty(stack: dict[str, Any]) -> Iterator[tuple[SearchEngineStore, Faults]]:
    faults = Faults([])
    with httpx.Client(base_url=stack["opensearch"], timeout=60) as upstream:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream, faults))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        store = open_store(f"opensearch+http://127.0.0.1:{server.server_address[1]}",
                           index_prefix=f"test-{uuid.uuid4().hex[:10]}")
        assert isinstance(store, SearchEngineStore)
        store.ensure_indices()
        try:
            yield store, faults
        finally:
            store.close()
            server.shutdown()
            server.server_close()
            harness.drop_store_layout(stack["opensearch"], store.prefix)


def test_throttled_and_failed_bulk_requests_are_retried_with_backoff(
        faulty: tuple[SearchEngineStore, Faults]) -> None:
    store, faults = faulty
    faults.plan[:] = ["429", "503"]
    started = time.monotonic()
    store.upsert(CORPUS)
    elapsed = time.monotonic() - started
    store.refresh()
    assert store.count(Entity.FINDINGS) == len(CORPUS)
    assert faults.bulk_lines == [4 * len(CORPUS)] * 3, "the whole request again, twice"
    assert elapsed >= 0.9, "backed off 0.4 s and 0.8 s (±20 %) before the retries"


def test_only_the_throttled_items_are_sent_again(faulty: tuple[SearchEngineStore, Faults]) -> None:
    store, faults = faulty
    faults.plan[:] = ["item-429"]
    store.upsert(CORPUS)
    store.refresh()
    assert faults.bulk_lines == [4 * len(CORPUS), 2], "one operation (action and source) retried"
    assert store.count(Entity.FINDINGS) == len(CORPUS)
    doc = store.get(Entity.FINDINGS, CORPUS[0].id)
    assert doc is not None and doc["sightings"] == 1, "the retried upsert was a no-op replay"


def test_a_store_that_keeps_failing_is_a_clear_error_after_the_last_try(
        faulty: tuple[SearchEngineStore, Faults]) -> None:
    store, faults = faulty
    faults.plan[:] = ["503"] * BULK_RETRIES
    with pytest.raises(StoreError, match=f"still answers 503 after {BULK_RETRIES} tries"):
        store.upsert(CORPUS[:2])
    assert len(faults.bulk_lines) == BULK_RETRIES
