"""Every dashboard query answers with data after a real pipeline run.

The Hub simulator, a lister (run twice: a first crawl, then a recrawl with nothing changed), a crawl worker,
the indexer and the exposures exporter run as subprocesses on a fresh topic and index prefix, each serving
/metrics under the Prometheus job the alert rules expect. One poison message goes to the findings topic, so the
dead-letter path runs too. Afterwards every Prometheus panel query of dashboards/generated/*.json (template
variables set to "All", Grafana's interval macros filled in) returns series for the run's time window, every
search-index panel query, translated as Grafana's Elasticsearch datasource would, returns hits from OpenSearch,
and the alerts the run should raise are raised.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from dashboards import GENERATED
from services.bus import Topic, open_bus
from services.report import build_report
from services.stack import harness
from services.store import open_store

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "rules" / "exposurewatch.yml"
HUB_SPACES, HUB_SEED = 400, 3
RATE_INTERVAL = "20s"
"""What Grafana makes of $__rate_interval against this 1s-scrape Prometheus: several scrapes per window."""
VARIABLE = re.compile(r"\$(?!__)(\w+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(what: str, check: Any, timeout: float, logs: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    tails = "\n".join(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                      for log in sorted(logs.glob("*.log")))
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{tails}")


@dataclass
class Run:
    """One pipeline run: where its data is and when it happened."""

    prometheus: str
    opensearch: str
    prefix: str
    started: float
    logs: Path
    env: dict[str, str]
    ended: float = 0.0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def command(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - the child process writes it until it ends
        process = subprocess.Popen([sys.executable, "-c", "from services.cli import app; app()", *args], stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env)
        self.processes.append(process)
        return process

    def prom(self, query: str, instant: bool = False) -> list[dict[str, Any]]:
        if instant:
            reply = httpx.get(f"{self.prometheus}/api/v1/query", params={"query": query}, timeout=30)
        else:
            reply = httpx.get(f"{self.prometheus}/api/v1/query_range", timeout=30, params={
                "query": query, "start": self.started, "end": self.ended, "step": "2s"})
        body = reply.json()
        assert body["status"] == "success", (query, body)
        return list(body["data"]["result"])

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        reply = httpx.post(f"{self.opensearch}/{self.prefix}-findings/_search", json=body, timeout=30)
        assert reply.status_code == 200, reply.text
        return dict(reply.json())

    def findings(self) -> int:
        reply = httpx.get(f"{self.opensearch}/{self.prefix}-findings/_count", timeout=30)
        return int(reply.json()["count"]) if reply.status_code == 200 else 0


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def drive(result: Run, bus: str, store: str, hub: str, ports: dict[str, int]) -> None:
    """Start the services, crawl, dead-letter one message, recrawl; return once Prometheus has seen it all."""
    logs = result.logs
    result.command("hubsim", "hubsim", "--spaces", str(HUB_SPACES), "--seed", str(HUB_SEED),
                   "--port", str(ports["hub"]))
    wait_until("the Hub simulator", lambda: port_open(ports["hub"]), 60, logs)
    result.command("indexer", "index", "--bus", bus, "--store", store, "--metrics-port", str(ports["indexer"]))
    result.command("exposures-exporter", "exposures-exporter", "--store", store, "--interval", "1",
                   "--metrics-port", str(ports["exposures-exporter"]))
    result.command("worker", "crawl", "worker", "--bus", bus, "--store", store,
                   "--metrics-port", str(ports["worker"]))
    for service in ("indexer", "exposures-exporter", "worker"):
        wait_until(f"Prometheus scraping the {service}", lambda s=service: scraped(result, s), 60, logs)

    first = result.command("lister-1", "crawl", "spaces", "--hub-url", hub, "--bus", bus, "--store", store,
                           "--metrics-port", str(ports["lister"]))
    assert first.wait(timeout=300) == 0, (logs / "lister-1.log").read_text()
    poison(bus, result.prefix)
    wait_until("findings in OpenSearch", lambda: result.findings() > 10, 180, logs)
    wait_until("every listed Space indexed", lambda: every_space_indexed(result), 180, logs)
    second = result.command("lister-2", "crawl", "spaces", "--hub-url", hub, "--bus", bus, "--store", store,
                            "--metrics-port", str(ports["lister"]))
    assert second.wait(timeout=300) == 0, (logs / "lister-2.log").read_text()
    wait_until("the exposure gauges", lambda: result.prom("sum(exposurewatch_exposures_open)", instant=True),
               60, logs)
    time.sleep(5)  # a few more scrapes of the long-running services
    result.ended = time.time()


SETUP_FAILURES: list[str] = []
"""pytest re-runs a failed module fixture for every test; one failed pipeline run is enough."""


@pytest.fixture(scope="module")
def run(stack: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    if SETUP_FAILURES:
        pytest.fail(f"the pipeline run already failed in this module: {SETUP_FAILURES[0]}")
    run_id = uuid.uuid4().hex[:8]
    prefix = f"e2e-{run_id}"
    layout = harness.layout_for()
    logs = tmp_path_factory.mktemp("e2e-logs")
    env = {**os.environ, "EXPOSUREWATCH_TOPIC_PREFIX": prefix, "EXPOSUREWATCH_INDEX_PREFIX": prefix,
           "EXPOSUREWATCH_KAFKA_PARTITIONS": "2"}
    result = Run(stack["prometheus"], stack["opensearch"], prefix, time.time(), logs, env)
    bus, store = f"kafka://{stack['kafka']}", f"opensearch+{stack['opensearch']}"
    ports = {name: free_port() for name in ("hub", "lister", "worker", "indexer", "exposures-exporter")}
    targets = []
    for service in ("lister", "worker", "indexer", "exposures-exporter"):
        name = f"e2e-{run_id}-{service}"
        harness.add_scrape_target(layout, name, [f"127.0.0.1:{ports[service]}"],
                                  labels={"job": f"exposurewatch-{service}", "e2e_run": run_id})
        targets.append(name)
    rules = Path(harness.status()["prometheus_rules_dir"]) / f"e2e-{run_id}.yml"
    rules.write_text(RULES.read_text())
    httpx.post(f"{stack['prometheus']}/-/reload", timeout=30).raise_for_status()
    hub = f"http://127.0.0.1:{ports['hub']}"
    try:
        try:
            drive(result, bus, store, hub, ports)
        except BaseException as exc:
            SETUP_FAILURES.append(f"{type(exc).__name__}: {exc}"[:3000])
            raise
        yield result
    finally:
        stop(result.processes)
        for name in targets:
            harness.remove_scrape_target(layout, name)
        rules.unlink(missing_ok=True)
        httpx.post(f"{stack['prometheus']}/-/reload", timeout=30)
        harness.drop_store_layout(stack["opensearch"], prefix)
        harness.drop_bus_topics(stack["kafka"], prefix)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def scraped(run: Run, service: str) -> bool:
    return bool(run.prom(f'up{{job="exposurewatch-{service}"}} == 1', instant=True))


def every_space_indexed(run: Run) -> bool:
    reply = httpx.get(f"{run.opensearch}/{run.prefix}-assets/_count", timeout=30)
    return reply.status_code == 200 and int(reply.json()["count"]) >= HUB_SPACES - 5


def poison(bus_url: str, prefix: str) -> None:
    """One unreadable message on the findings topic, for the indexer to dead-letter."""
    bus = open_bus(bus_url, prefix=prefix, partitions=2)
    bus.send(Topic.FINDINGS, "poison", b"{not an event", ())
    bus.flush()
    bus.close()


# ------------------------------------------------------------------------------------------ the panels


def dashboard_targets() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(GENERATED.glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                found.append((f"{path.stem}: {panel['title']} [{target['refId']}]", target))
    return found


PROMETHEUS_TARGETS = [(name, t) for name, t in dashboard_targets() if "expr" in t]
SEARCH_TARGETS = [(name, t) for name, t in dashboard_targets() if "bucketAggs" in t or "metrics" in t]


def grafana_expr(expr: str, run: Run) -> str:
    """The query Grafana sends: every variable on "All" (``.*``) and its interval macros filled in."""
    expr = expr.replace("$__rate_interval", RATE_INTERVAL).replace("$__interval", "2s")
    expr = expr.replace("$__range", f"{round(run.ended - run.started)}s")
    return VARIABLE.sub(".*", expr)


@pytest.mark.parametrize(("panel", "target"), PROMETHEUS_TARGETS, ids=[n for n, _ in PROMETHEUS_TARGETS])
def test_prometheus_panel_query_returns_data(run: Run, panel: str, target: dict[str, Any]) -> None:
    series = run.prom(grafana_expr(target["expr"], run))
    values = [float(v) for s in series for _, v in s["values"]]
    assert values, f"{panel}: no data for {grafana_expr(target['expr'], run)}"
    assert any(v == v for v in values), f"{panel}: only NaN"


def opensearch_body(target: dict[str, Any], start_ms: int, end_ms: int) -> dict[str, Any]:
    """The search Grafana's Elasticsearch datasource builds from a panel query (its ``auto`` interval as 1m)."""
    body: dict[str, Any] = {"size": 0, "query": {"bool": {"filter": [
        {"range": {target["timeField"]: {"gte": start_ms, "lte": end_ms, "format": "epoch_millis"}}},
        {"query_string": {"analyze_wildcard": True, "query": target["query"]}},
    ]}}}
    metric = target["metrics"][0]
    if metric["type"] == "raw_data":
        body.update(size=int(metric["settings"]["size"]), sort=[{target["timeField"]: {"order": "desc"}}])
        return body
    assert metric["type"] == "count", metric
    parent = body
    for agg in target["bucketAggs"]:
        settings = agg["settings"]
        if agg["type"] == "terms":
            spec = {"terms": {"field": agg["field"], "size": int(settings["size"]),
                              "order": {settings["orderBy"]: settings["order"]},
                              "min_doc_count": int(settings["min_doc_count"])}}
        else:
            assert agg["type"] == "date_histogram", agg
            spec = {"date_histogram": {"field": agg["field"], "fixed_interval": "1m",
                                       "min_doc_count": int(settings["min_doc_count"]),
                                       "extended_bounds": {"min": start_ms, "max": end_ms}}}
        parent.setdefault("aggs", {})[agg["id"]] = spec
        parent = spec
    return body


