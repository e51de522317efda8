"""Dashboards as code: the committed JSON is what the generator writes, reads back through the pinned
grafana-foundation-sdk models, and queries only metrics and datasources that exist."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models import elasticsearch, prometheus
from grafana_foundation_sdk.models.dashboard import Dashboard
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

from dashboards import GENERATED
from dashboards.build import generated_files, stale
from dashboards.push import push
from services.cli import app
from services.metrics import CrawlerMetrics, ExposureMetrics, IndexerMetrics, build_info

ROOT = Path(__file__).resolve().parents[2]
PROVISIONING = ROOT / "dashboards" / "provisioning"
RULES = ROOT / "deploy" / "prometheus" / "rules"
METRIC_NAME = re.compile(r"\bexposurewatch_[a-z_]+[a-z]\b")
VARIABLE = re.compile(r"\$(?!__)(\w+)")


def dashboards() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in sorted(GENERATED.glob("*.json"))}


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] != "row"]


def test_committed_json_is_what_the_generator_writes() -> None:
    assert stale() == [], "run `python -m dashboards.build` and commit dashboards/generated/"
    assert set(dashboards()) == set(generated_files()) == {"exposure-overview.json", "crawler.json",
                                                           "pipeline.json"}


def test_dashboards_build_check_command_agrees() -> None:
    result = CliRunner().invoke(app, ["dashboards", "build", "--check"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", sorted(generated_files()))
def test_json_round_trips_through_the_sdk_models_with_typed_queries(name: str) -> None:
    register_default_plugins()
    original = dashboards()[name]
    model = Dashboard.from_json(original)
    assert json.loads(json.dumps(model, cls=JSONEncoder)) == original
    for panel in model.panels or []:
        for target in getattr(panel, "targets", None) or []:
            assert isinstance(target, prometheus.Dataquery | elasticsearch.Dataquery), (panel.title, target)


def defined_metric_names() -> set[str]:
    registry = CollectorRegistry()
    CrawlerMetrics(registry)
    IndexerMetrics(registry)
    ExposureMetrics(registry)
    build_info(registry, "test")
    names = set()
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "info": ("_info",)}
    for family in registry.collect():
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ("",)))
    return names


def prometheus_queries() -> Iterator[tuple[str, str]]:
    for name, board in dashboards().items():
        for panel in panels(board):
            for target in panel.get("targets", []):
                if "expr" in target:
                    yield f"{name}: {panel['title']}", target["expr"]
    for path in sorted(RULES.glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                yield f"{path.name}: {rule.get('alert') or rule.get('record')}", rule["expr"]


def test_every_query_names_only_metrics_the_services_define() -> None:
    defined = defined_metric_names()
    queries = list(prometheus_queries())
    assert len(queries) > 30
    unknown = {(where, m) for where, expr in queries for m in METRIC_NAME.findall(expr) if m not in defined}
    assert not unknown


def test_every_datasource_and_variable_a_panel_uses_is_provided() -> None:
    provisioned = yaml.safe_load((PROVISIONING / "datasources" / "exposurewatch.yml").read_text())
    uids = {ds["uid"] for ds in provisioned["datasources"]}
    for board in dashboards().values():
        variables = {v["name"] for v in board["templating"].get("list", [])}
        for panel in panels(board):
            for target in panel["targets"]:
                assert target["datasource"] == panel["datasource"] and target["datasource"]["uid"] in uids
                used = set(VARIABLE.findall(target.get("expr", "") + target.get("query", "")))
                assert used <= variables, (panel["title"], used - variables)


def test_panels_have_unique_ids_and_do_not_overlap() -> None:
    for name, board in dashboards().items():
        cells: dict[tuple[int, int], str] = {}
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), name
        for panel in board["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] + pos["w"] <= 24, (name, panel["title"])
            for x in range(pos["x"], pos["x"] + pos["w"]):
                for y in range(pos["y"], pos["y"] + pos["h"]):
                    assert (x, y) not in cells, (name, panel["title"], cells.get((x, y)))
                    cells[(x, y)] = panel["title"]


def test_dashboard_provider_and_datasources_are_valid_provisioning_files() -> None:
    provider = yaml.safe_load((PROVISIONING / "dashboards" / "exposurewatch.yml").read_text())
    assert provider["apiVersion"] == 1 and provider["providers"][0]["type"] == "file"
    datasources = yaml.safe_load((PROVISIONING / "datasources" / "exposurewatch.yml").read_text())
    assert {ds["type"] for ds in datasources["datasources"]} == {"prometheus", "grafana-opensearch-datasource"}


class FakeGrafana(BaseHTTPRequestHandler):
    """Records requests and answers like Grafana: the folder is missing at first, everything else succeeds."""

    seen: ClassVar[list[tuple[str, str, str | None, Any]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.seen.append((self.command, self.path, self.headers.get("Authorization"), body))
        return body

    def do_GET(self) -> None:
        self.record()
        self.answer(404, {"message": "folder not found"})

    def do_POST(self) -> None:
        body = self.record()
        if self.path == "/api/folders":
            self.answer(200, {"uid": body["uid"], "title": body["title"]})
        else:
            self.answer(200, {"status": "success", "uid": body["dashboard"]["uid"], "version": 1})


@pytest.fixture
def fake_grafana() -> Iterator[str]:
    FakeGrafana.seen = []
    server = HTTPServer(("127.0.0.1", 0), FakeGrafana)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_push_sends_folder_then_each_dashboard_with_the_token(fake_grafana: str) -> None:
    """No Grafana server can run here: this checks only the shape of the requests against a local fake server."""
    uids = push(fake_grafana, "glsa_test_token", message="exposurewatch test")
    assert uids == ["exposurewatch-crawler", "exposurewatch-exposures", "exposurewatch-pipeline"]
    calls = [(method, path) for method, path, _, _ in FakeGrafana.seen]
    assert calls == [("GET", "/api/folders/exposurewatch"), ("POST", "/api/folders"),
                     *[("POST", "/api/dashboards/db")] * 3]
    assert {auth for _, _, auth, _ in FakeGrafana.seen} == {"Bearer glsa_test_token"}
    assert FakeGrafana.seen[1][3] == {"title": "exposurewatch", "uid": "exposurewatch"}
    upload = FakeGrafana.seen[2][3]
    assert upload["folderUid"] == "exposurewatch" and upload["overwrite"] is True
    assert upload["dashboard"] == dashboards()["crawler.json"]


def test_push_command_reports_a_refusal_clearly(fake_grafana: str) -> None:
    """Against the same fake server: a Grafana that refuses the folder read with 500 makes the command fail."""

    def refuse(handler: FakeGrafana) -> None:
        handler.record()
        handler.answer(500, {"message": "database is locked"})

    original = FakeGrafana.do_GET
    FakeGrafana.do_GET = refuse  # type: ignore[method-assign]
    try:
        result = CliRunner().invoke(app, ["dashboards", "push", "--grafana-url", fake_grafana, "--token", "t"])
    finally:
        FakeGrafana.do_GET = original  # type: ignore[method-assign]
    assert result.exit_code == 1
    assert "refused the dashboards" in result.output and "database is locked" in result.output
