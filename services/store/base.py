"""The store protocol and the document rules every driver shares.

A stored document is the event plus what only history can tell: ``first_seen``,
``last_seen``, ``sightings`` and a sortable ``severity_rank``. Re-applying the same
event changes nothing, so a replayed bus message never double-counts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

from services.events import Asset, Finding, Severity

SEVERITY_RANK = {s.value: i for i, s in enumerate(Severity, start=1)}


class Entity(StrEnum):
    FINDINGS = "findings"
    ASSETS = "assets"


FILTER_FIELDS: dict[Entity, frozenset[str]] = {
    Entity.FINDINGS: frozenset(
        {"id", "kind", "provider", "severity", "status", "asset_id", "fingerprint", "detector", "restricted",
         "path", "endpoint", "models", "redacted", "interface", "credential_source"}
    ),
    Entity.ASSETS: frozenset({"id", "kind", "owner", "sdk", "sha", "status", "runtime_stage", "hardware", "url"}),
}
SORT_FIELDS: dict[Entity, frozenset[str]] = {
    Entity.FINDINGS: frozenset(
        {"last_seen", "first_seen", "discovered_at", "severity_rank", "sightings", "provider", "kind", "id",
         "confidence"}
    ),
    Entity.ASSETS: frozenset({"last_seen", "first_seen", "id", "owner"}),
}
TIME_FIELD = "last_seen"


class StoreError(RuntimeError):
    """The store refused or could not be reached; the message says which and why."""


class DocumentsRejected(StoreError):
    """The store acknowledged every item but these, which it refused for good (e.g. a mapping conflict).

    ``rejected`` holds ``(position in the upserted sequence, reason)``; retrying them cannot succeed, so the
    caller parks them (the indexer dead-letters them) instead of blocking everything behind them.
    """

    def __init__(self, rejected: list[tuple[int, str]], store: str) -> None:
        self.rejected = rejected
        super().__init__(f"{len(rejected)} document(s) rejected by {store}, first: {rejected[0][1]}")


class QueryError(ValueError):
    """A search the user asked for cannot be run (bad syntax, unknown field)."""


@dataclass(frozen=True)
class SearchQuery:
    """What researchers ask: a query string, exact filters, a time bound, a sort, and a page cursor."""

    text: str | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)
    since: datetime | None = None
    sort: tuple[tuple[str, Literal["asc", "desc"]], ...] = (("last_seen", "desc"),)
    limit: int = 50
    search_after: tuple[Any, ...] | None = None

    def checked(self, entity: Entity) -> SearchQuery:
        unknown = set(self.filters) - FILTER_FIELDS[entity]
        if unknown:
            raise QueryError(f"cannot filter {entity} on {sorted(unknown)}; fields: {sorted(FILTER_FIELDS[entity])}")
        bad_sort = {f for f, _ in self.sort} - SORT_FIELDS[entity]
        if bad_sort:
            raise QueryError(f"cannot sort {entity} on {sorted(bad_sort)}; fields: {sorted(SORT_FIELDS[entity])}")
        if self.limit < 1:
            raise QueryError("limit must be at least 1")
        return self

    def sort_with_tiebreak(self) -> tuple[tuple[str, Literal["asc", "desc"]], ...]:
        """Sort keys ending in ``id`` so ``search_after`` cursors are total and stable."""
        if any(f == "id" for f, _ in self.sort):
            return self.sort
        return (*self.sort, ("id", "asc"))


@dataclass(frozen=True)
class SearchPage:
    hits: list[dict[str, Any]]
    total: int
    next_after: tuple[Any, ...] | None


STATS_FIELDS = ("provider", "kind", "severity", "status")


@dataclass(frozen=True)
class FindingStats:
    """Counts of the findings a query selects: per value of each :data:`STATS_FIELDS` and per UTC day first seen."""

    total: int
    by_field: dict[str, dict[str, int]]
    by_day: dict[str, int]
    """``YYYY-MM-DD`` (UTC day of ``first_seen``) -> findings first seen that day; days without any are absent."""

    def to_json_dict(self) -> dict[str, Any]:
        return {"total": self.total, **{f"by_{name}": counts for name, counts in self.by_field.items()},
                "by_day": self.by_day}


BOOL_FIELDS = frozenset({"restricted"})
"""Boolean fields: SQLite keeps them as 1/0, the engines as true/false."""
GROUP_FIELDS = ("kind", "provider", "severity", "status", "restricted")
"""Fields :meth:`Store.groups` can group findings by."""


@dataclass(frozen=True)
class FindingGroup:
    """The findings that share one value of each grouped field: how many, and when the newest was first seen."""

    key: tuple[str, ...]
    """The values, in the order asked for; booleans as ``"true"``/``"false"``."""
    count: int
    newest_first_seen: datetime


def checked_group_fields(by: Sequence[str]) -> tuple[str, ...]:
    unknown = [name for name in by if name not in GROUP_FIELDS]
    if unknown or not by:
        raise QueryError(f"cannot group findings by {unknown or 'nothing'}; fields: {list(GROUP_FIELDS)}")
    return tuple(by)


def group_value(name: str, value: object) -> str:
    """A grouped field's value as the drivers' answers give it (JSON or SQLite booleans, a missing value)."""
    if name in BOOL_FIELDS:
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass(frozen=True)
class PreparedUpsert:
    """Events already turned into a driver's write request (``request``, in the driver's own form).

    Building the request is CPU work that needs no store; the indexer does it for the next batch while the store
    is still busy with the previous one.
    """

    items: Sequence[Asset | Finding]
    request: Any = None


class Store(Protocol):
    def prepare(self, items: Sequence[Asset | Finding]) -> PreparedUpsert: ...

    def write(self, prepared: PreparedUpsert) -> None:
        """Write prepared events; returns only once the store has acknowledged them all."""

    def upsert(self, items: Sequence[Asset | Finding]) -> None:
        """``write(prepare(items))``."""

    def get(self, entity: Entity, doc_id: str) -> dict[str, Any] | None: ...

    def search(self, entity: Entity, query: SearchQuery) -> SearchPage: ...

    def count(self, entity: Entity, query: SearchQuery | None = None) -> int: ...

    def stats(self, query: SearchQuery | None = None) -> FindingStats:
        """Counts of matching findings by provider, kind, severity, status and day (aggregations where possible)."""

    def groups(self, by: Sequence[str], query: SearchQuery | None = None) -> list[FindingGroup]:
        """Matching findings counted per combination of the ``by`` fields (:data:`GROUP_FIELDS`) that occurs, in
        one aggregation: the open-exposure gauges are recomputed every minute and must not page through every
        finding."""

    def close(self) -> None: ...


def iter_hits(store: Store, entity: Entity, query: SearchQuery) -> Iterator[dict[str, Any]]:
    """Every hit of a query, page by page with ``search_after``: no result-window limit, constant memory."""
    page = store.search(entity, query)
    yield from page.hits
    while page.next_after is not None:
        page = store.search(entity, replace(query, search_after=page.next_after))
        yield from page.hits


def entity_of(item: Asset | Finding) -> Entity:
    return Entity.FINDINGS if isinstance(item, Finding) else Entity.ASSETS


def iso(moment: datetime) -> str:
    """Fixed-width UTC timestamp (``2026-11-26T00:57:39.123456Z``), so it sorts as a string too (SQLite) and
    parses as a date (search engines). ``isoformat`` is several times cheaper than ``strftime`` on this hot path."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def seen_at(item: Asset | Finding) -> datetime:
    return item.discovered_at if isinstance(item, Finding) else item.last_seen


