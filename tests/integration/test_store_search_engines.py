"""The store contract on the real OpenSearch node, through opensearch-py and through the official
elasticsearch 9 client (via the test-only adapter in ``es_adapter.py``)."""

from __future__ import annotations

import csv
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from elasticsearch import Elasticsearch
from typer.testing import CliRunner

from services.cli import app
from services.config import get_settings
from services.stack import harness
from services.store import Entity, SearchQuery, Store, StoreError, open_store, search_engine
from services.store.search_engine import SearchEngineStore
from tests.integration.es_adapter import elasticsearch_facade
from tests.store_contract import CORPUS, T0, StoreContract, finding

pytestmark = pytest.mark.integration


def _url(engine: str, http_url: str) -> str:
    return f"{engine}+{http_url}"


@pytest.fixture(scope="module")
def es_facade(stack: dict[str, Any]) -> Iterator[str]:
    with elasticsearch_facade(stack["opensearch"]) as url:
        yield url


@pytest.fixture(params=["opensearch", "elasticsearch"])
def store(request: pytest.FixtureRequest, stack: dict[str, Any]) -> Iterator[Store]:
    """A store on fresh indices (unique prefix) so tests do not see each other's documents."""
    base = stack["opensearch"] if request.param == "opensearch" else request.getfixturevalue("es_facade")
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    opened = open_store(_url(request.param, base), index_prefix=prefix)
    yield opened
    opened.close()
    harness.drop_store_layout(stack["opensearch"], prefix)


class TestSearchEngineStores(StoreContract):
    pass


def test_indices_have_explicit_mapping_refresh_interval_and_aliases(stack: dict[str, Any]) -> None:
    store = open_store(_url("opensearch", stack["opensearch"]), index_prefix="test-mapping")
    assert isinstance(store, SearchEngineStore)
    store.upsert(CORPUS[:1])
    info = httpx.get(f"{stack['opensearch']}/test-mapping-findings").json()
    [(index_name, index)] = info.items()
    assert index_name == "test-mapping-findings-v1"
    assert "test-mapping-findings" in index["aliases"]
    assert index["mappings"]["dynamic"] == "strict"
    assert index["mappings"]["properties"]["last_seen"]["type"] == "date"
    assert index["settings"]["index"]["refresh_interval"] == "1s"
    store.close()
    harness.drop_store_layout(stack["opensearch"], "test-mapping")


def test_official_elasticsearch_client_sees_an_elasticsearch_through_the_adapter(es_facade: str) -> None:
    client = Elasticsearch(es_facade)
    assert client.info()["version"]["number"].startswith("2.")  # the real OpenSearch answered
    client.close()


def test_unreachable_server_is_a_clear_store_error() -> None:
    store = open_store("opensearch+http://127.0.0.1:9", index_prefix="none")
    with pytest.raises(StoreError, match=r"127\.0\.0\.1:9"):
        store.count(Entity.FINDINGS)


@pytest.fixture(params=["opensearch", "elasticsearch"])
def engine_store(request: pytest.FixtureRequest, stack: dict[str, Any]) -> Iterator[SearchEngineStore]:
    """A search-engine store (through either client) on a fresh prefix, for what only engines have."""
    base = stack["opensearch"] if request.param == "opensearch" else request.getfixturevalue("es_facade")
    opened = open_store(_url(request.param, base), index_prefix=f"test-{uuid.uuid4().hex[:10]}")
    assert isinstance(opened, SearchEngineStore)
    yield opened
    opened.close()
    harness.drop_store_layout(stack["opensearch"], opened.prefix)


def _get(stack: dict[str, Any], path: str) -> Any:
    reply = httpx.get(f"{stack['opensearch']}/{path}", timeout=30)
    reply.raise_for_status()
    return reply.json()


def _events(stack: dict[str, Any], store: SearchEngineStore) -> int:
    httpx.post(f"{stack['opensearch']}/{store.events_stream}/_refresh", timeout=30).raise_for_status()
    return int(_get(stack, f"{store.events_stream}/_count")["count"])


