"""The Helm chart: lints, renders manifests valid for Kubernetes, keeps features off by default and secrets
out of values, and documents every value. Needs the `helm` binary (scripts/test.sh installs it)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

CHART = Path(__file__).resolve().parents[2] / "helm" / "exposurewatch"
KUBERNETES = "1.33.0"


def helm_binary() -> str:
    found = shutil.which("helm")
    if found:
        return found
    gopath = subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True, check=True).stdout.strip()
    candidate = Path(gopath) / "bin" / "helm"
    assert candidate.exists(), "helm is missing: scripts/test.sh installs it with `go install`"
    return str(candidate)


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HELM_CACHE_HOME": "/tmp/helm-cache", "HELM_CONFIG_HOME": "/tmp/helm-config"}
    return subprocess.run([helm_binary(), *args], capture_output=True, text=True, check=False, env=env)


def render(*sets: str) -> list[dict[str, Any]]:
    args = ["template", "ew", str(CHART)]
    for item in sets:
        args += ["--set", item]
    result = helm(*args)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def test_chart_lints_strictly() -> None:
    result = helm("lint", "--strict", str(CHART))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("sets", [(), ("exposuresExporter.enabled=true", "hfTokenSecret.name=hub",
                                       "storeUrlSecret.name=store", "fingerprintKeySecret.name=fp")])
def test_rendered_manifests_validate_against_kubernetes_schemas(sets: tuple[str, ...]) -> None:
    docs = render(*sets)
    assert {d["kind"] for d in docs} >= {"CronJob", "Deployment", "Service", "ServiceAccount"}
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_every_object_carries_the_recommended_labels() -> None:
    for doc in render("exposuresExporter.enabled=true"):
        labels = doc["metadata"]["labels"]
        for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component",
                    "app.kubernetes.io/managed-by", "app.kubernetes.io/version"):
            assert key in labels, f"{doc['kind']} {doc['metadata']['name']} lacks {key}"


def test_optional_features_are_off_by_default() -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for d in render()}
    assert not any(kind == "ServiceMonitor" for kind, _ in kinds)
    assert not any(name.endswith("exposures-exporter") for _, name in kinds)


def test_service_monitor_when_enabled() -> None:
    monitors = [d for d in render("metrics.serviceMonitor.enabled=true") if d["kind"] == "ServiceMonitor"]
    assert {m["metadata"]["name"] for m in monitors} == {"ew-exposurewatch-worker", "ew-exposurewatch-indexer"}


def test_secrets_are_referenced_never_inlined() -> None:
    docs = render("hfTokenSecret.name=hub-token", "storeUrlSecret.name=store")
    worker = next(d for d in docs if d["metadata"]["name"].endswith("-worker") and d["kind"] == "Deployment")
    env = {e["name"]: e for e in worker["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["HF_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "hub-token", "key": "HF_TOKEN"}
    assert "value" not in env["EXPOSUREWATCH_STORE_URL"]


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [("config.busUrl=memory://", "busUrl"), ("worker.replicas=-1", "replicas"), ("bogus=1", "bogus")],
)
def test_schema_rejects_bad_values(setting: str, complaint: str) -> None:
    result = helm("template", "ew", str(CHART), "--set", setting)
    assert result.returncode != 0 and complaint in result.stderr


FREE_FORM = {"podSecurityContext", "securityContext"}
"""Kubernetes objects passed through whole; their own fields are documented by Kubernetes."""


def test_every_value_is_commented() -> None:
    lines = (CHART / "values.yaml").read_text().splitlines()
    key = re.compile(r"^(\s*)([A-Za-z][A-Za-z0-9]*):(.*)$")
    parents: list[tuple[int, str]] = []
    for number, line in enumerate(lines):
        match = key.match(line)
        if not match:
            continue
        indent, name, rest = len(match.group(1)), match.group(2), match.group(3).strip()
        parents = [(i, n) for i, n in parents if i < indent]
        free_form = any(n in FREE_FORM for _, n in parents)
        is_section = not rest
        above = lines[number - 1].strip() if number else ""
        if not (free_form or is_section):
            assert above.startswith("#"), f"values.yaml line {number + 1} has no comment: {line}"
        parents.append((indent, name))