def counted(aggregation: dict[str, Any]) -> int:
    """Documents in the innermost buckets of a (possibly nested) aggregation result."""
    total = 0
    for bucket in aggregation["buckets"]:
        inner = [v for k, v in bucket.items() if isinstance(v, dict) and "buckets" in v]
        total += counted(inner[0]) if inner else int(bucket["doc_count"])
    return total


@pytest.mark.parametrize(("panel", "target"), SEARCH_TARGETS, ids=[n for n, _ in SEARCH_TARGETS])
def test_search_panel_query_returns_hits(run: Run, panel: str, target: dict[str, Any]) -> None:
    start_ms, end_ms = int((run.started - 60) * 1000), int((run.ended + 60) * 1000)
    answer = run.search(opensearch_body(target, start_ms, end_ms))
    assert answer["hits"]["total"]["value"] > 0, panel
    if "aggregations" in answer:
        first = next(iter(answer["aggregations"].values()))
        assert counted(first) > 0, panel
        if target["bucketAggs"][0].get("field") == "asset_id":  # "Top owners" extracts owners from Space ids
            owner = re.compile(r"^space:(?P<owner>[^/]+)/")
            assert all(owner.match(b["key"]) for b in first["buckets"]), first["buckets"][:3]
    else:
        assert answer["hits"]["hits"], panel


