"""Command-line options that select findings, shared by `search`, `stats` and friends so they read alike, and the
opening of the store and bus that ``--store`` and ``--bus`` name, with one kind of error for a bad URL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from services.bus import Bus, open_bus
from services.config import get_settings
from services.console import fail
from services.store import Store, StoreError, open_store

QueryArgument = Annotated[
    str | None, typer.Argument(help="Query string, e.g. 'provider:openai AND severity:high'.")
]
StoreOption = Annotated[str | None, typer.Option(help="Store URL (default: EXPOSUREWATCH_STORE_URL).")]
KindOption = Annotated[list[str] | None, typer.Option(help="Only these finding kinds (repeatable).")]
ProviderOption = Annotated[list[str] | None, typer.Option(help="Only these providers (repeatable).")]
SeverityOption = Annotated[list[str] | None, typer.Option(help="Only these severities (repeatable).")]
StatusOption = Annotated[list[str] | None, typer.Option(help="open or resolved (repeatable).")]
SinceOption = Annotated[datetime | None, typer.Option(help="Only findings seen at or after this time.")]


def finding_filters(
    kind: list[str] | None, provider: list[str] | None, severity: list[str] | None, status: list[str] | None
) -> dict[str, list[str]]:
    """The exact-match filters the user gave, for :class:`services.store.SearchQuery`."""
    given = {"kind": kind, "provider": provider, "severity": severity, "status": status}
    return {name: values for name, values in given.items() if values}


def open_bus_option(url: str | None) -> Bus:
    """The bus ``--bus`` names (else the configured one), or a one-line error and exit code 2."""
    settings = get_settings()
    try:
        return open_bus(url or settings.bus_url, settings.topic_prefix, settings.kafka_partitions)
    except ValueError as exc:
        raise fail(str(exc)) from exc


def open_store_option(url: str | None) -> Store:
    """The store ``--store`` names (else the configured one), or a one-line error and exit code 2."""
    settings = get_settings()
    try:
        return open_store(url or settings.store_url, settings.index_prefix)
    except (ValueError, StoreError) as exc:
        raise fail(str(exc)) from exc
