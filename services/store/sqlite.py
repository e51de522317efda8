"""Embedded SQLite store: JSON documents, generated columns for filters and sorts, FTS5 for free text."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from services.events import Asset, Finding
from services.store.base import (
    BOOL_FIELDS,
    FILTER_FIELDS,
    SORT_FIELDS,
    STATS_FIELDS,
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
    merge_document,
    new_document,
)
from services.store.sqlite_query import LIST_FIELDS, sql_bool, to_sql

FTS_TEXT = {
    Entity.FINDINGS: ("kind", "provider", "severity", "status", "asset_id", "path", "detector", "redacted",
                      "endpoint", "models", "interface", "credential_source"),
    Entity.ASSETS: ("id", "kind", "owner", "sdk", "url", "runtime_stage", "hardware", "status"),
}


def _schema(entity: Entity) -> str:
    columns = sorted((FILTER_FIELDS[entity] | SORT_FIELDS[entity]) - {"id"} - LIST_FIELDS)
    generated = ",\n".join(f"  {c} GENERATED ALWAYS AS (json_extract(doc, '$.{c}')) VIRTUAL" for c in columns)
    indexes = "\n".join(
        f"CREATE INDEX IF NOT EXISTS {entity.value}_{c} ON {entity.value}({c}, id);"
        for c in ("last_seen", "provider", "kind", "severity_rank", "status", "fingerprint", "asset_id")
        if c in columns
    )
    return f"""