def test_composable_templates_data_stream_and_lifecycle_report(engine_store: SearchEngineStore,
                                                                 stack: dict[str, Any]) -> None:
    engine_store.ensure_indices()
    prefix = engine_store.prefix
    [template] = _get(stack, f"_index_template/{prefix}-findings")["index_templates"]
    assert template["index_template"]["composed_of"] == [f"{prefix}-common", f"{prefix}-findings-mappings"]
    index = _get(stack, f"{prefix}-findings")[f"{prefix}-findings-v1"]
    assert index["mappings"]["_meta"] == {"mapping_version": 1}
    assert index["settings"]["index"]["refresh_interval"] == "1s"
    [stream] = _get(stack, f"_data_stream/{engine_store.events_stream}")["data_streams"]
    assert stream["template"] == engine_store.events_stream
    backing = stream["indices"][0]["index_name"]
    assert _get(stack, f"{backing}/_settings")[backing]["settings"]["index"]["refresh_interval"] == "5s"
    # The stack's node is assembled from Maven modules without the index-management plugin, and is no
    # Elasticsearch: neither ISM nor ILM is there, and the store says so instead of failing.
    lifecycle = engine_store.lifecycle
    assert lifecycle is not None and not lifecycle.installed
    expected = "index-management plugin is not installed" if lifecycle.kind == "ism" else "no handler for /_ilm"
    assert expected in lifecycle.detail and "will not roll over" in lifecycle.detail


def test_every_sighting_is_recorded_once_in_the_events_stream(engine_store: SearchEngineStore,
                                                              stack: dict[str, Any]) -> None:
    engine_store.upsert(CORPUS)
    engine_store.upsert(CORPUS)  # a replayed batch
    engine_store.upsert([CORPUS[0].model_copy(update={"discovered_at": T0 + timedelta(hours=1)})])
    assert _events(stack, engine_store) == len(CORPUS) + 1


def test_events_stream_rolls_over_and_old_generations_can_be_deleted(engine_store: SearchEngineStore,
                                                                     stack: dict[str, Any]) -> None:
    """What the lifecycle policy would do, done by hand with the node's core APIs (ISM/ILM are absent here):
    the policy's age condition is not met by a fresh generation; a rollover starts a generation with the
    template's settings; deleting the old generation drops only its sightings."""
    stream = engine_store.events_stream
    engine_store.upsert(CORPUS[:10])
    assert _events(stack, engine_store) == 10
    base = stack["opensearch"]
    dry = httpx.post(f"{base}/{stream}/_rollover?dry_run=true", json={"conditions": {"max_age": "1d"}}, timeout=30)
    assert dry.json()["rolled_over"] is False
    rolled = httpx.post(f"{base}/{stream}/_rollover", json={"conditions": {"max_docs": 1}}, timeout=30).json()
    assert rolled["rolled_over"] is True
    engine_store.upsert(CORPUS[10:])
    assert _events(stack, engine_store) == len(CORPUS)
    new = rolled["new_index"]
    settings = _get(stack, f"{new}/_settings")[new]["settings"]["index"]
    assert settings["refresh_interval"] == "5s"
    assert _get(stack, f"{new}/_mapping")[new]["mappings"]["dynamic"] == "strict"
    httpx.delete(f"{base}/{rolled['old_index']}", timeout=30).raise_for_status()
    assert _events(stack, engine_store) == len(CORPUS) - 10


def _create_old_generation(stack: dict[str, Any], prefix: str) -> None:
    """A findings index as an earlier release left it: a looser mapping, no _meta, behind the alias."""
    body = {"mappings": {"properties": {"provider": {"type": "text"}, "first_seen": {"type": "date"},
                                        "last_seen": {"type": "date"}}},
            "aliases": {f"{prefix}-findings": {"is_write_index": True}}}
    httpx.put(f"{stack['opensearch']}/{prefix}-findings-v1", json=body, timeout=30).raise_for_status()


def test_migrate_reindexes_into_a_new_generation_and_swaps_the_alias(engine_store: SearchEngineStore,
                                                                     stack: dict[str, Any]) -> None:
    prefix = engine_store.prefix
    _create_old_generation(stack, prefix)
    engine_store.upsert(CORPUS)
    engine_store.refresh()
    by_provider = SearchQuery(filters={"provider": ["OpenAI"]})
    assert engine_store.count(Entity.FINDINGS, by_provider) == 0, "an analysed text field matches no exact term"
    done = engine_store.migrate(Entity.FINDINGS)
    assert (done.source, done.target, done.documents, done.reindexed) == (
        f"{prefix}-findings-v1", f"{prefix}-findings-v2", len(CORPUS), True)
    assert list(_get(stack, f"_alias/{prefix}-findings")) == [f"{prefix}-findings-v2"]
    assert httpx.head(f"{stack['opensearch']}/{prefix}-findings-v1", timeout=30).status_code == 404
    assert engine_store.count(Entity.FINDINGS, by_provider) == 13, "a normalised keyword does"
    assert engine_store.count(Entity.FINDINGS, SearchQuery(text="provider:OpenAI AND severity:high")) == 12
    engine_store.upsert([CORPUS[0].model_copy(update={"discovered_at": T0 + timedelta(hours=1)})])
    doc = engine_store.get(Entity.FINDINGS, CORPUS[0].id)
    assert doc is not None and doc["sightings"] == 2, "history survives the move"
    again = engine_store.migrate(Entity.FINDINGS)
    assert (again.reindexed, again.target) == (False, f"{prefix}-findings-v2")
    forced = engine_store.migrate(Entity.FINDINGS, force=True, keep_old=True)
    assert (forced.reindexed, forced.target) == (True, f"{prefix}-findings-v3")
    old = _get(stack, f"{prefix}-findings-v2/_settings")[f"{prefix}-findings-v2"]["settings"]["index"]
    assert old["blocks"]["write"] == "true", "the kept generation is read-only"


