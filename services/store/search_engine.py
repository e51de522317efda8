"""Elasticsearch and OpenSearch drivers: one store over two clients.

Everything engine-neutral (mappings, scripted upserts, query building, paging) lives in
:class:`SearchEngineStore`; the two client adapters only translate calls, because the official
``elasticsearch`` 9 client takes keyword arguments where ``opensearch-py`` takes a body.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol
from urllib.parse import urlsplit

from services.config import mask_url
from services.events import Asset, Finding
from services.store.base import (
    Entity,
    QueryError,
    SearchPage,
    SearchQuery,
    StoreError,
    entity_of,
    iso,
    new_document,
)

MAPPING_VERSION = 1
REFRESH_INTERVAL = "1s"
BULK_RETRIES = 6
RETRYABLE_STATUS = (429, 502, 503, 504)

UPSERT_SCRIPT = """
if (ctx._source.last_seen == null) {
  ctx._source.putAll(params.doc);
} else if (params.doc.last_seen.compareTo(ctx._source.last_seen) > 0) {
  def first = ctx._source.first_seen;
  def sightings = ctx._source.sightings;
  ctx._source.putAll(params.doc);
  if (first.compareTo(params.doc.first_seen) < 0) { ctx._source.first_seen = first; }
  if (params.counts_sightings) {
    ctx._source.sightings = (sightings == null ? 1 : sightings) + (params.doc.status == 'open' ? 1 : 0);
  }
} else {
  ctx.op = 'noop';
}
"""
"""Same rule as :func:`services.store.base.merge_document`: newer sightings fold in, replays are no-ops."""

_KEYWORD = {"type": "keyword", "normalizer": "lowercase", "copy_to": "all_text"}
_DATE = {"type": "date"}
MAPPINGS: dict[Entity, dict[str, Any]] = {
    Entity.FINDINGS: {
        "dynamic": "strict",
        "properties": {
            **{f: _KEYWORD for f in ("kind", "provider", "severity", "status", "asset_id", "path", "detector",
                                     "redacted", "endpoint", "models", "interface", "credential_source")},
            **{f: {"type": "keyword"} for f in ("id", "type", "schema_version", "fingerprint", "detector_version")},
            **{f: _DATE for f in ("first_seen", "last_seen", "discovered_at")},
            **{f: {"type": "integer"} for f in ("line", "column", "sightings", "severity_rank")},
            "confidence": {"type": "float"},
            "restricted": {"type": "boolean"},
            "all_text": {"type": "text", "analyzer": "words"},
        },
    },
    Entity.ASSETS: {
        "dynamic": "strict",
        "properties": {
            **{f: _KEYWORD for f in ("id", "kind", "url", "owner", "sdk", "runtime_stage", "hardware", "status")},
            **{f: {"type": "keyword"} for f in ("type", "schema_version", "sha")},
            **{f: _DATE for f in ("first_seen", "last_seen")},
            "all_text": {"type": "text", "analyzer": "words"},
        },
    },
}
INDEX_SETTINGS = {
    "index": {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": REFRESH_INTERVAL},
    "analysis": {
        "normalizer": {"lowercase": {"type": "custom", "filter": ["lowercase"]}},
        # Split on anything but letters and digits, as SQLite's FTS5 unicode61 tokenizer does, so free text
        # finds "owner1" inside "space:owner1/app1" on every store alike.
        "tokenizer": {"words": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"}},
        "analyzer": {"words": {"type": "custom", "tokenizer": "words", "filter": ["lowercase"]}},
    },
}


class EngineClient(Protocol):
    """The handful of calls the store makes, in one shape for both clients."""

    unreachable: tuple[type[Exception], ...]
    """Exceptions meaning the server is down or refused the call."""
    bad_request: tuple[type[Exception], ...]
    """Exceptions meaning the request itself was wrong (e.g. query syntax)."""

    def bulk(self, operations: list[dict[str, Any]]) -> dict[str, Any]: ...

    def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def count(self, index: str, body: dict[str, Any]) -> int: ...

    def get(self, index: str, doc_id: str) -> dict[str, Any] | None: ...

    def alias_exists(self, name: str) -> bool: ...

    def create_index(self, name: str, body: dict[str, Any]) -> None: ...

    def refresh(self, index: str) -> None: ...

    def close(self) -> None: ...


class SearchEngineStore:
    def __init__(self, client: EngineClient, index_prefix: str, url: str) -> None:
        self.client = client
        self.prefix = index_prefix
        self.url = url
        self._ready = False

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Client exceptions become :class:`QueryError` or :class:`StoreError` naming this store."""
        try:
            yield
        except self.client.bad_request as exc:
            raise QueryError(f"{self.url} rejected the request: {exc}") from exc
        except self.client.unreachable as exc:
            raise StoreError(f"store {mask_url(self.url)} failed: {exc}") from exc

    def alias(self, entity: Entity) -> str:
        return f"{self.prefix}-{entity.value}"

    def ensure_indices(self) -> None:
        """Create ``<alias>-v<N>`` with explicit mappings behind each alias, if the alias is missing."""
        if self._ready:
            return
        with self._translated():
            self._create_missing_indices()
        self._ready = True

    def _create_missing_indices(self) -> None:
        for entity in Entity:
            alias = self.alias(entity)
            if not self.client.alias_exists(alias):
                self.client.create_index(
                    f"{alias}-v{MAPPING_VERSION}",
                    {"settings": INDEX_SETTINGS, "mappings": MAPPINGS[entity],
                     "aliases": {alias: {"is_write_index": True}}},
                )

    def upsert(self, items: Sequence[Asset | Finding]) -> None:
        if not items:
            return
        self.ensure_indices()
        pending = list(items)
        for attempt in range(BULK_RETRIES):
            with self._translated():
                response = self.client.bulk(self._operations(pending))
            if not response.get("errors"):
                return
            retry, fatal = [], []
            for item, result in zip(pending, response["items"], strict=True):
                outcome = next(iter(result.values()))
                status = int(outcome.get("status", 200))
                if status in RETRYABLE_STATUS:
                    retry.append(item)
                elif status >= 300:
                    fatal.append((item.id, outcome.get("error")))
            if fatal:
                raise StoreError(f"{len(fatal)} document(s) rejected by {self.url}, first: {fatal[0]}")
            pending = retry
            time.sleep(min(0.2 * 2**attempt, 5.0))
        raise StoreError(f"{len(pending)} document(s) still throttled by {self.url} after {BULK_RETRIES} tries")

    def _operations(self, items: Sequence[Asset | Finding]) -> list[dict[str, Any]]:
        ops: list[dict[str, Any]] = []
        for item in items:
            entity = entity_of(item)
            ops.append({"update": {"_index": self.alias(entity), "_id": item.id, "retry_on_conflict": 5}})
            ops.append({
                "scripted_upsert": True,
                "upsert": {},
                "script": {
                    "lang": "painless",
                    "source": UPSERT_SCRIPT,
                    "params": {"doc": new_document(item), "counts_sightings": entity is Entity.FINDINGS},
                },
            })
        return ops

    def get(self, entity: Entity, doc_id: str) -> dict[str, Any] | None:
        self.ensure_indices()
        with self._translated():
            return self.client.get(self.alias(entity), doc_id)

    def _query(self, entity: Entity, query: SearchQuery) -> dict[str, Any]:
        must: list[dict[str, Any]] = []
        if query.text and query.text.strip():
            must.append({"query_string": {"query": query.text, "default_field": "all_text",
                                          "default_operator": "AND"}})
        filters: list[dict[str, Any]] = [
            {"terms": {name: values}} for name, values in query.filters.items() if values
        ]
        if query.since is not None:
            filters.append({"range": {"last_seen": {"gte": iso(query.since)}}})
        return {"bool": {"must": must or [{"match_all": {}}], "filter": filters}}

    def search(self, entity: Entity, query: SearchQuery) -> SearchPage:
        self.ensure_indices()
        query = query.checked(entity)
        sort = query.sort_with_tiebreak()
        body: dict[str, Any] = {
            "query": self._query(entity, query),
            "sort": [{f: {"order": d}} for f, d in sort],
            "size": query.limit,
            "track_total_hits": True,
        }
        if query.search_after is not None:
            body["search_after"] = list(query.search_after)
        with self._translated():
            response = self.client.search(self.alias(entity), body)
        hits = response["hits"]["hits"]
        next_after = tuple(hits[-1]["sort"]) if len(hits) == query.limit else None
        return SearchPage(
            hits=[h["_source"] for h in hits], total=int(response["hits"]["total"]["value"]), next_after=next_after
        )

    def count(self, entity: Entity, query: SearchQuery | None = None) -> int:
        self.ensure_indices()
        body = {"query": self._query(entity, (query or SearchQuery()).checked(entity))}
        with self._translated():
            return self.client.count(self.alias(entity), body)

    def refresh(self) -> None:
        """Make writes searchable now (tests and `--wait`); production relies on the refresh interval."""
        with self._translated():
            for entity in Entity:
                self.client.refresh(self.alias(entity))

    def close(self) -> None:
        self.client.close()