CREATE TABLE IF NOT EXISTS {entity.value} (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  doc TEXT NOT NULL,
{generated}
);
{indexes}
CREATE VIRTUAL TABLE IF NOT EXISTS {entity.value}_fts USING fts5(body);
"""


class SqliteStore:
    """One file, safe to share between threads of one process (a lock serialises writers)."""

    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            for entity in Entity:
                self._db.executescript(_schema(entity))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite store {path!r}: {exc}") from exc
        self._lock = threading.Lock()

    def prepare(self, items: Sequence[Asset | Finding]) -> PreparedUpsert:
        """Nothing to build ahead: merging needs the stored row."""
        return PreparedUpsert(items)

    def upsert(self, items: Sequence[Asset | Finding]) -> None:
        self.write(self.prepare(items))

    def write(self, prepared: PreparedUpsert) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for item in prepared.items:
                    self._upsert_one(entity_of(item), item)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _upsert_one(self, entity: Entity, item: Asset | Finding) -> None:
        table = entity.value
        row = self._db.execute(f"SELECT rowid, doc FROM {table} WHERE id = ?", (item.id,)).fetchone()
        if row is None:
            doc = new_document(item)
            cur = self._db.execute(f"INSERT INTO {table}(id, doc) VALUES (?, ?)", (item.id, orjson.dumps(doc)))
            rowid = cur.lastrowid
        else:
            rowid, stored = row
            merged = merge_document(orjson.loads(stored), item)
            if merged is None:
                return
            doc = merged
            self._db.execute(f"UPDATE {table} SET doc = ? WHERE rowid = ?", (orjson.dumps(doc), rowid))
            self._db.execute(f"DELETE FROM {table}_fts WHERE rowid = ?", (rowid,))
        self._db.execute(
            f"INSERT INTO {table}_fts(rowid, body) VALUES (?, ?)", (rowid, _fts_body(entity, doc))
        )

    def get(self, entity: Entity, doc_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(f"SELECT doc FROM {entity.value} WHERE id = ?", (doc_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def _where(self, entity: Entity, query: SearchQuery) -> tuple[str, list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        if query.text and query.text.strip():
            condition, text_params = to_sql(query.text, entity)
            clauses.append(f"({condition})")
            params.extend(text_params)
        for name, values in query.filters.items():
            if not values:
                continue
            marks = ",".join("?" * len(values))
            if name in LIST_FIELDS:
                clauses.append(f"EXISTS (SELECT 1 FROM json_each(doc, '$.{name}') WHERE value IN ({marks}))")
            else:
                clauses.append(f"{name} IN ({marks})")
            params.extend(_sql_value(name, v) for v in values)
        if query.since is not None:
            clauses.append("last_seen >= ?")
            params.append(iso(query.since))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def search(self, entity: Entity, query: SearchQuery) -> SearchPage:
        query = query.checked(entity)
        where, params = self._where(entity, query)
        sort = query.sort_with_tiebreak()
        order = ", ".join(f"{f} {d.upper()}" for f, d in sort)
        page_where, page_params = where, list(params)
        if query.search_after is not None:
            if len(query.search_after) != len(sort):
                raise QueryError(f"search_after needs {len(sort)} values, one per sort key")
            cursor, cursor_params = _after(sort, query.search_after)
            page_where = f"{where} AND {cursor}" if where else f" WHERE {cursor}"
            page_params += cursor_params
        fields = ", ".join(f for f, _ in sort)
        with self._lock:
            try:
                total = self._db.execute(f"SELECT count(*) FROM {entity.value}{where}", params).fetchone()[0]
                rows = self._db.execute(
                    f"SELECT doc, {fields} FROM {entity.value}{page_where} ORDER BY {order} LIMIT ?",
                    [*page_params, query.limit],
                ).fetchall()
            except sqlite3.OperationalError as exc:
                raise QueryError(f"query cannot run on SQLite: {exc}") from exc
        hits = [orjson.loads(r[0]) for r in rows]
        next_after = tuple(rows[-1][1:]) if len(rows) == query.limit else None
        return SearchPage(hits=hits, total=total, next_after=next_after)

    def count(self, entity: Entity, query: SearchQuery | None = None) -> int:
        where, params = self._where(entity, (query or SearchQuery()).checked(entity))
        with self._lock:
            return int(self._db.execute(f"SELECT count(*) FROM {entity.value}{where}", params).fetchone()[0])

    def stats(self, query: SearchQuery | None = None) -> FindingStats:
        where, params = self._where(Entity.FINDINGS, (query or SearchQuery()).checked(Entity.FINDINGS))
        table = Entity.FINDINGS.value
        with self._lock:
            try:
                total = int(self._db.execute(f"SELECT count(*) FROM {table}{where}", params).fetchone()[0])
                by_field = {
                    name: _counts(self._db.execute(
                        f"SELECT {name}, count(*) FROM {table}{where} GROUP BY {name}", params))
                    for name in STATS_FIELDS
                }
                by_day = _counts(self._db.execute(
                    f"SELECT substr(first_seen, 1, 10) AS day, count(*) FROM {table}{where} GROUP BY day", params))
            except sqlite3.OperationalError as exc:
                raise QueryError(f"query cannot run on SQLite: {exc}") from exc
        return FindingStats(total=total, by_field=by_field, by_day=dict(sorted(by_day.items())))

    def groups(self, by: Sequence[str], query: SearchQuery | None = None) -> list[FindingGroup]:
        fields = checked_group_fields(by)
        where, params = self._where(Entity.FINDINGS, (query or SearchQuery()).checked(Entity.FINDINGS))
        columns = ", ".join(fields)
        with self._lock:
            try:
                rows = self._db.execute(f"SELECT {columns}, count(*), max(first_seen) FROM {Entity.FINDINGS.value}"
                                        f"{where} GROUP BY {columns}", params).fetchall()
            except sqlite3.OperationalError as exc:
                raise QueryError(f"query cannot run on SQLite: {exc}") from exc
        return [FindingGroup(key=tuple(group_value(name, value) for name, value in zip(fields, row, strict=False)),
                             count=int(row[-2]), newest_first_seen=datetime.fromisoformat(row[-1]))
                for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _counts(rows: sqlite3.Cursor) -> dict[str, int]:
    """``value -> count``, largest first, as the engines' terms aggregations order them."""
    pairs = [(str(value), int(n)) for value, n in rows if value is not None]
    return dict(sorted(pairs, key=lambda kv: (-kv[1], kv[0])))


def _sql_value(name: str, value: str) -> object:
    return sql_bool(value) if name in BOOL_FIELDS else value


def _after(sort: Sequence[tuple[str, str]], values: Sequence[Any]) -> tuple[str, list[object]]:
    """Keyset condition "strictly after this row" for a mixed-direction sort (expanded OR of prefixes)."""
    ors: list[str] = []
    params: list[object] = []
    for i, (field, direction) in enumerate(sort):
        parts = [f"{f} = ?" for f, _ in sort[:i]]
        params.extend(values[:i])
        parts.append(f"{field} {'<' if direction == 'desc' else '>'} ?")
        params.append(values[i])
        ors.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(ors) + ")", params


def _fts_body(entity: Entity, doc: dict[str, Any]) -> str:
    words: list[str] = []
    for name in FTS_TEXT[entity]:
        value = doc.get(name)
        if isinstance(value, list):
            words.extend(str(v) for v in value)
        elif value is not None:
            words.append(str(value))
    return " ".join(words)
