"""`exposurewatch stack`: a thin Typer layer over :mod:`services.stack.harness`."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from services.stack import harness

app = typer.Typer(
    help="Fetch and run real Kafka, OpenSearch and Prometheus on 127.0.0.1 for integration tests and local use.",
    no_args_is_help=True,
)
_out = Console()
_err = Console(stderr=True)

StackDir = typer.Option(
    None,
    "--stack-dir",
    envvar="EXPOSUREWATCH_STACK_DIR",
    help="Download cache and run directory [default: ~/.cache/exposurewatch/stack].",
)
Only = typer.Option(None, "--only", help="Comma-separated subset, e.g. kafka,opensearch.")
AsJson = typer.Option(False, "--json", help="Print the status as one JSON object.")


def _progress_to_stderr() -> None:
    """Cold starts fetch for a minute or more; say what is happening without touching stdout (JSON)."""
    logger = logging.getLogger(harness.__name__)
    if not logger.handlers:
        logger.addHandler(RichHandler(console=_err, show_time=False, show_path=False))
    logger.setLevel(logging.INFO)


def _print(info: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(info))
        return
    table = Table(title=f"exposurewatch stack ({info['run_dir']})")
    for column in ("server", "state", "endpoint", "version", "pid"):
        table.add_column(column)
    for name in harness.SERVICES:
        state = info["states"][name]
        colour = {"running": "green", "unhealthy": "yellow"}.get(state, "red")
        table.add_row(
            name,
            f"[{colour}]{state}[/{colour}]",
            info[name] or "-",
            info["versions"][name] or "-",
            str(info["pids"][name] or "-"),
        )
    _out.print(table)


def _fail(exc: harness.StackError) -> typer.Exit:
    _err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
    return typer.Exit(1)


@app.command()
def up(
    only: str | None = Only,
    scrape: list[str] = typer.Option(
        [], "--scrape", help="host:port of a metrics endpoint for Prometheus's exposurewatch job (repeatable)."
    ),
    stack_dir: Path | None = StackDir,
    as_json: bool = AsJson,
) -> None:
    """Start the servers (or reuse running ones) and wait until they are healthy."""
    _progress_to_stderr()
    layout = harness.layout_for(stack_dir)
    if scrape:
        harness.add_scrape_target(layout, "cli", scrape)
    try:
        info = harness.ensure_up(layout.root, only)
    except harness.StackError as exc:
        raise _fail(exc) from exc
    _print(info, as_json)


@app.command()
def down(
    only: str | None = Only,
    purge: bool = typer.Option(False, "--purge", help="Also delete data and logs (downloads stay cached)."),
    stack_dir: Path | None = StackDir,
) -> None:
    """Stop the servers this stack directory started; SIGKILL those that ignore SIGTERM."""
    _progress_to_stderr()
    try:
        if purge:
            harness.purge(stack_dir)
        else:
            harness.stop(stack_dir, only)
    except harness.StackError as exc:
        raise _fail(exc) from exc


@app.command()
def status(only: str | None = Only, stack_dir: Path | None = StackDir, as_json: bool = AsJson) -> None:
    """Show endpoints and health; exits 1 unless every selected server is running."""
    try:
        names = harness.parse_only(only)
    except harness.StackError as exc:
        raise _fail(exc) from exc
    info = harness.status(stack_dir)
    _print(info, as_json)
    if any(info["states"][name] != "running" for name in names):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
