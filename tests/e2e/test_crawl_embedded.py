"""The main job end to end on embedded defaults: `crawl spaces` against the Hub simulator into SQLite.

Checks what the product promises: planted credentials found, no raw secret on disk, an unchanged
recrawl that costs only listing pages and adds nothing, and findings resolved when Spaces or
secrets disappear.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from services.hubsim import HubSimulator
from services.store import Entity, SearchQuery, open_store

SPACES = 800


@pytest.fixture(scope="module")
def hub() -> Iterator[HubSimulator]:
    with HubSimulator(spaces=SPACES, seed=11) as sim:
        yield sim


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crawl") / "ew.db"


def crawl(hub: HubSimulator, db: Path, *extra: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "services", "crawl", "spaces", "--hub-url", hub.base_url,
         "--store", f"sqlite:///{db}", *extra],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def hub_requests(hub: HubSimulator) -> int:
    return int(httpx.get(f"{hub.base_url}/_sim/stats").json()["total"])


def findings(db: Path, **filters: list[str]) -> list[dict[str, Any]]:
    store = open_store(f"sqlite:///{db}")
    try:
        return store.search(Entity.FINDINGS, SearchQuery(filters=filters, limit=100_000)).hits
    finally:
        store.close()


def planted(hub: HubSimulator, kind: str) -> list[dict[str, Any]]:
    return [item for item in hub.world.ground_truth()["items"] if item["kind"] == kind]


def space_of(doc: dict[str, Any]) -> str:
    return str(doc["asset_id"]).split(":", 1)[1]


def test_first_crawl_finds_planted_credentials_and_stores_no_secret(hub: HubSimulator, db: Path) -> None:
    stats_file = db.parent / "stats.json"
    output = crawl(hub, db, "--stats-file", str(stats_file))
    assert f"listed {SPACES} Spaces" in output
    stats = orjson.loads(stats_file.read_bytes())
    assert stats["lister"]["spaces/listed"] == SPACES and stats["fetcher"]["spaces/fetched"] > 0
    found = {(space_of(d), d["path"], d["line"]) for d in findings(db, kind=["credential"])}
    truth = planted(hub, "credential")
    hits = sum((item["space"], item["path"], item["line"]) in found for item in truth)
    assert truth and hits / len(truth) >= 0.98, f"recall {hits}/{len(truth)}"
    on_disk = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    leaked = [item["space"] for item in truth if item["secret"].encode() in on_disk]
    assert not leaked, f"raw secrets of {leaked[:3]} reached the store"


@pytest.mark.parametrize("kind", ["model_proxy", "endpoint_reference"])
def test_relays_and_endpoint_references_are_found(hub: HubSimulator, db: Path, kind: str) -> None:
    """Matched by Space and file. Browser-side callers planted as relays are reported as leaked keys instead;
    a relay's custom ``/v1`` upstream is also, rightly, an endpoint reference for the prober."""
    found = {(space_of(d), d["path"]) for d in findings(db, kind=[kind])}
    truth = planted(hub, kind)
    hits = sum((item["space"], item["path"]) in found for item in truth)
    assert truth and hits / len(truth) >= 0.9, f"{kind} recall {hits}/{len(truth)}"
    planted_files = {(item["space"], item["path"]) for item in truth}
    if kind == "endpoint_reference":
        planted_files |= {(item["space"], item["path"]) for item in planted(hub, "model_proxy")}
    assert found <= planted_files, f"unplanted {kind} findings: {sorted(found - planted_files)[:5]}"


def test_sora_relay_is_a_restricted_model_proxy(hub: HubSimulator, db: Path) -> None:
    sora = [d for d in findings(db, kind=["model_proxy"]) if space_of(d) == "PR-Puppets/PR-Puppet-Sora"]
    assert sora and sora[0]["restricted"] is True and sora[0]["provider"] == "openai"


def test_unchanged_recrawl_costs_only_listing_pages_and_adds_nothing(hub: HubSimulator, db: Path) -> None:
    before_ids = {d["id"] for d in findings(db)}
    before = hub_requests(hub)
    crawl(hub, db)
    spent = hub_requests(hub) - before
    assert spent / SPACES <= 0.05, f"{spent} requests for an unchanged Hub of {SPACES} Spaces"
    assert {d["id"] for d in findings(db)} == before_ids


def test_deleted_spaces_and_removed_secrets_resolve_their_findings(hub: HubSimulator, db: Path) -> None:
    changes = hub.tick(creates=5, updates=10, deletes=10, secret_removals=5)
    crawl(hub, db)
    resolved = {space_of(d) for d in findings(db, status=["resolved"])}
    log = hub.world.ground_truth()["log"]
    deleted = {e["space"] for e in log if e["action"] == "deleted"}
    emptied = {e["space"] for e in log if e["action"] == "secret_removed"}
    had_findings = {space_of(d) for d in findings(db)}
    assert changes and (deleted | emptied) & had_findings, "the tick touched no Space with findings"
    assert (deleted | emptied) & had_findings <= resolved
    store = open_store(f"sqlite:///{db}")
    gone = store.count(Entity.ASSETS, SearchQuery(filters={"status": ["deleted"]}))
    store.close()
    assert gone == len(deleted)


def test_full_recrawl_refetches_everything_without_duplicates(hub: HubSimulator, db: Path) -> None:
    before_ids = {d["id"] for d in findings(db)}
    output = crawl(hub, db, "--full")
    assert "fetched" in output
    assert {d["id"] for d in findings(db)} >= before_ids
    open_now = findings(db, status=["open"])
    assert len({d["id"] for d in open_now}) == len(open_now)


def test_rate_limits_are_waited_out_and_the_token_is_sent(tmp_path: Path) -> None:
    from services.hubsim import RateLimitConfig

    limits = RateLimitConfig(api=40, resolvers=120, window_seconds=2)
    with HubSimulator(spaces=120, seed=3, rate_limit=limits) as sim:
        env_token = {"HF_TOKEN": "hf_" + "t" * 34}
        result = subprocess.run(
            [sys.executable, "-m", "services", "crawl", "spaces", "--hub-url", sim.base_url,
             "--store", f"sqlite:///{tmp_path}/ew.db"],
            capture_output=True, text=True, timeout=600, check=False, env={**os.environ, **env_token},
        )
        stats = httpx.get(f"{sim.base_url}/_sim/stats").json()
    assert result.returncode == 0, result.stderr[-3000:]
    assert stats["rate_limited"] > 0, "the test must actually hit the limit"
    assert "waited out" in result.stderr
    assert "errors 0" in result.stderr, result.stderr[-2000:]
    assert stats["authenticated_requests"] == stats["total"] and stats["distinct_tokens"] == 1
    assert env_token["HF_TOKEN"] not in result.stdout + result.stderr


def test_author_scope_lists_only_that_owner(hub: HubSimulator, tmp_path: Path) -> None:
    owner = planted(hub, "credential")[0]["space"].split("/")[0]
    output = crawl(hub, tmp_path / "scoped.db", "--author", owner)
    spaces = {space_of(d) for d in findings(tmp_path / "scoped.db")}
    assert spaces and all(s.startswith(owner + "/") for s in spaces)
    assert "listed 0 Spaces" not in output
