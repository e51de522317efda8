"""One refresh of the open-exposure gauges: the store's grouped count against paging through every open finding.

`exposurewatch exposures-exporter` recomputes its gauges from the store every minute. It asks for one grouped
count (``Store.groups``: a composite aggregation on OpenSearch, ``GROUP BY`` on SQLite). The baseline is what it
did before: page through every open finding with ``search_after``, 1,000 a page, and count them in Python.
Both run on the same N open findings, in OpenSearch (the node of `exposurewatch stack up`, started if needed, on
fresh indices deleted afterwards) and in a SQLite file; the result of both must agree.

    python bench/bench_exporter.py --findings 100000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from bench_indexer import findings

from services.metrics import ExposureLabels, tally_open_exposures
from services.stack import harness
from services.store import Entity, SearchQuery, Store, iter_hits, open_store

PAGE = 1000


def paged_tally(store: Store) -> dict[ExposureLabels, tuple[int, float]]:
    """The exporter's former count: every open finding fetched, page by page."""
    tallies: dict[ExposureLabels, tuple[int, float]] = {}
    query = SearchQuery(filters={"status": ["open"]}, sort=(("id", "asc"),), limit=PAGE)
    for doc in iter_hits(store, Entity.FINDINGS, query):
        labels = (str(doc["kind"]), str(doc["provider"]), str(doc["severity"]),
                  "true" if doc.get("restricted") else "false")
        count, newest = tallies.get(labels, (0, 0.0))
        tallies[labels] = (count + 1, max(newest, datetime.fromisoformat(str(doc["first_seen"])).timestamp()))
    return tallies


def grouped_tally(store: Store) -> dict[ExposureLabels, tuple[int, float]]:
    return {labels: (t.open, t.newest_first_seen) for labels, t in tally_open_exposures(store).items()}


def timed(refresh: Callable[[Store], dict[ExposureLabels, tuple[int, float]]], store: Store,
          rounds: int) -> tuple[float, dict[ExposureLabels, tuple[int, float]]]:
    seconds, result = [], {}
    for _ in range(rounds):
        started = time.perf_counter()
        result = refresh(store)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def compare(name: str, store: Store, n: int, rounds: int) -> None:
    events = findings("ex", n)
    for start in range(0, n, 2000):
        store.upsert(events[start:start + 2000])
    refresh = getattr(store, "refresh", None)
    if refresh is not None:
        refresh()
    paged_s, paged = timed(paged_tally, store, rounds)
    grouped_s, grouped = timed(grouped_tally, store, rounds)
    assert paged.keys() == grouped.keys(), "the grouped count has other label sets than the paged one"
    for labels, (count, newest) in paged.items():  # the engines keep dates to the millisecond
        assert grouped[labels][0] == count and abs(grouped[labels][1] - newest) < 0.001, labels
    print(f"{name:10} {n:>9,} open findings, {len(grouped)} label sets: paged {paged_s:8.3f}s, "
          f"grouped {grouped_s:7.3f}s, {paged_s / grouped_s:6.0f}x", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--findings", type=int, default=100_000, help="open findings in each store")
    parser.add_argument("--rounds", type=int, default=3, help="refreshes timed each way; the median is reported")
    args = parser.parse_args()
    opensearch = harness.ensure_up(only="opensearch")["opensearch"]
    prefix = f"bench-exp-{uuid.uuid4().hex[:6]}"
    engine = open_store(f"opensearch+{opensearch}", index_prefix=prefix)
    try:
        compare("opensearch", engine, args.findings, args.rounds)
    finally:
        engine.close()
        harness.drop_store_layout(opensearch, prefix)
    with tempfile.TemporaryDirectory() as scratch:
        embedded = open_store(f"sqlite:///{scratch}/bench.db")
        compare("sqlite", embedded, args.findings, args.rounds)
        embedded.close()


if __name__ == "__main__":
    main()
