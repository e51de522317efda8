"""Elasticsearch and OpenSearch drivers: one store over two clients.

Everything engine-neutral (templates, scripted upserts, the sightings stream, query building, paging,
aggregations, reindex-and-swap) lives in :class:`SearchEngineStore`; the two client adapters only translate
calls, because the official ``elasticsearch`` 9 client takes keyword arguments where ``opensearch-py`` takes a
body, and because each engine has its own lifecycle manager (ILM on Elasticsearch, the ISM plugin on OpenSearch).

Layout for the index prefix ``P``:

- ``P-findings`` and ``P-assets`` are aliases over versioned indices ``P-findings-v<N>``. Composable index
  templates give every generation the current explicit mappings, so a mapping change is a new generation filled
  by ``_reindex`` and an atomic alias swap (:meth:`SearchEngineStore.migrate`).
- ``P-events`` is a data stream holding every sighting as an immutable event, for time-series panels; the
  lifecycle policy ``P-events`` rolls it over and deletes old generations where the server has a lifecycle
  manager (reported in :attr:`SearchEngineStore.lifecycle`).
"""

from __future__ import annotations

import logging
import random
import re
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, cast
from urllib.parse import urlsplit

import orjson

from services.config import mask_url
from services.events import Asset, Finding
from services.store.base import (
    SEVERITY_RANK,
    STATS_FIELDS,
    DocumentsRejected,
    Entity,
    FindingGroup,
    FindingStats,
    PreparedUpsert,
    QueryError,
    SearchPage,
    SearchQuery,
    StoreError,
    checked_group_fields,
    entity_of,
    group_value,
    iso,
    new_document,
    sighting_id,
)

log = logging.getLogger(__name__)