def sighting_id(item: Asset | Finding, seen: str) -> str:
    """Deterministic id of one sighting (entity, moment ``seen`` as :func:`iso` gives it, status): a replayed
    message names the same sighting."""
    parts = (entity_of(item), item.id, seen, item.status)
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def new_document(item: Asset | Finding) -> dict[str, Any]:
    """The document for an id seen for the first time."""
    doc = item.to_json_dict()
    if isinstance(item, Finding):
        doc["discovered_at"] = doc["first_seen"] = doc["last_seen"] = iso(item.discovered_at)
        doc["sightings"] = 1
        doc["severity_rank"] = SEVERITY_RANK[item.severity.value]
    else:
        doc["first_seen"], doc["last_seen"] = iso(item.first_seen), iso(item.last_seen)
    return doc


def merge_document(stored: dict[str, Any], item: Asset | Finding) -> dict[str, Any] | None:
    """Fold a new sighting into the stored document, or ``None`` if it adds nothing (a replay or older event).

    Mirrors :data:`services.store.search_engine.UPSERT_SCRIPT`, which does the same inside the search engine.
    """
    if iso(seen_at(item)) <= stored["last_seen"]:
        return None
    doc = new_document(item)
    doc["first_seen"] = min(stored["first_seen"], doc["first_seen"])
    if isinstance(item, Finding):
        doc["sightings"] = stored.get("sightings", 1) + (1 if item.status.value == "open" else 0)
    return doc
