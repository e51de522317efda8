"""``exposurewatch search``: findings from any store, in the shape `scan` prints, for researchers.

A page of results prints as a table (with the cursor of the next page), or as jsonl/csv; ``--all`` streams every
hit and ``--export FILE`` writes every hit to a file, page by page with ``search_after``, so there is no 10,000-hit
window and memory stays flat however many findings match.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, TextIO

import orjson
import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from services.console import console, err_console, fail
from services.finding_options import (
    KindOption,
    ProviderOption,
    QueryArgument,
    SeverityOption,
    SinceOption,
    StatusOption,
    StoreOption,
    finding_filters,
    open_store_option,
)
from services.store import Entity, QueryError, SearchQuery, Store, StoreError, iter_hits


class OutputFormat(StrEnum):
    TABLE = "table"
    JSONL = "jsonl"
    CSV = "csv"


SEARCH_COLUMNS = ("kind", "provider", "severity", "status", "space", "path", "line", "fingerprint", "redacted",
                  "detector", "models", "restricted", "endpoint", "sightings", "first_seen", "last_seen")
SHORT_TABLE_COLUMNS = ("kind", "provider", "severity", "status")
"""Never wrapped: single words a query names."""
FOLDED_TABLE_COLUMNS = ("space", "file", "redacted")
"""Long values fold onto more lines, so no part of them is cut off."""
PAGE_SIZE = 1000
DEFAULT_SORT = "-last_seen"
EXPORT_SORT = "id"
"""Streams sort by id unless told otherwise: ids never change, so a finding updated mid-export cannot move
between pages and be written twice or skipped."""


def finding_row(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored finding in the shape `scan` prints, plus the Space it was seen in."""
    asset = str(doc.get("asset_id", ""))
    row = {k: doc.get(k) for k in SEARCH_COLUMNS}
    row["space"] = asset.split(":", 1)[1] if asset.startswith("space:") else asset
    return row


def parse_sort(text: str) -> tuple[tuple[str, Literal["asc", "desc"]], ...]:
    """``-severity_rank,last_seen`` -> ((severity_rank, desc), (last_seen, asc))."""
    keys: list[tuple[str, Literal["asc", "desc"]]] = []
    for part in (p.strip() for p in text.split(",")):
        if part:
            keys.append((part.lstrip("-+"), "desc" if part.startswith("-") else "asc"))
    if not keys:
        raise QueryError(f"--sort {text!r} names no field")
    return tuple(keys)


def parse_cursor(text: str) -> tuple[Any, ...]:
    """The JSON array a table page prints as its next-page cursor."""
    try:
        values = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise QueryError(f"--after {text!r} is not the JSON array a previous page printed") from exc
    if not isinstance(values, list) or not values:
        raise QueryError(f"--after {text!r} is not the JSON array a previous page printed")
    return tuple(values)


def write_jsonl(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(orjson.dumps(row).decode() + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=list(SEARCH_COLUMNS))
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({k: ";".join(v) if isinstance(v, list) else v for k, v in row.items()})
        count += 1
    return count


def write_rows(rows: Iterable[dict[str, Any]], output: OutputFormat, out: TextIO) -> int:
    return write_jsonl(rows, out) if output is OutputFormat.JSONL else write_csv(rows, out)


def export(rows: Iterator[dict[str, Any]], output: OutputFormat, path: Path) -> int:
    """Write every row to ``path`` through a temporary file, so a failed export never leaves a partial file that
    looks complete."""
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "w", newline="" if output is OutputFormat.CSV else None) as out:
            count = write_rows(rows, output, out)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count