MAPPING_VERSION = 1
"""Version of :data:`MAPPINGS`, kept in each index's ``_meta``: bump it with any mapping change, then run
``exposurewatch index migrate`` to reindex into a new generation."""
ENTITY_REFRESH_INTERVAL = "1s"
"""Findings and assets: a researcher sees an acknowledged write within a second."""
EVENTS_REFRESH_INTERVAL = "5s"
"""Sightings feed time-series panels, which need no fresher data; fewer refreshes make bulk writes cheaper."""
EVENTS_ROLLOVER_AGE = "1d"
EVENTS_ROLLOVER_SHARD_SIZE = "10gb"
EVENTS_RETENTION = "30d"
"""Sightings are deleted this long after their generation rolled over."""
TEMPLATE_PRIORITY = 200
STATS_BUCKETS = 1000
GROUPS_PAGE = 1000
"""Composite-aggregation buckets per request of :meth:`SearchEngineStore.groups`."""
"""Terms-aggregation size: far above the number of providers, kinds, severities or statuses there are."""
BULK_RETRIES = 6
BULK_FILTER_PATH = "errors,items.*.status,items.*.error"
"""Of a bulk answer only what the store reads: a 1,000-operation answer shrinks from about 200 kB to a few."""
REINDEX_POLL_S = 0.5

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
_EXACT = {"type": "keyword"}
_DATE = {"type": "date"}
MAPPINGS: dict[Entity, dict[str, Any]] = {
    Entity.FINDINGS: {
        "_meta": {"mapping_version": MAPPING_VERSION},
        "dynamic": "strict",
        "properties": {
            # ``models`` is a list of plain strings: a multi-valued keyword already matches each element on its
            # own; ``nested`` only matters for lists of objects, where it keeps one object's fields together.
            **{f: _KEYWORD for f in ("kind", "provider", "severity", "status", "asset_id", "path", "detector",
                                     "redacted", "endpoint", "models", "interface", "credential_source")},
            **{f: _EXACT for f in ("id", "type", "schema_version", "fingerprint", "detector_version")},
            **{f: _DATE for f in ("first_seen", "last_seen", "discovered_at")},
            **{f: {"type": "integer"} for f in ("line", "column", "sightings", "severity_rank")},
            "confidence": {"type": "float"},
            "restricted": {"type": "boolean"},
            "all_text": {"type": "text", "analyzer": "words"},
        },
    },
    Entity.ASSETS: {
        "_meta": {"mapping_version": MAPPING_VERSION},
        "dynamic": "strict",
        "properties": {
            **{f: _KEYWORD for f in ("id", "kind", "url", "owner", "sdk", "runtime_stage", "hardware", "status")},
            **{f: _EXACT for f in ("type", "schema_version", "sha")},
            **{f: _DATE for f in ("first_seen", "last_seen")},
            "all_text": {"type": "text", "analyzer": "words"},
        },
    },
}
EVENTS_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "@timestamp": _DATE,
        **{f: _EXACT for f in ("entity", "id", "asset_id", "kind", "status", "provider", "severity", "detector",
                               "models", "owner")},
        "severity_rank": {"type": "integer"},
        "restricted": {"type": "boolean"},
    },
}
ANALYSIS = {
    "normalizer": {"lowercase": {"type": "custom", "filter": ["lowercase"]}},
    # Split on anything but letters and digits, as SQLite's FTS5 unicode61 tokenizer does, so free text
    # finds "owner1" inside "space:owner1/app1" on every store alike.
    "tokenizer": {"words": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"}},
    "analyzer": {"words": {"type": "custom", "tokenizer": "words", "filter": ["lowercase"]}},
}
# Replicas are left to the cluster's default: one node (the test stack) sets it to 0, a production cluster keeps
# its own redundancy.
COMMON_SETTINGS = {"index": {"number_of_shards": 1}}

LifecycleKind = Literal["ilm", "ism"]


def lifecycle_policy(kind: LifecycleKind, stream: str) -> dict[str, Any]:
    """The events stream's policy: roll over daily or at 10 GB a primary shard, delete 30 days after rollover.

    ILM (Elasticsearch) attaches through the index template's ``index.lifecycle.name``; ISM (OpenSearch) attaches
    itself through ``ism_template``, whose pattern ISM matches against the data stream's name.
    """
    description = f"Sightings in {stream}: roll over daily, delete {EVENTS_RETENTION} after rollover."
    if kind == "ilm":
        return {"policy": {
            "_meta": {"description": description},
            "phases": {
                "hot": {"actions": {"rollover": {"max_age": EVENTS_ROLLOVER_AGE,
                                                 "max_primary_shard_size": EVENTS_ROLLOVER_SHARD_SIZE}}},
                "delete": {"min_age": EVENTS_RETENTION, "actions": {"delete": {}}},
            },
        }}
    return {"policy": {
        "description": description,
        "default_state": "hot",
        "states": [
            {"name": "hot",
             "actions": [{"rollover": {"min_index_age": EVENTS_ROLLOVER_AGE,
                                       "min_primary_shard_size": EVENTS_ROLLOVER_SHARD_SIZE}}],
             "transitions": [{"state_name": "delete", "conditions": {"min_rollover_age": EVENTS_RETENTION}}]},
            {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
        ],
        "ism_template": [{"index_patterns": [stream], "priority": 100}],
    }}


class LifecycleUnavailable(RuntimeError):
    """The server has no lifecycle manager (no ILM endpoint, or OpenSearch without the ISM plugin)."""


@dataclass(frozen=True)
class LifecycleStatus:
    """Whether the events stream's lifecycle policy is in force, and if not why: for the operator to read."""

    kind: LifecycleKind
    policy: str
    installed: bool
    detail: str


@dataclass(frozen=True)
class Migration:
    """What :meth:`SearchEngineStore.migrate` did to one entity's alias."""

    entity: Entity
    source: str
    target: str
    documents: int
    reindexed: bool


class EngineClient(Protocol):
    """The calls the store makes, in one shape for both clients."""

    unreachable: tuple[type[Exception], ...]
    """Exceptions meaning the server is down or refused the call."""
    bad_request: tuple[type[Exception], ...]
    """Exceptions meaning the request itself was wrong (e.g. query syntax)."""
    lifecycle_kind: LifecycleKind

    def bulk(self, ndjson: bytes) -> dict[str, Any]:
        """Send a serialised bulk body; the answer keeps only ``errors`` and each item's status and error."""

    def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def count(self, index: str, body: dict[str, Any]) -> int: ...

    def get(self, index: str, doc_id: str) -> dict[str, Any] | None: ...

    def alias_indices(self, alias: str) -> list[str]:
        """Indices behind an alias; empty if there is no such alias."""

    def mapping_version(self, index: str) -> int:
        """``_meta.mapping_version`` of an index's mapping; 0 if it has none."""

    def put_component_template(self, name: str, body: dict[str, Any]) -> None: ...

    def put_index_template(self, name: str, body: dict[str, Any]) -> None: ...

    def put_lifecycle_policy(self, name: str, body: dict[str, Any]) -> None:
        """Create or update a policy; raises :class:`LifecycleUnavailable` if the server has no such API."""

    def create_index(self, name: str, body: dict[str, Any], exist_ok: bool = True) -> None: ...

    def create_data_stream(self, name: str) -> None:
        """Create the stream if it does not exist yet."""

    def set_write_block(self, index: str, blocked: bool) -> None: ...

    def start_reindex(self, source: str, dest: str) -> str:
        """Start copying every document; returns the task id."""

    def task(self, task_id: str) -> dict[str, Any]: ...

    def update_aliases(self, actions: list[dict[str, Any]]) -> None: ...

    def delete_index(self, name: str) -> None: ...

    def refresh(self, index: str) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class _Operation:
    """One bulk action and its source, tied to the item it writes, serialized once (a retry re-sends the bytes)."""

    position: int
    action: dict[str, Any]
    source: dict[str, Any]
    replay_is_success: bool
    """True for a sighting's ``create``: a 409 means that very sighting is already stored."""
    ndjson: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ndjson", orjson.dumps(self.action) + b"\n" + orjson.dumps(self.source) + b"\n")


def _generation(index: str) -> int:
    found = re.search(r"-v(\d+)$", index)
    return int(found.group(1)) if found else 0


def _status_of(exc: Exception) -> int | None:
    """HTTP status of a client exception, if the server answered at all."""
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _retryable(status: int, error: Any) -> bool:
    """Throttling, server errors, update conflicts and index blocks (as during a migration) pass; retry later."""
    kind = error.get("type") if isinstance(error, dict) else None
    return status == 429 or status >= 500 or status == 409 or kind == "cluster_block_exception"


def _backoff(attempt: int) -> float:
    return min(0.2 * 2.0**attempt, 5.0) * random.uniform(0.8, 1.2)


def event_document(item: Asset | Finding, seen: str) -> dict[str, Any]:
    """One sighting, at ``seen`` (as :func:`iso` gives it), as an immutable event of the ``events`` stream."""
    if isinstance(item, Finding):
        return {"@timestamp": seen, "entity": "finding", "id": item.id, "kind": item.kind.value,
                "status": item.status.value, "asset_id": item.asset_id, "provider": item.provider,
                "severity": item.severity.value, "severity_rank": SEVERITY_RANK[item.severity.value],
                "detector": item.detector, "models": item.models, "restricted": item.restricted}
    return {"@timestamp": seen, "entity": "asset", "id": item.id, "kind": item.kind.value,
            "status": item.status.value, "asset_id": item.id, "owner": item.owner}


class SearchEngineStore:
    def __init__(self, client: EngineClient, index_prefix: str, url: str) -> None:
        self.client = client
        self.prefix = index_prefix
        self.url = url
        self.events_stream = f"{index_prefix}-events"
        self.lifecycle: LifecycleStatus | None = None
        """Set by :meth:`ensure_indices`: whether the events stream's lifecycle policy is in force."""
        self._ready = False

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Client exceptions become :class:`QueryError` or :class:`StoreError` naming this store (password masked)."""
        try:
            yield
        except self.client.bad_request as exc:
            raise QueryError(f"{mask_url(self.url)} rejected the request: {exc}") from exc
        except self.client.unreachable as exc:
            raise StoreError(f"store {mask_url(self.url)} failed: {exc}") from exc

    def alias(self, entity: Entity) -> str:
        return f"{self.prefix}-{entity.value}"

    # ------------------------------------------------------------------------------------------- layout

    def ensure_indices(self) -> None:
        """Install policy and templates, then create what is missing: a first generation per alias, the stream.

        Templates are re-put on every start, so a new release's mappings reach the next generation; live
        indices keep theirs until ``exposurewatch index migrate``.
        """
        if self._ready:
            return
        with self._translated():
            self.lifecycle = self._install_lifecycle()
            for name, body in self.component_templates().items():
                self.client.put_component_template(name, body)
            for name, body in self.index_templates().items():
                self.client.put_index_template(name, body)
            self._create_missing_indices()
            self.client.create_data_stream(self.events_stream)
        self._ready = True

    def _install_lifecycle(self) -> LifecycleStatus:
        kind = self.client.lifecycle_kind
        manager = "ILM" if kind == "ilm" else "ISM"
        try:
            self.client.put_lifecycle_policy(self.events_stream, lifecycle_policy(kind, self.events_stream))
        except LifecycleUnavailable as exc:
            detail = (f"{manager} is not available on {mask_url(self.url)} ({exc}): the {self.events_stream} "
                      f"stream will not roll over or expire by itself")
            log.debug("%s", detail)  # the indexer, which owns the stream, reports it as a warning
            return LifecycleStatus(kind, self.events_stream, installed=False, detail=detail)
        return LifecycleStatus(kind, self.events_stream, installed=True,
                               detail=f"{manager} policy {self.events_stream} manages {self.events_stream}")

    def component_templates(self) -> dict[str, dict[str, Any]]:
        mappings = {f"{self.alias(e)}-mappings": MAPPINGS[e] for e in Entity}
        mappings[f"{self.events_stream}-mappings"] = EVENTS_MAPPING
        # A component template is validated on its own, so mappings travel with the analyzers they name.
        return {
            f"{self.prefix}-common": {"template": {"settings": COMMON_SETTINGS}},
            **{name: {"template": {"settings": {"analysis": ANALYSIS}, "mappings": body}}
               for name, body in mappings.items()},
        }

    def index_templates(self) -> dict[str, dict[str, Any]]:
        common = f"{self.prefix}-common"
        templates = {
            self.alias(e): {
                "index_patterns": [f"{self.alias(e)}-v*"],
                "composed_of": [common, f"{self.alias(e)}-mappings"],
                "template": {"settings": {"index": {"refresh_interval": ENTITY_REFRESH_INTERVAL}}},
                "priority": TEMPLATE_PRIORITY,
            }
            for e in Entity
        }
        events_settings: dict[str, Any] = {"refresh_interval": EVENTS_REFRESH_INTERVAL}
        if self.lifecycle is not None and self.lifecycle.installed and self.lifecycle.kind == "ilm":
            events_settings["lifecycle"] = {"name": self.lifecycle.policy}
        templates[self.events_stream] = {
            "index_patterns": [self.events_stream],
            "data_stream": {},
            "composed_of": [common, f"{self.events_stream}-mappings"],
            "template": {"settings": {"index": events_settings}},
            "priority": TEMPLATE_PRIORITY,
        }
        return templates

    def _create_missing_indices(self) -> None:
        for entity in Entity:
            alias = self.alias(entity)
            live = self.client.alias_indices(alias)
            if not live:
                self.client.create_index(f"{alias}-v1", {"aliases": {alias: {"is_write_index": True}}})
            elif (version := self.client.mapping_version(live[0])) < MAPPING_VERSION:
                log.warning("%s has mapping version %d, this release writes %d: run `exposurewatch index migrate`",
                            live[0], version, MAPPING_VERSION)

    def migrate(self, entity: Entity, force: bool = False, keep_old: bool = False) -> Migration:
        """Reindex an entity into a new generation with the current mappings and swap its alias atomically.

        The old index is write-blocked meanwhile, so nothing written during the copy can be lost: writers get a
        retryable block error until the swap and then write to the new generation. A failure rolls back (block
        lifted, new index dropped). Skipped when the live index already has :data:`MAPPING_VERSION`, unless
        ``force``.
        """
        self.ensure_indices()
        alias = self.alias(entity)
        with self._translated():
            live = self.client.alias_indices(alias)
            if len(live) != 1:
                raise StoreError(f"alias {alias} points at {live or 'nothing'}; migrate needs exactly one index")
            [source] = live
            if not force and self.client.mapping_version(source) == MAPPING_VERSION:
                documents = self.client.count(source, {"query": {"match_all": {}}})
                return Migration(entity, source, source, documents, reindexed=False)
            target = f"{alias}-v{_generation(source) + 1}"
            self.client.create_index(target, {}, exist_ok=False)
            self.client.set_write_block(source, True)
            try:
                documents = self._copy(source, target)
                self.client.update_aliases([
                    {"remove": {"index": source, "alias": alias}},
                    {"add": {"index": target, "alias": alias, "is_write_index": True}},
                ])
            except BaseException:
                self.client.set_write_block(source, False)
                self.client.delete_index(target)
                raise
            if not keep_old:
                self.client.delete_index(source)
        return Migration(entity, source, target, documents, reindexed=True)

    def _copy(self, source: str, target: str) -> int:
        task_id = self.client.start_reindex(source, target)
        while not (task := self.client.task(task_id)).get("completed"):
            time.sleep(REINDEX_POLL_S)
        response = task.get("response") or {}
        failures = response.get("failures") or []
        if task.get("error") or failures:
            raise StoreError(f"reindex {source} -> {target} failed: {task.get('error') or failures[0]}")
        self.client.refresh(target)
        everything: dict[str, Any] = {"query": {"match_all": {}}}
        copied, expected = self.client.count(target, everything), self.client.count(source, everything)
        if copied != expected:
            raise StoreError(f"reindex {source} -> {target} copied {copied} of {expected} documents")
        return copied

    # -------------------------------------------------------------------------------------------- writes

    def prepare(self, items: Sequence[Asset | Finding]) -> PreparedUpsert:
        return PreparedUpsert(items, self._operations(items))

    def upsert(self, items: Sequence[Asset | Finding]) -> None:
        self.write(self.prepare(items))

    def write(self, prepared: PreparedUpsert) -> None:
        """Fold each item into its entity document and record it as a sighting, in one bulk request.

        Throttled (429), failed (5xx) and blocked operations are retried with backoff, the rest never again;
        documents the server refuses for good raise :class:`DocumentsRejected` once all others are acknowledged.
        """
        pending: list[_Operation] = prepared.request
        if not pending:
            return
        self.ensure_indices()
        rejected: dict[int, str] = {}
        attempt = 0
        while pending:
            retry, refused = self._bulk(pending, last_try=attempt == BULK_RETRIES - 1)
            for position, reason in refused:
                rejected.setdefault(position, reason)
            if not retry:
                break
            attempt += 1
            if attempt == BULK_RETRIES:
                raise StoreError(f"{len(retry)} operation(s) still refused by {mask_url(self.url)} after "
                                 f"{BULK_RETRIES} tries")
            time.sleep(_backoff(attempt))
            pending = retry
        if rejected:
            raise DocumentsRejected(sorted(rejected.items()), mask_url(self.url))

    def _bulk(self, pending: list[_Operation], last_try: bool) -> tuple[list[_Operation], list[tuple[int, str]]]:
        """One bulk request: the operations to retry, and the ``(position, reason)`` of those refused for good."""
        ndjson = b"".join(op.ndjson for op in pending)
        try:
            response = self.client.bulk(ndjson)
        except self.client.bad_request as exc:
            raise QueryError(f"{mask_url(self.url)} rejected the bulk request: {exc}") from exc
        except self.client.unreachable as exc:
            status = _status_of(exc)
            if status is None or not _retryable(status, None):
                raise StoreError(f"store {mask_url(self.url)} failed: {exc}") from exc
            if last_try:
                raise StoreError(f"store {mask_url(self.url)} still answers {status} after {BULK_RETRIES} tries: "
                                 f"{exc}") from exc
            log.info("bulk request answered %d by %s; backing off", status, mask_url(self.url))
            return pending, []
        if not response.get("errors"):
            return [], []
        retry: list[_Operation] = []
        refused: list[tuple[int, str]] = []
        for op, result in zip(pending, response["items"], strict=True):
            outcome = next(iter(result.values()))
            status = int(outcome.get("status", 200))
            if status < 300 or (status == 409 and op.replay_is_success):
                continue
            error = outcome.get("error")
            if _retryable(status, error):
                retry.append(op)
            else:
                reason = error.get("reason", error) if isinstance(error, dict) else error
                refused.append((op.position, f"{status} {reason}"))
        return retry, refused

    def _operations(self, items: Sequence[Asset | Finding]) -> list[_Operation]:
        ops: list[_Operation] = []
        for position, item in enumerate(items):
            entity = entity_of(item)
            doc = new_document(item)
            seen = doc["last_seen"]
            ops.append(_Operation(
                position,
                {"update": {"_index": self.alias(entity), "_id": item.id, "retry_on_conflict": 5}},
                {"scripted_upsert": True, "upsert": {}, "script": {
                    "lang": "painless",
                    "source": UPSERT_SCRIPT,
                    "params": {"doc": doc, "counts_sightings": entity is Entity.FINDINGS},
                }},
                replay_is_success=False,
            ))
            ops.append(_Operation(position, {"create": {"_index": self.events_stream, "_id": sighting_id(item, seen)}},
                                  event_document(item, seen), replay_is_success=True))
        return ops

    # --------------------------------------------------------------------------------------------- reads

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

    def stats(self, query: SearchQuery | None = None) -> FindingStats:
        self.ensure_indices()
        query = (query or SearchQuery()).checked(Entity.FINDINGS)
        aggs: dict[str, Any] = {name: {"terms": {"field": name, "size": STATS_BUCKETS}} for name in STATS_FIELDS}
        aggs["by_day"] = {"date_histogram": {"field": "first_seen", "calendar_interval": "day",
                                             "format": "yyyy-MM-dd", "min_doc_count": 1}}
        body = {"query": self._query(Entity.FINDINGS, query), "size": 0, "track_total_hits": True, "aggs": aggs}
        with self._translated():
            response = self.client.search(self.alias(Entity.FINDINGS), body)
        found = response["aggregations"]
        return FindingStats(
            total=int(response["hits"]["total"]["value"]),
            by_field={name: {str(b["key"]): int(b["doc_count"]) for b in found[name]["buckets"]}
                      for name in STATS_FIELDS},
            by_day={str(b["key_as_string"]): int(b["doc_count"]) for b in found["by_day"]["buckets"]},
        )

    def groups(self, by: Sequence[str], query: SearchQuery | None = None) -> list[FindingGroup]:
        fields = checked_group_fields(by)
        self.ensure_indices()
        query = (query or SearchQuery()).checked(Entity.FINDINGS)
        composite: dict[str, Any] = {
            "size": GROUPS_PAGE,
            "sources": [{name: {"terms": {"field": name, "missing_bucket": True}}} for name in fields],
        }
        body = {"query": self._query(Entity.FINDINGS, query), "size": 0,
                "aggs": {"groups": {"composite": composite, "aggs": {"newest": {"max": {"field": "first_seen"}}}}}}
        found: list[FindingGroup] = []
        while True:
            with self._translated():
                answer = self.client.search(self.alias(Entity.FINDINGS), body)["aggregations"]["groups"]
            found.extend(
                FindingGroup(key=tuple(group_value(name, bucket["key"][name]) for name in fields),
                             count=int(bucket["doc_count"]),
                             newest_first_seen=datetime.fromtimestamp(bucket["newest"]["value"] / 1000, UTC))
                for bucket in answer["buckets"]
            )
            if not answer["buckets"] or "after_key" not in answer:
                return found
            composite["after"] = answer["after_key"]

    def refresh(self) -> None:
        """Make writes searchable now (tests and `--wait`); production relies on the refresh interval."""
        self.ensure_indices()
        with self._translated():
            for name in (*(self.alias(e) for e in Entity), self.events_stream):
                self.client.refresh(name)

    def close(self) -> None:
        self.client.close()


def _lacks_endpoint(exc: Exception) -> bool:
    """The server has no handler for the path: the plugin or feature behind it is not installed."""
    text = str(exc)
    return "no handler found" in text or _status_of(exc) == 405


def _already_exists(exc: Exception) -> bool:
    return "already_exists" in str(exc)


class ElasticsearchClient:
    """Adapter over the official ``elasticsearch`` 9 client."""

    lifecycle_kind: LifecycleKind = "ilm"

    def __init__(self, hosts: list[str], auth: tuple[str, str] | None) -> None:
        from elastic_transport import TransportError
        from elasticsearch import ApiError, BadRequestError, Elasticsearch
        from elasticsearch.serializer import OrjsonSerializer

        self.unreachable: tuple[type[Exception], ...] = (ApiError, TransportError)
        self.bad_request: tuple[type[Exception], ...] = (BadRequestError,)
        # Status retries are the store's, with backoff; the client only retries lost connections and timeouts.
        self._es = Elasticsearch(hosts=hosts, basic_auth=auth, retry_on_status=(), max_retries=2,
                                 retry_on_timeout=True, request_timeout=30, serializer=OrjsonSerializer())

    def bulk(self, ndjson: bytes) -> dict[str, Any]:
        # The client types operations as mappings, but forwards an already serialised ndjson body untouched.
        return dict(self._es.bulk(operations=cast(Any, ndjson), filter_path=BULK_FILTER_PATH))

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

    def alias_indices(self, alias: str) -> list[str]:
        from elasticsearch import NotFoundError

        try:
            return sorted(self._es.indices.get_alias(name=alias))
        except NotFoundError:
            return []

    def mapping_version(self, index: str) -> int:
        mapping = self._es.indices.get_mapping(index=index)[index]["mappings"]
        return int(mapping.get("_meta", {}).get("mapping_version", 0))

    def put_component_template(self, name: str, body: dict[str, Any]) -> None:
        self._es.cluster.put_component_template(name=name, **body)

    def put_index_template(self, name: str, body: dict[str, Any]) -> None:
        self._es.indices.put_index_template(name=name, **body)

    def put_lifecycle_policy(self, name: str, body: dict[str, Any]) -> None:
        from elasticsearch import ApiError

        try:
            self._es.ilm.put_lifecycle(name=name, policy=body["policy"])
        except ApiError as exc:
            if _lacks_endpoint(exc):
                raise LifecycleUnavailable(f"no handler for /_ilm/policy/{name}") from exc
            raise

    def create_index(self, name: str, body: dict[str, Any], exist_ok: bool = True) -> None:
        from elasticsearch import BadRequestError

        try:
            self._es.indices.create(index=name, **body)
        except BadRequestError as exc:
            if not (exist_ok and _already_exists(exc)):
                raise

    def create_data_stream(self, name: str) -> None:
        from elasticsearch import BadRequestError

        try:
            self._es.indices.create_data_stream(name=name)
        except BadRequestError as exc:
            if not _already_exists(exc):
                raise

    def set_write_block(self, index: str, blocked: bool) -> None:
        self._es.indices.put_settings(index=index, settings={"index.blocks.write": blocked})

    def start_reindex(self, source: str, dest: str) -> str:
        return str(self._es.reindex(source={"index": source}, dest={"index": dest},
                                    wait_for_completion=False)["task"])

    def task(self, task_id: str) -> dict[str, Any]:
        from elasticsearch.exceptions import GeneralAvailabilityWarning

        with warnings.catch_warnings():  # the client flags the task API as a preview; reindex tasks are GA
            warnings.simplefilter("ignore", GeneralAvailabilityWarning)
            return dict(self._es.tasks.get(task_id=task_id))

    def update_aliases(self, actions: list[dict[str, Any]]) -> None:
        self._es.indices.update_aliases(actions=actions)

    def delete_index(self, name: str) -> None:
        self._es.indices.delete(index=name)

    def refresh(self, index: str) -> None:
        self._es.indices.refresh(index=index)

    def close(self) -> None:
        self._es.close()


class OpenSearchClient:
    """Adapter over ``opensearch-py``."""

    lifecycle_kind: LifecycleKind = "ism"

    def __init__(self, hosts: list[str], auth: tuple[str, str] | None) -> None:
        from opensearchpy import OpenSearch, RequestError, TransportError
        from opensearchpy.exceptions import SerializationError
        from opensearchpy.serializer import JSONSerializer

        class OrjsonDeserializer(JSONSerializer):
            """Answers parsed with orjson: a bulk answer is parsed on the indexer's critical path."""

            def loads(self, s: str) -> Any:
                try:
                    return orjson.loads(s)
                except orjson.JSONDecodeError as exc:
                    raise SerializationError(s, exc) from exc

        self.unreachable: tuple[type[Exception], ...] = (TransportError,)
        self.bad_request: tuple[type[Exception], ...] = (RequestError,)
        # Status retries are the store's, with backoff; the client only retries lost connections and timeouts.
        self._os = OpenSearch(hosts=hosts, http_auth=auth, retry_on_status=(), max_retries=2,
                              retry_on_timeout=True, timeout=30, serializer=OrjsonDeserializer())

    def bulk(self, ndjson: bytes) -> dict[str, Any]:
        return dict(self._os.bulk(body=ndjson, params={"filter_path": BULK_FILTER_PATH}))

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

    def alias_indices(self, alias: str) -> list[str]:
        from opensearchpy import NotFoundError

        try:
            return sorted(self._os.indices.get_alias(name=alias))
        except NotFoundError:
            return []

    def mapping_version(self, index: str) -> int:
        mapping = self._os.indices.get_mapping(index=index)[index]["mappings"]
        return int(mapping.get("_meta", {}).get("mapping_version", 0))

    def put_component_template(self, name: str, body: dict[str, Any]) -> None:
        self._os.cluster.put_component_template(name=name, body=body)

    def put_index_template(self, name: str, body: dict[str, Any]) -> None:
        self._os.indices.put_index_template(name=name, body=body)

    def put_lifecycle_policy(self, name: str, body: dict[str, Any]) -> None:
        """ISM refuses a blind overwrite: an existing policy is updated under its sequence number."""
        from opensearchpy import ConflictError, NotFoundError, TransportError

        ism = self._os.plugins.index_management
        try:
            try:
                current = ism.get_policy(policy=name)
            except NotFoundError:
                ism.put_policy(policy=name, body=body)
            else:
                ism.put_policy(policy=name, body=body, params={"if_seq_no": current["_seq_no"],
                                                                "if_primary_term": current["_primary_term"]})
        except ConflictError:
            log.info("ISM policy %s was updated concurrently; keeping that version", name)
        except TransportError as exc:
            if _lacks_endpoint(exc):
                raise LifecycleUnavailable(
                    f"no handler for /_plugins/_ism/policies/{name}: the index-management plugin is not installed"
                ) from exc
            raise

    def create_index(self, name: str, body: dict[str, Any], exist_ok: bool = True) -> None:
        from opensearchpy import RequestError

        try:
            self._os.indices.create(index=name, body=body)
        except RequestError as exc:
            if not (exist_ok and _already_exists(exc)):
                raise

    def create_data_stream(self, name: str) -> None:
        from opensearchpy import RequestError

        try:
            self._os.indices.create_data_stream(name=name)
        except RequestError as exc:
            if not _already_exists(exc):
                raise

    def set_write_block(self, index: str, blocked: bool) -> None:
        self._os.indices.put_settings(index=index, body={"index.blocks.write": blocked})

    def start_reindex(self, source: str, dest: str) -> str:
        body = {"source": {"index": source}, "dest": {"index": dest}}
        return str(self._os.reindex(body=body, params={"wait_for_completion": "false"})["task"])

    def task(self, task_id: str) -> dict[str, Any]:
        return dict(self._os.tasks.get(task_id=task_id))

    def update_aliases(self, actions: list[dict[str, Any]]) -> None:
        self._os.indices.update_aliases(body={"actions": actions})

    def delete_index(self, name: str) -> None:
        self._os.indices.delete(index=name)

    def refresh(self, index: str) -> None:
        self._os.indices.refresh(index=index)

    def close(self) -> None:
        self._os.close()


def connect(engine: str, url: str, index_prefix: str) -> SearchEngineStore:
    """Build the store for ``elasticsearch+http(s)://…`` or ``opensearch+http(s)://…``."""
    parts = urlsplit(url)
    transport = parts.scheme.partition("+")[2]
    if not parts.hostname:
        raise ValueError(f"store URL {mask_url(url)!r} names no host")
    host = f"{transport}://{parts.hostname}:{parts.port or 9200}{parts.path.rstrip('/')}"
    auth = (parts.username or "", parts.password or "") if parts.username else None
    client: EngineClient = (
        ElasticsearchClient([host], auth) if engine == "elasticsearch" else OpenSearchClient([host], auth)
    )
    return SearchEngineStore(client, index_prefix, url)
