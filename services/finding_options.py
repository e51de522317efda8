"""Command-line options that select findings, shared by `search`, `stats` and friends so they read alike."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

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