def search(
    query: QueryArgument = None,
    store: StoreOption = None,
    kind: KindOption = None,
    provider: ProviderOption = None,
    severity: SeverityOption = None,
    status: StatusOption = None,
    since: SinceOption = None,
    sort: Annotated[str | None, typer.Option(
        help=f"Sort keys, comma-separated, '-' for descending, e.g. -severity_rank,last_seen "
             f"[default: {DEFAULT_SORT}; {EXPORT_SORT} with --all/--export].")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows to print (ignored with --all/--export).")] = 50,
    after: Annotated[str | None, typer.Option(help="Start after this cursor (printed under a table page).")] = None,
    every: Annotated[bool, typer.Option("--all", help="Stream every hit to stdout (jsonl or csv).")] = False,
    export_to: Annotated[Path | None, typer.Option("--export", help="Write every hit to this file (jsonl or csv; "
                                                   "the format follows --format, else the file's extension).")] = None,
    output: Annotated[OutputFormat | None, typer.Option("--format", help="table, jsonl or csv.")] = None,
) -> None:
    """Find findings in the store: query string, filters, sort, pages, and full exports."""
    streaming = every or export_to is not None
    fmt = output or _format_for(export_to)
    if streaming and fmt is OutputFormat.TABLE:
        raise fail("--all and --export write jsonl or csv; choose one with --format")
    filters = finding_filters(kind, provider, severity, status)
    try:
        request = SearchQuery(
            text=query, filters=filters, since=since,
            sort=parse_sort(sort or (EXPORT_SORT if streaming else DEFAULT_SORT)),
            limit=PAGE_SIZE if streaming else min(limit, PAGE_SIZE),
            search_after=parse_cursor(after) if after else None,
        )
    except ValueError as exc:
        raise fail(str(exc)) from exc
    opened = open_store_option(store)
    try:
        if export_to is not None:
            count = export(_rows(opened, request), fmt, export_to)
            err_console.print(f"wrote {count} finding(s) to {escape(str(export_to))}", highlight=False)
        elif every:
            write_rows(_rows(opened, request), fmt, sys.stdout)
        else:
            _print_page(opened, request, limit, fmt)
    except QueryError as exc:
        raise fail(str(exc)) from exc
    except StoreError as exc:
        raise fail(str(exc), code=1) from exc
    finally:
        opened.close()


def _format_for(path: Path | None) -> OutputFormat:
    if path is not None and path.suffix.lower() == ".csv":
        return OutputFormat.CSV
    return OutputFormat.JSONL if path is not None else OutputFormat.TABLE


def _rows(store: Store, request: SearchQuery) -> Iterator[dict[str, Any]]:
    return (finding_row(doc) for doc in iter_hits(store, Entity.FINDINGS, request))


def _print_page(store: Store, request: SearchQuery, limit: int, output: OutputFormat) -> None:
    """Up to ``limit`` rows (several requests if above a page), then the cursor to continue from."""
    rows: list[dict[str, Any]] = []
    page = store.search(Entity.FINDINGS, request)
    rows.extend(finding_row(d) for d in page.hits)
    while page.next_after is not None and len(rows) < limit:
        page = store.search(Entity.FINDINGS, replace(request, limit=min(limit - len(rows), PAGE_SIZE),
                                                     search_after=page.next_after))
        rows.extend(finding_row(d) for d in page.hits)
    if output is not OutputFormat.TABLE:
        write_rows(rows, output, sys.stdout)
        return
    console.print(findings_table(rows, f"{page.total} finding(s)"))
    if page.next_after is not None:
        cursor = orjson.dumps(list(page.next_after)).decode()  # never wrapped, so it pastes as one argument
        console.print(f"next page: --after '{cursor}'", highlight=False, markup=False, soft_wrap=True)


def findings_table(rows: list[dict[str, Any]], title: str) -> Table:
    """Rows that fit an 80-column terminal: borders only under the header, the file as ``path:line``."""
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for name in SHORT_TABLE_COLUMNS:
        table.add_column(name, no_wrap=True)
    for name in FOLDED_TABLE_COLUMNS:
        table.add_column(name, overflow="fold")
    for row in rows:
        where = f"{row['path']}:{row['line']}" if row.get("path") and row.get("line") else str(row.get("path") or "")
        table.add_row(*(str(row.get(c) or "") for c in SHORT_TABLE_COLUMNS), str(row.get("space") or ""), where,
                      str(row.get("redacted") or ""))
    return table
