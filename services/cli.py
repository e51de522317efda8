"""``exposurewatch``: one command line over every service. Each command is a thin entry over shared code."""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from crawler.cli import app as crawl_app
from indexer.cli import index
from services.config import Settings, get_settings
from services.events import json_schema
from services.stack.cli import app as stack_app
from services.store import Entity, QueryError, SearchQuery, StoreError, open_store

app = typer.Typer(
    name="exposurewatch",
    help="Watch the Hugging Face Hub and the internet for leaked AI-model access.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Inspect the effective configuration.", no_args_is_help=True)
schema_app = typer.Typer(help="The shared event schema.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(schema_app, name="schema")
app.add_typer(stack_app, name="stack")
app.add_typer(crawl_app, name="crawl")
app.command("index")(index)

console = Console()
err_console = Console(stderr=True)

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "docs" / "schema" / "events.schema.json"


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error and return the Exit to raise, so callers read ``raise fail(...)``."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


@config_app.command("show")
def config_show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print the effective settings (environment, TOML file, defaults) with secrets masked."""
    try:
        shown = Settings().masked()
    except (ValueError, FileNotFoundError) as exc:
        raise fail(str(exc)) from exc
    if as_json:
        sys.stdout.write(orjson.dumps(shown, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table("setting", "value", "environment variable", title="exposurewatch settings")
    for name, value in shown.items():
        table.add_row(name, "" if value is None else str(value), f"EXPOSUREWATCH_{name.upper()}")
    console.print(table)


def schema_text() -> str:
    return orjson.dumps(json_schema(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"


@schema_app.command("export")
def schema_export(
    out: Annotated[Path, typer.Option(help="Where to write the JSON Schema; '-' for stdout.")] = SCHEMA_FILE,
) -> None:
    """Write the JSON Schema of the bus envelope and every event (committed in docs/schema/)."""
    text = schema_text()
    if str(out) == "-":
        sys.stdout.write(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    console.print(f"wrote {out}")


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


@app.command("search")
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


def main() -> None:
    app()
