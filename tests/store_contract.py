"""One behavioural contract for every store driver; each driver's test module supplies a ``store`` fixture.

The same assertions run on SQLite (unit tests) and on the real OpenSearch node through both clients
(integration tests), so engine differences cannot leak out of the drivers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.events import Asset, Finding, utcnow
from services.store import Entity, QueryError, SearchQuery, Store, iter_hits

T0 = utcnow().replace(microsecond=0)


def finding(i: int, provider: str = "openai", severity: str = "high", **extra: Any) -> Finding:
    fields: dict[str, Any] = {
        "kind": "credential", "provider": provider, "severity": severity, "confidence": 0.9,
        "asset_id": f"space:owner{i % 3}/app{i}", "path": f"src/app{i}.py", "line": i + 1,
        "fingerprint": f"{i:032x}", "redacted": f"sk-…{i:04d}", "detector": f"{provider}-key",
        "detector_version": "1", "discovered_at": T0,
    }
    fields.update(extra)
    return Finding.model_validate(fields)


CORPUS = [
    *(finding(i, "openai", "high") for i in range(0, 12)),
    *(finding(i, "anthropic", "critical") for i in range(12, 20)),
    *(finding(i, "huggingface", "low") for i in range(20, 25)),
    finding(25, "openai", "critical", kind="model_proxy", models=["sora-turbo"], restricted=True,
            endpoint="api.openai.com/v1/video/generations", redacted=None),
]


def refresh(store: Store) -> None:
    """Search engines show writes after a refresh; SQLite at once."""
    hook = getattr(store, "refresh", None)
    if hook is not None:
        hook()


class StoreContract:
    @pytest.fixture
    def loaded(self, store: Store) -> Store:
        store.upsert(CORPUS)
        refresh(store)
        return store

    def test_upsert_then_get_returns_document_with_history_fields(self, loaded: Store) -> None:
        doc = loaded.get(Entity.FINDINGS, CORPUS[0].id)
        assert doc is not None
        assert doc["provider"] == "openai" and doc["sightings"] == 1
        assert doc["first_seen"] == doc["last_seen"]
        assert loaded.get(Entity.FINDINGS, "no-such-id") is None

    def test_replayed_events_change_nothing(self, loaded: Store) -> None:
        loaded.upsert(CORPUS)
        refresh(loaded)
        assert loaded.count(Entity.FINDINGS) == len(CORPUS)
        doc = loaded.get(Entity.FINDINGS, CORPUS[0].id)
        assert doc is not None and doc["sightings"] == 1

    def test_new_sighting_updates_last_seen_and_count_keeps_first_seen(self, loaded: Store) -> None:
        first = loaded.get(Entity.FINDINGS, CORPUS[0].id)
        later = CORPUS[0].model_copy(update={"discovered_at": T0 + timedelta(hours=1), "line": 77})
        loaded.upsert([later])
        refresh(loaded)
        doc = loaded.get(Entity.FINDINGS, CORPUS[0].id)
        assert first is not None and doc is not None
        assert (doc["sightings"], doc["line"], doc["first_seen"]) == (2, 77, first["first_seen"])
        assert doc["last_seen"] > first["last_seen"]
        loaded.upsert([later.resolved(T0 + timedelta(hours=2))])
        refresh(loaded)
        doc = loaded.get(Entity.FINDINGS, CORPUS[0].id)
        assert doc is not None and (doc["status"], doc["sightings"]) == ("resolved", 2)

    def test_older_event_does_not_overwrite_newer_state(self, loaded: Store) -> None:
        loaded.upsert([CORPUS[1].model_copy(update={"discovered_at": T0 - timedelta(days=1), "line": 500})])
        refresh(loaded)
        doc = loaded.get(Entity.FINDINGS, CORPUS[1].id)
        assert doc is not None and doc["line"] == CORPUS[1].line

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("provider:openai", 13),
            ("provider:openai AND severity:high", 12),
            ("provider:OpenAI AND severity:critical", 1),
            ("severity:(critical OR low)", 14),
            ("NOT provider:openai", 13),
            ("anthropic", 8),
            ("models:sora*", 1),
            ("restricted:true", 1),
            (r"path:src\/app1*", 11),
            ("owner1", 9),
        ],
    )
    def test_query_string(self, loaded: Store, text: str, expected: int) -> None:
        assert loaded.count(Entity.FINDINGS, SearchQuery(text=text)) == expected
        assert loaded.search(Entity.FINDINGS, SearchQuery(text=text, limit=100)).total == expected

    def test_filters_combine_with_query_and_since(self, loaded: Store) -> None:
        query = SearchQuery(text="openai", filters={"severity": ["critical", "high"], "kind": ["credential"]})
        assert loaded.count(Entity.FINDINGS, query) == 12
        assert loaded.count(Entity.FINDINGS, SearchQuery(since=T0 + timedelta(minutes=1))) == 0
        assert loaded.count(Entity.FINDINGS, SearchQuery(since=T0 - timedelta(minutes=1))) == len(CORPUS)

    def test_search_after_pages_through_everything_once_in_order(self, loaded: Store) -> None:
        sort = (("severity_rank", "desc"), ("provider", "asc"))
        seen: list[dict[str, Any]] = []
        page = loaded.search(Entity.FINDINGS, SearchQuery(sort=sort, limit=4))
        seen.extend(page.hits)
        while page.next_after is not None:
            page = loaded.search(Entity.FINDINGS, SearchQuery(sort=sort, limit=4, search_after=page.next_after))
            seen.extend(page.hits)
        assert len(seen) == len(CORPUS) and len({d["id"] for d in seen}) == len(CORPUS)
        keys = [(-d["severity_rank"], d["provider"], d["id"]) for d in seen]
        assert keys == sorted(keys)

    def test_bad_queries_are_query_errors(self, loaded: Store) -> None:
        with pytest.raises(QueryError):
            loaded.search(Entity.FINDINGS, SearchQuery(filters={"password": ["x"]}))
        with pytest.raises(QueryError):
            loaded.search(Entity.FINDINGS, SearchQuery(sort=(("doc", "asc"),)))
        with pytest.raises(QueryError):
            loaded.search(Entity.FINDINGS, SearchQuery(text="provider:(openai"))

    def test_assets_keep_first_seen_and_take_latest_state(self, store: Store) -> None:
        store.upsert([Asset.space("alice/demo", sha="a1", first_seen=T0, last_seen=T0)])
        store.upsert([Asset.space("alice/demo", sha="b2", first_seen=T0 + timedelta(hours=1),
                                  last_seen=T0 + timedelta(hours=1))])
        refresh(store)
        doc = store.get(Entity.ASSETS, "space:alice/demo")
        assert doc is not None and doc["sha"] == "b2"
        assert doc["first_seen"] < doc["last_seen"]
        assert store.count(Entity.ASSETS, SearchQuery(text="owner:alice")) == 1

    def test_iter_hits_streams_every_match_once(self, loaded: Store) -> None:
        query = SearchQuery(text="NOT provider:huggingface", sort=(("last_seen", "desc"),), limit=3)
        ids = [d["id"] for d in iter_hits(loaded, Entity.FINDINGS, query)]
        assert len(ids) == len(set(ids)) == len(CORPUS) - 5

    def test_stats_count_by_provider_kind_severity_status_and_day(self, loaded: Store) -> None:
        stats = loaded.stats()
        assert stats.total == len(CORPUS)
        assert stats.by_field["provider"] == {"openai": 13, "anthropic": 8, "huggingface": 5}
        assert stats.by_field["severity"] == {"high": 12, "critical": 9, "low": 5}
        assert stats.by_field["kind"] == {"credential": 25, "model_proxy": 1}
        assert stats.by_field["status"] == {"open": len(CORPUS)}
        assert stats.by_day == {T0.date().isoformat(): len(CORPUS)}

    def test_stats_follow_query_filters_and_since(self, loaded: Store) -> None:
        stats = loaded.stats(SearchQuery(text="provider:openai", filters={"severity": ["critical"]}))
        assert (stats.total, stats.by_field["kind"]) == (1, {"model_proxy": 1})
        empty = loaded.stats(SearchQuery(since=T0 + timedelta(minutes=1)))
        assert (empty.total, empty.by_field["provider"], empty.by_day) == (0, {}, {})

    def test_groups_count_every_combination_with_its_newest_first_sighting(self, store: Store) -> None:
        later = T0 + timedelta(minutes=5)
        store.upsert([*CORPUS, finding(26, "anthropic", "critical", discovered_at=later),
                      finding(27, "anthropic", "critical", discovered_at=later + timedelta(days=2)).resolved(later)])
        store.upsert([finding(0, discovered_at=later)])  # a later sighting keeps first_seen
        refresh(store)
        groups = store.groups(("kind", "provider", "severity", "restricted"), SearchQuery(filters={"status": ["open"]}))
        assert {g.key: (g.count, g.newest_first_seen) for g in groups} == {
            ("credential", "openai", "high", "false"): (12, T0),
            ("credential", "anthropic", "critical", "false"): (9, later),
            ("credential", "huggingface", "low", "false"): (5, T0),
            ("model_proxy", "openai", "critical", "true"): (1, T0),
        }
        by_status = store.groups(("status",), SearchQuery(text="provider:anthropic"))
        assert sorted((g.key, g.count) for g in by_status) == [(("open",), 9), (("resolved",), 1)]
        assert store.groups(("provider",), SearchQuery(since=later + timedelta(days=3))) == []
        with pytest.raises(QueryError, match="cannot group findings by"):
            store.groups(("fingerprint",))

    def test_stats_by_day_is_the_utc_day_first_seen(self, store: Store) -> None:
        store.upsert([finding(i, discovered_at=T0 - timedelta(days=i % 3)) for i in range(9)])
        store.upsert([finding(0, discovered_at=T0 + timedelta(days=5))])  # a later sighting keeps first_seen
        refresh(store)
        days = {(T0 - timedelta(days=d)).date().isoformat(): 3 for d in range(3)}
        assert store.stats().by_day == days
