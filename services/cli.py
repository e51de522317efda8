"""``exposurewatch``: one command line over every service. Each command is a thin entry over shared code."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from crawler.cli import app as crawl_app
from indexer.cli import index_app
from services.config import Settings
from services.console import console, fail
from services.detect.cli import scan
from services.events import json_schema
from services.hubsim.cli import hubsim
from services.observability_cli import dashboards_app, exposures_exporter, report
from services.search_cli import search
from services.stack.cli import app as stack_app
from services.stats_cli import stats

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
app.add_typer(index_app, name="index")
app.command("search")(search)
app.command("stats")(stats)
app.command("report")(report)
app.command("exposures-exporter")(exposures_exporter)
app.add_typer(dashboards_app, name="dashboards")
app.command("hubsim")(hubsim)
app.command("scan")(scan)


SCHEMA_FILE = Path(__file__).resolve().parent.parent / "docs" / "schema" / "events.schema.json"


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
