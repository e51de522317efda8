"""What the search-engine store asks the server to build, checked without a server: lifecycle policies (ISM and
ILM, the test node has neither), composable templates, sighting events. The real node checks the rest in
tests/integration/test_store_search_engines.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.events import Asset, Finding
from services.store.base import iso
from services.store.search_engine import (
    ENTITY_REFRESH_INTERVAL,
    EVENTS_REFRESH_INTERVAL,
    MAPPINGS,
    LifecycleStatus,
    SearchEngineStore,
    lifecycle_policy,
)
from tests.store_contract import T0, finding


def test_ism_policy_rolls_over_daily_or_at_10gb_and_deletes_30_days_after_rollover() -> None:
    policy = lifecycle_policy("ism", "ew-events")["policy"]
    states = {s["name"]: s for s in policy["states"]}
    assert policy["default_state"] == "hot" and set(states) == {"hot", "delete"}
    assert states["hot"]["actions"] == [{"rollover": {"min_index_age": "1d", "min_primary_shard_size": "10gb"}}]
    assert states["hot"]["transitions"] == [{"state_name": "delete", "conditions": {"min_rollover_age": "30d"}}]
    assert states["delete"] == {"name": "delete", "actions": [{"delete": {}}], "transitions": []}
    # ISM matches ism_template patterns of a data stream's backing index against the stream's name.
    assert policy["ism_template"] == [{"index_patterns": ["ew-events"], "priority": 100}]


def test_ilm_policy_has_the_same_rollover_and_retention() -> None:
    phases = lifecycle_policy("ilm", "ew-events")["policy"]["phases"]
    assert phases["hot"] == {"actions": {"rollover": {"max_age": "1d", "max_primary_shard_size": "10gb"}}}
    assert phases["delete"] == {"min_age": "30d", "actions": {"delete": {}}}


def store_with(lifecycle: LifecycleStatus | None) -> SearchEngineStore:
    store = SearchEngineStore(client=None, index_prefix="ew", url="opensearch+http://h:9200")  # type: ignore[arg-type]
    store.lifecycle = lifecycle
    return store


def test_templates_compose_explicit_mappings_per_entity_and_a_data_stream_for_events() -> None:
    store = store_with(None)
    components = store.component_templates()
    templates = store.index_templates()
    assert set(templates) == {"ew-findings", "ew-assets", "ew-events"}
    findings = templates["ew-findings"]
    assert findings["index_patterns"] == ["ew-findings-v*"]
    assert findings["composed_of"] == ["ew-common", "ew-findings-mappings"]
    assert findings["template"]["settings"]["index"]["refresh_interval"] == ENTITY_REFRESH_INTERVAL
    assert all(name in components for t in templates.values() for name in t["composed_of"])
    mapping = components["ew-findings-mappings"]["template"]["mappings"]
    assert mapping == MAPPINGS[next(e for e in MAPPINGS if e.value == "findings")]
    props: dict[str, Any] = mapping["properties"]
    assert mapping["dynamic"] == "strict"
    assert props["provider"]["type"] == "keyword" and props["all_text"]["type"] == "text"
    assert props["first_seen"]["type"] == "date" and props["models"]["type"] == "keyword"
    events = templates["ew-events"]
    assert events["data_stream"] == {} and events["index_patterns"] == ["ew-events"]
    assert events["template"]["settings"]["index"] == {"refresh_interval": EVENTS_REFRESH_INTERVAL}


def test_ilm_policy_is_named_in_the_events_template_only_when_installed() -> None:
    installed = store_with(LifecycleStatus("ilm", "ew-events", installed=True, detail=""))
    missing = store_with(LifecycleStatus("ilm", "ew-events", installed=False, detail=""))
    ism = store_with(LifecycleStatus("ism", "ew-events", installed=True, detail=""))
    assert installed.index_templates()["ew-events"]["template"]["settings"]["index"]["lifecycle"] == {
        "name": "ew-events"}
    assert "lifecycle" not in missing.index_templates()["ew-events"]["template"]["settings"]["index"]
    assert "lifecycle" not in ism.index_templates()["ew-events"]["template"]["settings"]["index"]


def sighting(item: Finding | Asset) -> tuple[str, dict[str, Any]]:
    """The ``create`` a prepared bulk request makes for the item's sighting: its id and its event."""
    _, create = store_with(None).prepare([item]).request
    assert create.action["create"]["_index"] == "ew-events"
    return create.action["create"]["_id"], create.source


def test_a_sighting_is_an_event_with_a_replay_stable_id() -> None:
    seen = finding(3, models=["sora"], restricted=True)
    again = seen.model_copy()
    later = seen.model_copy(update={"discovered_at": T0 + timedelta(seconds=1)})
    assert sighting(seen)[0] == sighting(again)[0] != sighting(later)[0]
    assert sighting(seen)[0] != sighting(seen.resolved(T0))[0]
    doc = sighting(seen)[1]
    assert doc["@timestamp"] == iso(T0)
    assert (doc["entity"], doc["id"], doc["provider"], doc["models"], doc["restricted"]) == (
        "finding", seen.id, "openai", ["sora"], True)


def test_an_asset_sighting_is_stamped_with_its_last_seen() -> None:
    space = Asset.space("alice/demo", last_seen=T0 + timedelta(hours=2))
    sighting_key, doc = sighting(space)
    assert doc["@timestamp"] == iso(T0 + timedelta(hours=2))
    assert (doc["entity"], doc["id"], doc["owner"]) == ("asset", space.id, "alice")
    assert sighting_key != sighting(space.model_copy(update={"last_seen": T0}))[0]
