"""``exposurewatch stats``: how many findings, by provider, kind, severity, status and day, on any store.

The counting happens in the store (aggregations on the search engines, GROUP BY on SQLite), so it costs one
request however many findings there are; the same query string and filters as `search` narrow it.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import orjson
import typer
from rich.table import Table

from services.console import console, fail
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
from services.store import FindingStats, QueryError, SearchQuery, StoreError


class StatsFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def stats(
    query: QueryArgument = None,
    store: StoreOption = None,
    kind: KindOption = None,
    provider: ProviderOption = None,
    severity: SeverityOption = None,
    status: StatusOption = None,
    since: SinceOption = None,
    output: Annotated[StatsFormat, typer.Option("--format", help="table or json.")] = StatsFormat.TABLE,
) -> None:
    """Count findings by provider, kind, severity, status and UTC day first seen."""
    filters = finding_filters(kind, provider, severity, status)
    opened = open_store_option(store)
    try:
        counted = opened.stats(SearchQuery(text=query, filters=filters, since=since))
    except QueryError as exc:
        raise fail(str(exc)) from exc
    except StoreError as exc:
        raise fail(str(exc), code=1) from exc
    finally:
        opened.close()
    if output is StatsFormat.JSON:
        sys.stdout.write(orjson.dumps(counted.to_json_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print_tables(counted)


def print_tables(counted: FindingStats) -> None:
    console.print(f"{counted.total} finding(s)", highlight=False)
    for name, counts in counted.by_field.items():
        table = Table(name, "findings", title=f"by {name}")
        for value, n in counts.items():
            table.add_row(value, str(n))
        console.print(table)
    days = Table("day (UTC)", "first seen", title="by day")
    for day, n in counted.by_day.items():
        days.add_row(day, str(n))
    console.print(days)