class ElasticsearchClient:
    """Adapter over the official ``elasticsearch`` 9 client."""

    def __init__(self, hosts: list[str], auth: tuple[str, str] | None) -> None:
        from elastic_transport import TransportError
        from elasticsearch import ApiError, BadRequestError, Elasticsearch

        self.unreachable: tuple[type[Exception], ...] = (ApiError, TransportError)
        self.bad_request: tuple[type[Exception], ...] = (BadRequestError,)
        self._es = Elasticsearch(hosts=hosts, basic_auth=auth, retry_on_status=RETRYABLE_STATUS,
                                 max_retries=5, retry_on_timeout=True, request_timeout=30)

    def bulk(self, operations: list[dict[str, Any]]) -> dict[str, Any]:
        return dict(self._es.bulk(operations=operations))

    def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._es.search(index=index, **body))

    def count(self, index: str, body: dict[str, Any]) -> int:
        return int(self._es.count(index=index, query=body["query"])["count"])

    def get(self, index: str, doc_id: str) -> dict[str, Any] | None:
        from elasticsearch import NotFoundError

        try:
            return dict(self._es.get(index=index, id=doc_id)["_source"])
        except NotFoundError:
            return None

    def alias_exists(self, name: str) -> bool:
        return bool(self._es.indices.exists_alias(name=name))

    def create_index(self, name: str, body: dict[str, Any]) -> None:
        from elasticsearch import BadRequestError

        try:
            self._es.indices.create(index=name, **body)
        except BadRequestError as exc:
            if "resource_already_exists_exception" not in str(exc):
                raise

    def refresh(self, index: str) -> None:
        self._es.indices.refresh(index=index)

    def close(self) -> None:
        self._es.close()


