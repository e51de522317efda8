"""The distributed crawl on real Kafka and OpenSearch: lister -> crawl requests -> two fetcher workers ->
indexer -> store, with one worker killed (SIGKILL) mid-batch. Nothing may be lost or doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.hubsim import HubSimulator
from services.stack import harness
from services.store import Entity, SearchQuery, open_store

SPACES = 400


@pytest.fixture
def hub() -> Iterator[HubSimulator]:
    with HubSimulator(spaces=SPACES, seed=5) as sim:
        yield sim


@pytest.fixture
def prefix(stack: dict[str, Any]) -> Iterator[str]:
    """A fresh topic and index prefix for the run; its topics and indices are dropped afterwards."""
    run = f"crawl-{uuid.uuid4().hex[:8]}"
    yield run
    harness.drop_bus_topics(stack["kafka"], run)
    harness.drop_store_layout(stack["opensearch"], run)


def cli(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "services", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def finished(process: subprocess.Popen[str], timeout: float) -> str:
    out, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, out[-3000:]
    return out


def wait_for(condition: Any, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_killed_worker_loses_nothing(stack: dict[str, Any], hub: HubSimulator, prefix: str) -> None:
    env = {**os.environ, "EXPOSUREWATCH_TOPIC_PREFIX": prefix, "EXPOSUREWATCH_INDEX_PREFIX": prefix,
           "EXPOSUREWATCH_BUS_URL": f"kafka://{stack['kafka']}",
           "EXPOSUREWATCH_STORE_URL": f"opensearch+{stack['opensearch']}"}
    indexer = cli("index", "--exit-when-idle", "30", env=env)
    victim = cli("crawl", "worker", "--concurrency", "4", env=env)
    survivor = cli("crawl", "worker", "--exit-when-idle", "25", env=env)
    time.sleep(3)  # let both workers join the group before work arrives
    lister = finished(cli("crawl", "spaces", "--hub-url", hub.base_url, env=env), timeout=120)
    assert f"listed {SPACES} Spaces" in lister

    def infos_served() -> int:
        return int(httpx.get(f"{hub.base_url}/_sim/stats").json()["by_route"].get("spaces.info", 0))

    wait_for(lambda: infos_served() >= 40, 60, "the workers to start fetching")
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    finished(survivor, timeout=300)
    finished(indexer, timeout=300)

    store = open_store(env["EXPOSUREWATCH_STORE_URL"], index_prefix=env["EXPOSUREWATCH_INDEX_PREFIX"])
    store.refresh()  # type: ignore[attr-defined]
    spaces = store.count(Entity.ASSETS, SearchQuery(filters={"kind": ["space"]}))
    assert spaces == SPACES, f"{SPACES - spaces} Space(s) lost with the killed worker"
    truth = [i for i in hub.world.ground_truth()["items"] if i["kind"] == "credential"]
    page = store.search(Entity.FINDINGS, SearchQuery(filters={"kind": ["credential"]}, limit=10_000))
    found = {(d["asset_id"].split(":", 1)[1], d["path"], d["line"]) for d in page.hits}
    assert sum((i["space"], i["path"], i["line"]) in found for i in truth) / len(truth) >= 0.98
    assert len(found) == len(page.hits), "a redelivered Space must update its findings, not duplicate them"
    store.close()
