"""The Hub simulator, checked through the official `huggingface_hub` client."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError
from huggingface_hub.utils import parse_ratelimit_headers

from services.hubsim import HubSimulator, RateLimitConfig, World
from services.hubsim.profile import SORA_SPACE_ID

PAGE_SIZE = 7


@pytest.fixture(scope="module")
def sim() -> Iterator[HubSimulator]:
    with HubSimulator(spaces=300, seed=11, page_size=PAGE_SIZE) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def api(sim: HubSimulator) -> HfApi:
    return HfApi(endpoint=sim.base_url, token=False)


@pytest.fixture(scope="module")
def truth(sim: HubSimulator) -> dict[str, Any]:
    return httpx.get(f"{sim.base_url}/_sim/ground-truth").json()


def items_of(truth: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [item for item in truth["items"] if item["kind"] == kind]


def needle(item: dict[str, Any]) -> str:
    """The text a ground-truth item says is on its line."""
    if item["kind"] == "model_proxy":
        return f'"{item["models"][0]}"'
    if item["kind"] == "endpoint_reference":
        return str(item["endpoint"])
    return str(item["secret"])


def test_list_spaces_follows_link_pages_and_yields_every_space_once(sim: HubSimulator, api: HfApi) -> None:
    before = sim.stats.by_route["spaces.list"]
    ids = [space.id for space in api.list_spaces()]
    assert len(ids) == len(set(ids)) == 300
    assert set(ids) == set(sim.world.alive_ids())
    assert sim.stats.by_route["spaces.list"] - before == math.ceil(300 / PAGE_SIZE)


@pytest.mark.parametrize("sort", ["likes", "createdAt", "trendingScore"])
def test_sorted_listing_with_ties_is_complete(api: HfApi, sort: str) -> None:
    ids = [space.id for space in api.list_spaces(sort=sort)]  # type: ignore[arg-type]
    assert len(ids) == len(set(ids)) == 300


def test_list_spaces_filters_sorts_and_expands(sim: HubSimulator, api: HfApi) -> None:
    author = SORA_SPACE_ID.split("/")[0]
    spaces = list(api.list_spaces(author=author, sort="lastModified", expand=["sha", "lastModified"]))
    assert [space.id for space in spaces] == [SORA_SPACE_ID]
    only = spaces[0]
    assert only.sha == sim.world.head(sim.world.lookup(SORA_SPACE_ID) or 0).sha
    assert only.likes is None and only.sdk is None  # expand returns only what was asked for

    recent = list(api.list_spaces(sort="last_modified", expand=["lastModified"]))
    stamps = [space.last_modified for space in recent]
    assert stamps == sorted(stamps, reverse=True)

    matches = list(api.list_spaces(search="chat"))
    assert matches and all("chat" in space.id.lower() for space in matches)
    expected = [space_id for space_id in sim.world.alive_ids() if "chat" in space_id.lower()]
    assert sorted(space.id for space in matches) == sorted(expected)


def test_default_listing_fields_match_the_hub(sim: HubSimulator) -> None:
    first = httpx.get(f"{sim.base_url}/api/spaces", params={"limit": 1}).json()[0]
    assert set(first) == {"_id", "id", "likes", "trendingScore", "private", "sdk", "tags", "createdAt"}


def test_expand_and_full_cannot_be_combined(sim: HubSimulator) -> None:
    response = httpx.get(f"{sim.base_url}/api/spaces", params={"expand[]": "sha", "full": "true"})
    assert response.status_code == 400
    assert "error" in response.json()


def test_space_info_reports_sha_siblings_and_runtime(sim: HubSimulator, api: HfApi, truth: dict[str, Any]) -> None:
    info = api.space_info(SORA_SPACE_ID, files_metadata=True)
    item = next(item for item in truth["items"] if item["space"] == SORA_SPACE_ID)
    assert info.sha == item["sha"]
    assert info.sdk == "gradio" and info.runtime is not None and info.runtime.stage == "RUNNING"
    assert info.card_data is not None and info.card_data.title == "Generate with Sora"
    assert info.siblings is not None
    names = {sibling.rfilename for sibling in info.siblings}
    assert {"app.py", "README.md", "requirements.txt", ".gitattributes"} <= names
    assert all(sibling.size and sibling.blob_id for sibling in info.siblings)
    assert info.host == "https://pr-puppets-pr-puppet-sora.hf.space"


def test_list_repo_tree_matches_siblings(api: HfApi, truth: dict[str, Any]) -> None:
    space_id = next(item["space"] for item in truth["items"] if item["path"].count("/") >= 1)
    info = api.space_info(space_id)
    assert info.siblings is not None
    entries = list(api.list_repo_tree(space_id, repo_type="space", recursive=True))
    files = {entry.path for entry in entries if entry.__class__.__name__ == "RepoFile"}
    folders = {entry.path for entry in entries if entry.__class__.__name__ == "RepoFolder"}
    assert files == {sibling.rfilename for sibling in info.siblings}
    assert folders and all(any(path.startswith(folder + "/") for path in files) for folder in folders)
    top = {entry.path for entry in api.list_repo_tree(space_id, repo_type="space")}
    assert all("/" not in path for path in top)


def test_downloaded_files_hold_ground_truth_items(api: HfApi, truth: dict[str, Any], tmp_path: Path) -> None:
    checked = 0
    for item in truth["items"][:40]:
        path = hf_hub_download(item["space"], item["path"], repo_type="space", endpoint=api.endpoint,
                               cache_dir=tmp_path, token=False)
        line = Path(path).read_text().splitlines()[item["line"] - 1]
        assert needle(item) in line, (item, line)
        checked += 1
    assert checked == min(40, len(truth["items"]))


def test_sora_relay_is_planted_with_a_restricted_model(truth: dict[str, Any]) -> None:
    sora = [item for item in truth["items"] if item["space"] == SORA_SPACE_ID]
    kinds = {item["kind"] for item in sora}
    assert kinds == {"credential", "model_proxy"}
    proxy = next(item for item in sora if item["kind"] == "model_proxy")
    assert proxy["restricted"] and proxy["models"] == ["sora-turbo"]
    assert proxy["endpoint"].startswith("https://api.openai.com/")


def test_lfs_file_download_follows_the_cdn_redirect(sim: HubSimulator, tmp_path: Path) -> None:
    world = sim.world
    for space_id in world.alive_ids():
        index = world.lookup(space_id)
        assert index is not None
        snapshot = world.snapshot(index, world.head(index))
        lfs = [f for f in snapshot.files.values() if f.lfs_sha256]
        if lfs:
            break
    else:
        pytest.skip("no LFS file in this world")
    path = hf_hub_download(space_id, lfs[0].path, repo_type="space", endpoint=sim.base_url, cache_dir=tmp_path,
                           token=False)
    assert Path(path).read_bytes() == lfs[0].data
    head = httpx.head(f"{sim.base_url}/spaces/{space_id}/resolve/main/{lfs[0].path}")
    assert head.status_code == 302 and head.headers["X-Linked-Size"] == str(len(lfs[0].data))


def test_get_space_runtime(api: HfApi) -> None:
    runtime = api.get_space_runtime(SORA_SPACE_ID)
    assert runtime.stage == "RUNNING" and runtime.hardware == "cpu-basic"


def test_missing_repo_file_and_revision_raise_the_clients_errors(api: HfApi, tmp_path: Path) -> None:
    with pytest.raises(RepositoryNotFoundError):
        api.space_info("nobody/nothing")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(SORA_SPACE_ID, "missing.py", repo_type="space", endpoint=api.endpoint, cache_dir=tmp_path,
                        token=False)
    with pytest.raises(RevisionNotFoundError):
        api.space_info(SORA_SPACE_ID, revision="0" * 40)


def test_token_is_accepted_and_recorded(sim: HubSimulator) -> None:
    token = "hf_" + "a" * 34
    whoami = HfApi(endpoint=sim.base_url).whoami(token=token)
    assert whoami["name"].startswith("sim-")
    assert sim.stats.as_json()["distinct_tokens"] >= 1
    bad = httpx.get(f"{sim.base_url}/api/spaces", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    httpx.post(f"{sim.base_url}/_sim/stats/reset")
    assert httpx.get(f"{sim.base_url}/_sim/stats").json()["total"] == 0  # control calls are not counted


def test_rate_limit_answers_429_with_hub_headers() -> None:
    with HubSimulator(spaces=20, seed=1, rate_limit=RateLimitConfig(api=3, window_seconds=3600)) as sim:
        responses = [httpx.get(f"{sim.base_url}/api/spaces") for _ in range(4)]
        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        info = parse_ratelimit_headers(responses[2].headers)
        assert info is not None and info.remaining == 0 and info.limit == 3 and info.window_seconds == 3600
        limited = responses[3]
        assert limited.headers["RateLimit-Policy"] == '"fixed window";"api";q=3;w=3600'
        assert 1 <= int(limited.headers["Retry-After"]) <= 3600
        assert httpx.get(f"{sim.base_url}/_sim/stats").json()["rate_limited"] == 1
        # downloads are a separate bucket
        space_id = sim.world.alive_ids()[0]
        assert httpx.get(f"{sim.base_url}/spaces/{space_id}/resolve/main/README.md").status_code == 200


def test_tick_updates_deletes_and_removes_secrets(tmp_path: Path) -> None:
    with HubSimulator(spaces=400, seed=5) as sim:
        api = HfApi(endpoint=sim.base_url, token=False)
        report = httpx.post(f"{sim.base_url}/_sim/tick", json={"creates": 3, "updates": 3, "deletes": 2,
                                                               "secret_removals": 2}).json()
        assert [len(report[key]) for key in ("created", "updated", "deleted", "secrets_removed")] == [3, 3, 2, 2]
        updated = report["updated"][0]
        assert api.space_info(updated["space"]).sha == updated["sha"] != updated["previous_sha"]
        with pytest.raises(RepositoryNotFoundError):
            api.space_info(report["deleted"][0]["space"])
        created_ids = {event["space"] for event in report["created"]}
        assert created_ids <= {space.id for space in api.list_spaces()}

        removal = report["secrets_removed"][0]
        secret = removal["removed"][0]
        old = hf_hub_download(removal["space"], secret["path"], repo_type="space", revision=removal["previous_sha"],
                              endpoint=sim.base_url, cache_dir=tmp_path, token=False)
        assert secret["secret"] in Path(old).read_text()
        truth = httpx.get(f"{sim.base_url}/_sim/ground-truth").json()
        assert secret["secret"] not in {item["secret"] for item in truth["items"]}
        assert secret["secret"] in {item["secret"] for item in truth["historical"]}
        assert {event["action"] for event in truth["log"]} == {"created", "updated", "deleted", "secret_removed"}
        commits = api.list_repo_commits(removal["space"], repo_type="space")
        assert [commit.commit_id for commit in commits[:2]] == [removal["sha"], removal["previous_sha"]]


def test_same_seed_gives_the_same_world() -> None:
    first, second, other = World(500, 3), World(500, 3), World(500, 4)
    assert first.alive_ids() == second.alive_ids()
    assert first.ground_truth()["items"] == second.ground_truth()["items"]
    assert first.alive_ids() != other.alive_ids()
    first.tick()
    second.tick()
    assert first.ground_truth() == second.ground_truth()


def test_ten_thousand_spaces_start_fast() -> None:
    started = time.perf_counter()
    world = World(10_000, 1)
    assert time.perf_counter() - started < 1.0
    index = world.lookup(world.alive_ids()[9_999])
    assert index is not None and world.snapshot(index, world.head(index)).files


def test_planting_rates_are_realistic() -> None:
    world = World(5_000, 2)
    truth = world.ground_truth()
    spaces_with = {kind: len({item["space"] for item in items_of(truth, kind)})
                   for kind in ("credential", "model_proxy", "endpoint_reference", "decoy")}
    assert 0.03 <= spaces_with["credential"] / 5_000 <= 0.05
    assert 0.01 <= spaces_with["model_proxy"] / 5_000 <= 0.025
    assert 0.005 <= spaces_with["endpoint_reference"] / 5_000 <= 0.02
    assert spaces_with["decoy"] / 5_000 >= 0.05
    assert any(item["restricted"] for item in items_of(truth, "model_proxy"))
    raw_ips = [item["endpoint"] for item in items_of(truth, "endpoint_reference") if item["variant"] == "raw_ip"]
    assert raw_ips and all(url.split("//")[1].startswith(("192.0.2.", "198.51.100.", "203.0.113."))
                           for url in raw_ips)
