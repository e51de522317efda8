"""Document store: protocol in :mod:`services.store.base`, drivers chosen by SQLAlchemy-style URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from services.store.base import (
    DocumentsRejected,
    Entity,
    FindingGroup,
    FindingStats,
    PreparedUpsert,
    QueryError,
    SearchPage,
    SearchQuery,
    Store,
    StoreError,
    iter_hits,
)

__all__ = ["DocumentsRejected", "Entity", "FindingGroup", "FindingStats", "PreparedUpsert", "QueryError", "SearchPage",
           "SearchQuery", "Store", "StoreError", "iter_hits", "open_store"]

SCHEMES = ("sqlite:///PATH", "elasticsearch+http(s)://[user:pass@]host:port", "opensearch+http(s)://…")


def open_store(url: str, index_prefix: str = "exposurewatch") -> Store:
    """Open the store a URL names; an unknown scheme is a clear error listing the supported ones."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        if not url.startswith("sqlite:///") or len(url) <= len("sqlite:///"):
            raise ValueError(f"store URL {url!r}: use sqlite:///relative/path.db or sqlite:////abs/path.db")
        from services.store.sqlite import SqliteStore

        return SqliteStore(url[len("sqlite:///"):])
    engine, _, transport = parts.scheme.partition("+")
    if engine in {"elasticsearch", "opensearch"} and transport in {"http", "https"}:
        from services.store.search_engine import connect

        return connect(engine, url, index_prefix)
    raise ValueError(f"unsupported store URL {url!r}; use one of: {', '.join(SCHEMES)}")
