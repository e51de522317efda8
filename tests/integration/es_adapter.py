"""Test-only adapter that lets the official ``elasticsearch`` 9 client talk to the real OpenSearch node.

Elasticsearch 8/9 cannot be fetched from the registries our machines reach. The ES client refuses any
server whose responses lack ``X-Elastic-Product: Elasticsearch``, and sends versioned media types
(``application/vnd.elasticsearch+json; compatible-with=9``) that OpenSearch does not accept. This
reverse proxy rewrites exactly those two things and forwards everything else untouched, so the
store's Elasticsearch driver runs its real requests against a real search engine.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

COMPAT_MEDIA_TYPE = re.compile(r"application/vnd\.elasticsearch\+(json|x-ndjson)(;\s*compatible-with=\d+)?")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}


def plain_media_type(value: str) -> str:
    return COMPAT_MEDIA_TYPE.sub(lambda m: f"application/{m.group(1)}", value)


def _handler(upstream: httpx.Client) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: plain_media_type(v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            response = upstream.request(self.command, self.path, content=body, headers=headers)
            payload = response.content
            self.send_response(response.status_code)
            for key, value in response.headers.items():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: pytest shows failures, not every proxied request."""

    return Handler


@contextmanager
def elasticsearch_facade(opensearch_url: str) -> Iterator[str]:
    """Serve the adapter on a free loopback port for the duration of the block; yields its URL."""
    with httpx.Client(base_url=opensearch_url, timeout=60) as upstream:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