class OpenSearchClient:
    """Adapter over ``opensearch-py``."""

    def __init__(self, hosts: list[str], auth: tuple[str, str] | None) -> None:
        from opensearchpy import OpenSearch, RequestError, TransportError

        self.unreachable: tuple[type[Exception], ...] = (TransportError,)
        self.bad_request: tuple[type[Exception], ...] = (RequestError,)
        self._os = OpenSearch(hosts=hosts, http_auth=auth, retry_on_status=RETRYABLE_STATUS,
                              max_retries=5, retry_on_timeout=True, timeout=30)

    def bulk(self, operations: list[dict[str, Any]]) -> dict[str, Any]:
        return dict(self._os.bulk(body=operations))

    def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._os.search(index=index, body=body))

    def count(self, index: str, body: dict[str, Any]) -> int:
        return int(self._os.count(index=index, body=body)["count"])

    def get(self, index: str, doc_id: str) -> dict[str, Any] | None:
        from opensearchpy import NotFoundError

        try:
            return dict(self._os.get(index=index, id=doc_id)["_source"])
        except NotFoundError:
            return None

    def alias_exists(self, name: str) -> bool:
        return bool(self._os.indices.exists_alias(name=name))

    def create_index(self, name: str, body: dict[str, Any]) -> None:
        from opensearchpy import RequestError

        try:
            self._os.indices.create(index=name, body=body)
        except RequestError as exc:
            if "resource_already_exists_exception" not in str(exc):
                raise

    def refresh(self, index: str) -> None:
        self._os.indices.refresh(index=index)

    def close(self) -> None:
        self._os.close()


def connect(engine: str, url: str, index_prefix: str) -> SearchEngineStore:
    """Build the store for ``elasticsearch+http(s)://…`` or ``opensearch+http(s)://…``."""
    parts = urlsplit(url)
    transport = parts.scheme.partition("+")[2]
    if not parts.hostname:
        raise ValueError(f"store URL {url!r} names no host")
    host = f"{transport}://{parts.hostname}:{parts.port or 9200}{parts.path.rstrip('/')}"
    auth = (parts.username or "", parts.password or "") if parts.username else None
    client: EngineClient = (
        ElasticsearchClient([host], auth) if engine == "elasticsearch" else OpenSearchClient([host], auth)
    )
    return SearchEngineStore(client, index_prefix, url)
