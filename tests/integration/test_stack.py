"""The real-server harness: idempotent `up`, loopback-only listeners, the server features the project relies on,
clean `down`, and a clear error when a server cannot start."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from services.stack import harness

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, stack_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EXPOSUREWATCH_STACK_DIR": str(stack_dir or harness.layout_for().root)}
    argv = [sys.executable, "-m", "services.stack.cli", *args]
    return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_up_twice_reuses_the_running_servers(stack: dict[str, Any]) -> None:
    started = time.monotonic()
    again = harness.ensure_up()
    assert time.monotonic() - started < 15
    assert again["pids"] == stack["pids"]
    assert {name: again[name] for name in harness.SERVICES} == {name: stack[name] for name in harness.SERVICES}

    result = cli("up", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pids"] == stack["pids"]


def test_status_json_reports_all_three(stack: dict[str, Any]) -> None:
    result = cli("status", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    info = json.loads(result.stdout)
    assert re.fullmatch(r"127\.0\.0\.1:\d+", info["kafka"])
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", info["opensearch"])
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", info["prometheus"])
    assert info["versions"]["kafka"] == "4.3.1"
    assert info["versions"]["opensearch"].startswith("2.19.")
    assert info["versions"]["prometheus"].startswith("2.")
    assert httpx.get(info["opensearch"]).json()["version"]["number"] == info["versions"]["opensearch"]
    build = httpx.get(f"{info['prometheus']}/api/v1/status/buildinfo").json()["data"]
    assert build["version"].startswith(info["versions"]["prometheus"])


# 127.0.0.1 as /proc/net/tcp writes it, and as Java's dual-stack sockets show it in tcp6 (::ffff:127.0.0.1).
LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F"}


def _listening_ports() -> dict[int, set[str]]:
    """Local addresses of LISTEN sockets by port, from /proc/net/tcp{,6} (hex address:port, state 0A)."""
    found: dict[int, set[str]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port = fields[1].split(":")
            if fields[3] == "0A":
                found.setdefault(int(port, 16), set()).add(address)
    return found


def test_every_server_listens_on_loopback_only(stack: dict[str, Any]) -> None:
    state = harness.read_state(harness.layout_for())
    ports = [port for entry in state.values() for key, port in entry.items() if key.endswith("port")]
    listening = _listening_ports()
    assert len(ports) == 5
    for port in ports:
        assert listening.get(port) and listening[port] <= LOOPBACK, f"port {port} listens on {listening.get(port)}"


@pytest.fixture
def index_name(stack: dict[str, Any]) -> Iterator[str]:
    name = f"stack-test-{uuid.uuid4().hex[:8]}"
    yield name
    httpx.delete(f"{stack['opensearch']}/{name}-*")
    httpx.delete(f"{stack['opensearch']}/_index_template/{name}")


def test_opensearch_has_the_modules_the_indexer_needs(stack: dict[str, Any], index_name: str) -> None:
    """Composable template + alias, bulk, query_string, search_after, painless scripted upsert, update_by_query."""
    os_url = stack["opensearch"]
    template = {
        "index_patterns": [f"{index_name}-*"],
        "template": {
            "settings": {"analysis": {"normalizer": {"folded": {"type": "custom", "filter": ["lowercase"]}}}},
            "mappings": {"properties": {"name": {"type": "keyword", "normalizer": "folded"}, "n": {"type": "long"}}},
            "aliases": {index_name: {}},
        },
    }
    httpx.put(f"{os_url}/_index_template/{index_name}", json=template).raise_for_status()
    lines = []
    for i in range(5):
        lines += [{"index": {"_index": f"{index_name}-1", "_id": str(i)}}, {"name": f"Key{i}", "n": i}]
    bulk = "".join(json.dumps(line) + "\n" for line in lines)
    ndjson = {"Content-Type": "application/x-ndjson"}
    reply = httpx.post(f"{os_url}/_bulk", params={"refresh": "true"}, content=bulk, headers=ndjson).json()
    assert reply["errors"] is False

    add = "ctx._source.n = (ctx._source.n == null ? 0 : ctx._source.n) + params.d"
    upsert = {"scripted_upsert": True, "upsert": {}, "script": {"lang": "painless", "source": add, "params": {"d": 7}}}
    refresh = {"refresh": "true"}
    for doc_id in ("1", "new"):
        httpx.post(f"{os_url}/{index_name}/_update/{doc_id}", params=refresh, json=upsert).raise_for_status()
    mark_seen = {"script": {"source": "ctx._source.seen = true"}}
    httpx.post(f"{os_url}/{index_name}/_update_by_query", params=refresh, json=mark_seen).raise_for_status()

    query_string = {"query_string": {"query": "name:KEY1 OR n:[3 TO 7]"}}
    query = {"query": query_string, "sort": [{"n": "asc"}, {"_id": "asc"}], "size": 2}
    first = httpx.post(f"{os_url}/{index_name}/_search", json=query).json()["hits"]["hits"]
    rest = httpx.post(f"{os_url}/{index_name}/_search", json={**query, "search_after": first[-1]["sort"]}).json()
    hits = [(h["_id"], h["_source"]["n"], h["_source"]["seen"]) for h in first + rest["hits"]["hits"]]
    assert hits == [("3", 3, True), ("4", 4, True), ("new", 7, True), ("1", 8, True)]
    health = httpx.get(f"{os_url}/_cluster/health/{index_name}-1").json()
    assert health["status"] == "green"


def test_kafka_auto_creates_three_partition_topics_and_serves_groups(stack: dict[str, Any]) -> None:
    topic = f"stack-test-{uuid.uuid4().hex[:8]}"
    producer = KafkaProducer(bootstrap_servers=stack["kafka"])
    for i in range(6):
        producer.send(topic, key=str(i).encode(), value=f"m{i}".encode())
    producer.flush()
    producer.close()
    admin = KafkaAdminClient(bootstrap_servers=stack["kafka"])
    try:
        assert len(admin.describe_topics([topic])[0]["partitions"]) == 3
        consumer = KafkaConsumer(
            topic,
            bootstrap_servers=stack["kafka"],
            group_id=f"{topic}-g",
            auto_offset_reset="earliest",
            consumer_timeout_ms=20000,
        )
        values = []
        for record in consumer:
            values.append(record.value)
            if len(values) == 6:
                break
        consumer.commit()
        consumer.close()
        assert sorted(values) == [f"m{i}".encode() for i in range(6)]
    finally:
        admin.delete_topics([topic])
        admin.close()


def _processes_with(marker: str) -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and marker in harness.cmdline(int(p.name))]


def test_down_stops_its_servers_and_leaves_no_process(stack: dict[str, Any]) -> None:
    """On a second run directory (Prometheus only, it starts in a second) so the session's stack stays up."""
    run_name = f"pytest-down-{uuid.uuid4().hex[:6]}"
    layout = harness.layout_for(run_name=run_name)
    try:
        info = harness.ensure_up(only="prometheus", run_name=run_name)
        pid = info["pids"]["prometheus"]
        assert info["states"]["prometheus"] == "running" and info["prometheus"] != stack["prometheus"]
        assert harness.stop(run_name=run_name) == ["prometheus"]
        assert not harness.pid_alive(pid)
        assert _processes_with(layout.marker("prometheus")) == []
        after = harness.status(run_name=run_name)
        assert after["states"]["prometheus"] == "stopped" and after["prometheus"] is None
        assert harness.stop(run_name=run_name) == []
    finally:
        harness.purge(run_name=run_name)
    assert harness.status()["pids"] == stack["pids"]


def test_a_server_that_cannot_start_fails_with_its_log_tail(stack: dict[str, Any]) -> None:
    run_name = f"pytest-broken-{uuid.uuid4().hex[:6]}"
    layout = harness.layout_for(run_name=run_name)
    layout.prometheus_rules.mkdir(parents=True)
    (layout.prometheus_rules / "broken.yml").write_text("groups: [{name: x, rules: [{alert: A, expr: 'sum(('}]}]\n")
    try:
        with pytest.raises(harness.StackError, match=r"(?s)prometheus exited during startup.*broken\.yml"):
            harness.ensure_up(only="prometheus", run_name=run_name)
        assert harness.status(run_name=run_name)["states"]["prometheus"] == "stopped"
    finally:
        harness.purge(run_name=run_name)