def test_the_run_raises_the_alerts_it_should(run: Run) -> None:
    firing = {a["metric"]["alertname"] for a in run.prom('ALERTS{alertstate="firing"}', instant=True)}
    # DeadLetterTopicGrowing sees the first dead letter only if the indexer exports its outcome counter at 0
    # before it: increase() cannot count a series that is born at 1.
    assert {"NewCriticalExposure", "RestrictedModelProxySeen", "DeadLetterTopicGrowing"} <= firing
    assert not {"IndexerDown", "CrawlerStalled"} & firing


def test_the_recrawl_found_every_space_unchanged(run: Run) -> None:
    unchanged = run.prom('sum(max_over_time(exposurewatch_crawler_spaces_total{job="exposurewatch-lister", '
                         'outcome="unchanged"}[5m]))', instant=True)
    assert unchanged and float(unchanged[0]["value"][1]) >= HUB_SPACES - 5


def test_the_report_of_the_run_store_has_its_charts(run: Run) -> None:
    url = f"opensearch+{run.opensearch}"
    store = open_store(url, run.prefix)
    try:
        html = build_report(store, url, days=1)
    finally:
        store.close()
    assert html.count('<svg class="chart"') == 4 and html.count('class="bar"') > 5
    assert "PR-Puppets/PR-Puppet-Sora" in html  # the planted Sora relay, among the newest critical exposures