def test_failed_migration_rolls_back_and_keeps_the_old_index_writable(engine_store: SearchEngineStore,
                                                                       stack: dict[str, Any]) -> None:
    prefix = engine_store.prefix
    _create_old_generation(stack, prefix)
    engine_store.upsert(CORPUS[:3])
    httpx.put(f"{stack['opensearch']}/{prefix}-findings-v1/_doc/odd?refresh=true", json={"legacy_field": 1},
              timeout=30).raise_for_status()
    with pytest.raises(StoreError, match="strict"):
        engine_store.migrate(Entity.FINDINGS)
    assert list(_get(stack, f"_alias/{prefix}-findings")) == [f"{prefix}-findings-v1"]
    assert httpx.head(f"{stack['opensearch']}/{prefix}-findings-v2", timeout=30).status_code == 404
    engine_store.upsert(CORPUS[3:6])
    engine_store.refresh()
    assert engine_store.count(Entity.FINDINGS) == 6 + 1


def test_writes_to_a_blocked_index_wait_for_the_block_to_lift(engine_store: SearchEngineStore,
                                                                stack: dict[str, Any]) -> None:
    """During a migration the live index is write-blocked; writers must retry, not fail or drop."""
    engine_store.upsert(CORPUS[:1])
    index = f"{engine_store.prefix}-findings-v1"
    settings_url = f"{stack['opensearch']}/{index}/_settings"
    httpx.put(settings_url, json={"index.blocks.write": True}, timeout=30).raise_for_status()
    writer = threading.Thread(target=engine_store.upsert, args=(CORPUS[1:5],))
    writer.start()
    writer.join(1.5)
    assert writer.is_alive(), "still retrying while blocked"
    httpx.put(settings_url, json={"index.blocks.write": False}, timeout=30).raise_for_status()
    writer.join(30)
    engine_store.refresh()
    assert not writer.is_alive() and engine_store.count(Entity.FINDINGS) == 5


BIG = 12_000


def test_groups_page_through_the_composite_aggregation(engine_store: SearchEngineStore,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_engine, "GROUPS_PAGE", 2)
    providers, severities = ("openai", "anthropic", "mistral"), ("critical", "high", "medium", "low")
    engine_store.upsert([finding(i, providers[i % 3], severities[i % 4]) for i in range(36)])
    engine_store.refresh()
    groups = engine_store.groups(("provider", "severity"))
    assert sorted((g.key, g.count) for g in groups) == sorted(((p, s), 3) for p in providers for s in severities)


def test_search_after_exports_more_than_ten_thousand_hits(stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    prefix = f"test-big-{uuid.uuid4().hex[:8]}"
    url = _url("opensearch", stack["opensearch"])
    store = open_store(url, index_prefix=prefix)
    assert isinstance(store, SearchEngineStore)
    for start in range(0, BIG, 2000):
        store.upsert([finding(i, provider=("openai", "anthropic", "mistral")[i % 3])
                      for i in range(start, start + 2000)])
    store.refresh()
    assert store.search(Entity.FINDINGS, SearchQuery(limit=1)).total == BIG
    assert store.stats().by_field["provider"] == {"openai": BIG // 3, "anthropic": BIG // 3, "mistral": BIG // 3}
    store.close()
    monkeypatch.setenv("EXPOSUREWATCH_INDEX_PREFIX", prefix)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["search", "--store", url, "--all", "--format", "jsonl"])
        target = tmp_path / "anthropic.csv"
        exported = CliRunner().invoke(app, ["search", "provider:anthropic", "--store", url, "--export", str(target),
                                            "--sort", "-last_seen,provider"])
    finally:
        get_settings.cache_clear()
    rows = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 0 and len(rows) == BIG
    assert len({(r["space"], r["fingerprint"]) for r in rows}) == BIG
    assert exported.exit_code == 0, exported.output
    assert len({r["fingerprint"] for r in csv.DictReader(target.open())}) == BIG // 3
    harness.drop_store_layout(stack["opensearch"], prefix)
