"""Lucene-style query strings for SQLite, so researchers type the same query on every store.

luqum parses the string; this module turns its tree into a parameterised SQL condition:
``field:value`` on known fields, free words through FTS5, AND/OR/NOT, phrases, wildcards, ranges.
"""

from __future__ import annotations

import re

from luqum.exceptions import ParseError
from luqum.parser import parser
from luqum.tree import (
    AndOperation,
    BaseOperation,
    FieldGroup,
    Group,
    Item,
    Not,
    OrOperation,
    Phrase,
    Plus,
    Prohibit,
    Range,
    SearchField,
    UnknownOperation,
    Word,
)

from services.store.base import BOOL_FIELDS, FILTER_FIELDS, SORT_FIELDS, Entity, QueryError

LUCENE_ESCAPE = re.compile(r"\\(.)")
LIST_FIELDS = frozenset({"models"})
TIME_FIELDS = frozenset({"first_seen", "last_seen", "discovered_at"})


class SqlCondition:
    """Collects SQL text and its parameters while walking the tree."""

    def __init__(self, entity: Entity) -> None:
        self.entity = entity
        self.params: list[object] = []
        self.fields = FILTER_FIELDS[entity] | SORT_FIELDS[entity]

    def build(self, node: Item, field: str | None = None) -> str:
        if isinstance(node, SearchField):
            if node.name not in self.fields:
                raise QueryError(f"unknown field {node.name!r}; fields: {sorted(self.fields)}")
            return self.build(node.expr, node.name)
        if isinstance(node, Group | FieldGroup):
            return f"({self.build(node.expr, field)})"
        if isinstance(node, Not | Prohibit):
            return f"NOT ({self.build(node.a, field)})"
        if isinstance(node, Plus):
            return self.build(node.a, field)
        if isinstance(node, OrOperation):
            return self._join(node, " OR ", field)
        if isinstance(node, AndOperation | UnknownOperation):
            return self._join(node, " AND ", field)
        if isinstance(node, Range):
            return self._range(node, field)
        if isinstance(node, Word | Phrase):
            return self._term(node, field)
        raise QueryError(f"unsupported query syntax: {node}")

    def _join(self, node: BaseOperation, glue: str, field: str | None) -> str:
        return glue.join(f"({self.build(child, field)})" for child in node.children)

    def _term(self, node: Word | Phrase, field: str | None) -> str:
        value = node.value.strip('"') if isinstance(node, Phrase) else LUCENE_ESCAPE.sub(r"\1", node.value)
        if field is None:
            self.params.append(_fts_expression(value, phrase=isinstance(node, Phrase)))
            return f"rowid IN (SELECT rowid FROM {self.entity.value}_fts WHERE {self.entity.value}_fts MATCH ?)"
        if field in BOOL_FIELDS:
            self.params.append(sql_bool(value))
            return f"{field} = ?"
        wildcard = isinstance(node, Word) and ("*" in value or "?" in value)
        pattern = value.lower().replace("*", "%").replace("?", "_") if wildcard else value.lower()
        self.params.append(pattern)
        op = "LIKE" if wildcard else "="
        if field in LIST_FIELDS:
            return f"EXISTS (SELECT 1 FROM json_each(doc, '$.{field}') WHERE lower(value) {op} ?)"
        return f"lower({field}) {op} ?"

    def _range(self, node: Range, field: str | None) -> str:
        if field is None:
            raise QueryError("a range needs a field, e.g. last_seen:[2026-01-01 TO *]")
        parts = []
        for bound, include, cmp in ((node.low, node.include_low, ">"), (node.high, node.include_high, "<")):
            value = str(bound).strip('"')
            if value != "*":
                self.params.append(value if field in TIME_FIELDS else _number(value, field))
                parts.append(f"{field} {cmp}{'=' if include else ''} ?")
        return " AND ".join(parts) or "1"


def sql_bool(value: str) -> int:
    """SQLite stores JSON booleans as 1/0; filters and queries say true/false (or 1, yes)."""
    return 1 if str(value).lower() in {"true", "1", "yes"} else 0


def _number(value: str, field: str) -> float:
    try:
        return float(value)
    except ValueError as exc:
        raise QueryError(f"range bound {value!r} on {field} is not a number") from exc


def _fts_expression(value: str, phrase: bool) -> str:
    """An FTS5 MATCH string for one user term: quoted, with a trailing ``*`` kept as a prefix search."""
    prefix = value.endswith("*") and not phrase
    core = value.rstrip("*") if prefix else value
    if not core.strip("*? "):
        raise QueryError(f"search term {value!r} has no letters to search for")
    quoted = '"' + core.replace('"', '""') + '"'
    return quoted + ("*" if prefix else "")


def to_sql(text: str, entity: Entity) -> tuple[str, list[object]]:
    """``(condition, params)`` for a query string; raises :class:`QueryError` with the parser's reason."""
    try:
        tree = parser.parse(text)
    except (ParseError, Exception) as exc:  # luqum raises bare exceptions on some inputs
        raise QueryError(f"cannot parse query {text!r}: {exc}") from exc
    condition = SqlCondition(entity)
    return condition.build(tree), condition.params
