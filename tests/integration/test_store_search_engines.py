"""The store contract on the real OpenSearch node, through opensearch-py and through the official
elasticsearch 9 client (via the test-only adapter in ``es_adapter.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from services.store import Entity, Store, StoreError, open_store
from services.store.search_engine import SearchEngineStore
from tests.integration.es_adapter import elasticsearch_facade
from tests.store_contract import CORPUS, StoreContract

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


class TestSearchEngineStores(StoreContract):
    pass


def test_indices_have_explicit_mapping_refresh_interval_and_aliases(stack: dict[str, Any]) -> None:
    store = open_store(_url("opensearch", stack["opensearch"]), index_prefix="test-mapping")
    assert isinstance(store, SearchEngineStore)
    store.upsert(CORPUS[:1])
    import httpx

    info = httpx.get(f"{stack['opensearch']}/test-mapping-findings").json()
    [(index_name, index)] = info.items()
    assert index_name == "test-mapping-findings-v1"
    assert "test-mapping-findings" in index["aliases"]
    assert index["mappings"]["dynamic"] == "strict"
    assert index["mappings"]["properties"]["last_seen"]["type"] == "date"
    assert index["settings"]["index"]["refresh_interval"] == "1s"
    store.close()


def test_official_elasticsearch_client_sees_an_elasticsearch_through_the_adapter(es_facade: str) -> None:
    client = Elasticsearch(es_facade)
    assert client.info()["version"]["number"].startswith("2.")  # the real OpenSearch answered
    client.close()


def test_unreachable_server_is_a_clear_store_error() -> None:
    store = open_store("opensearch+http://127.0.0.1:9", index_prefix="none")
    with pytest.raises(StoreError, match=r"127\.0\.0\.1:9"):
        store.count(Entity.FINDINGS)
