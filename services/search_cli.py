"""``exposurewatch search``: findings from any store, in the shape `scan` prints, for researchers."""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import orjson
import typer
from rich.table import Table

from services.config import get_settings
from services.console import console, fail
from services.store import Entity, QueryError, SearchQuery, StoreError, open_store


class OutputFormat(StrEnum):
    TABLE = "table"
    JSONL = "jsonl"
    CSV = "csv"


SEARCH_COLUMNS = ("kind", "provider", "severity", "status", "space", "path", "line", "fingerprint", "redacted",
                  "detector", "models", "restricted", "endpoint", "sightings", "first_seen", "last_seen")


def finding_row(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored finding in the shape `scan` prints, plus the Space it was seen in."""
    asset = str(doc.get("asset_id", ""))
    row = {k: doc.get(k) for k in SEARCH_COLUMNS}
    row["space"] = asset.split(":", 1)[1] if asset.startswith("space:") else asset
    return row


def search(
    query: Annotated[str | None, typer.Argument(help="Query string, e.g. 'provider:openai AND severity:high'.")] = None,
    store: Annotated[str | None, typer.Option(help="Store URL (default: EXPOSUREWATCH_STORE_URL).")] = None,
    kind: Annotated[list[str] | None, typer.Option(help="Only these finding kinds (repeatable).")] = None,
    provider: Annotated[list[str] | None, typer.Option(help="Only these providers (repeatable).")] = None,
    severity: Annotated[list[str] | None, typer.Option(help="Only these severities (repeatable).")] = None,
    status: Annotated[list[str] | None, typer.Option(help="open or resolved (repeatable).")] = None,
    since: Annotated[datetime | None, typer.Option(help="Only findings seen at or after this time.")] = None,
    sort: Annotated[str, typer.Option(help="Sort key, '-' prefix for descending, e.g. -severity_rank.")] = "-last_seen",
    limit: Annotated[int, typer.Option(min=1, help="Rows to print.")] = 50,
    output: Annotated[OutputFormat, typer.Option("--format", help="table, jsonl or csv.")] = OutputFormat.TABLE,
) -> None:
    """List findings from the store, in the fields `scan` prints plus the Space."""
    settings = get_settings()
    filters = {k: v for k, v in {"kind": kind, "provider": provider, "severity": severity,
                                 "status": status}.items() if v}
    direction: Literal["asc", "desc"] = "desc" if sort.startswith("-") else "asc"
    request = SearchQuery(text=query, filters=filters, since=since, limit=min(limit, 1000),
                          sort=((sort.lstrip("-+"), direction),))
    try:
        opened = open_store(store or settings.store_url, settings.index_prefix)
    except (ValueError, StoreError) as exc:
        raise fail(str(exc)) from exc
    rows: list[dict[str, Any]] = []
    total = 0
    try:
        while len(rows) < limit:
            page = opened.search(Entity.FINDINGS, request)
            total = page.total
            rows.extend(finding_row(d) for d in page.hits)
            if page.next_after is None:
                break
            request = SearchQuery(text=query, filters=filters, since=since, sort=request.sort,
                                  limit=min(limit - len(rows), 1000), search_after=page.next_after)
    except QueryError as exc:
        raise fail(str(exc)) from exc
    except StoreError as exc:
        raise fail(str(exc), code=1) from exc
    finally:
        opened.close()
    print_rows(rows[:limit], output, title=f"{total} finding(s)")


def print_rows(rows: list[dict[str, Any]], output: OutputFormat, title: str) -> None:
    if output is OutputFormat.JSONL:
        for row in rows:
            sys.stdout.write(orjson.dumps(row).decode() + "\n")
    elif output is OutputFormat.CSV:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(SEARCH_COLUMNS))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ";".join(v) if isinstance(v, list) else v for k, v in row.items()})
    else:
        table = Table(*("kind", "provider", "severity", "status", "space", "path", "line", "redacted"), title=title)
        for row in rows:
            table.add_row(*(str(row.get(c) or "") for c in ("kind", "provider", "severity", "status", "space",
                                                             "path", "line", "redacted")))
        console.print(table)
