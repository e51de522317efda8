"""Recrawl state read from the store: the last sha seen per Space, and each Space's open findings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from services.events import Finding
from services.store import Entity, SearchQuery, Store
from services.store.base import iter_hits

PAGE = 1000


def _all(store: Store, entity: Entity, filters: dict[str, list[str]]) -> Iterator[dict[str, Any]]:
    return iter_hits(store, entity, SearchQuery(filters=filters, sort=(("id", "asc"),), limit=PAGE))


def known_spaces(store: Store, author: str | None = None) -> dict[str, str | None]:
    """``{space_id: sha}`` for every active Space in the store (of one author, if given)."""
    filters = {"kind": ["space"], "status": ["active"]}
    if author:
        filters["owner"] = [author]
    return {doc["id"].split(":", 1)[1]: doc.get("sha") for doc in _all(store, Entity.ASSETS, filters)}


def open_findings(store: Store, asset_id: str) -> list[Finding]:
    """The findings still open on one asset, to resolve those a new scan no longer shows."""
    docs = _all(store, Entity.FINDINGS, {"asset_id": [asset_id], "status": ["open"]})
    fields = set(Finding.model_fields)
    return [Finding.model_validate({k: v for k, v in doc.items() if k in fields}) for doc in docs]
