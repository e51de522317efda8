"""The alert and recording rules pass `promtool check`, their unit tests pass `promtool test rules`, and the real
Prometheus of the stack loads and evaluates them. promtool is the one `exposurewatch stack` fetched."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from services.stack import harness

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULE_FILES = sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    tool = harness.status()["promtool"]
    return subprocess.run([tool, *map(str, args)], capture_output=True, text=True, timeout=120, check=False)


def test_rules_pass_promtool_check(stack: dict[str, Any]) -> None:
    assert RULE_FILES
    result = promtool("check", "rules", *RULE_FILES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 12 rules found" in result.stdout


def test_rule_unit_tests_pass(stack: dict[str, Any]) -> None:
    assert RULE_TESTS
    result = promtool("test", "rules", *RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_can_fail(stack: dict[str, Any], tmp_path: Path) -> None:
    """A rule unit test expecting an alert that the rules do not raise must fail, or the suite proves nothing."""
    rules = tmp_path / "rules.yml"
    rules.write_text((PROMETHEUS_DIR / "rules" / "exposurewatch.yml").read_text().replace("< 3600", "< 60"))
    suite = yaml.safe_load(RULE_TESTS[0].read_text())
    suite["rule_files"] = [str(rules)]
    broken = tmp_path / "broken.test.yml"
    broken.write_text(yaml.safe_dump(suite))
    result = promtool("test", "rules", broken)
    assert result.returncode != 0 and "NewCriticalExposure" in result.stdout + result.stderr


def test_scrape_config_is_valid_with_the_rules(stack: dict[str, Any], tmp_path: Path) -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    config["rule_files"] = [str(path) for path in RULE_FILES]
    checked = tmp_path / "prometheus.yml"
    checked.write_text(yaml.safe_dump(config))
    result = promtool("check", "config", checked)
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert {"exposurewatch-lister", "exposurewatch-worker", "exposurewatch-indexer",
            "exposurewatch-exposures-exporter"} <= jobs


@pytest.fixture
def loaded_rules(stack: dict[str, Any]) -> Any:
    """The project's rules installed in the running Prometheus (and removed afterwards)."""
    rules_dir = Path(harness.status()["prometheus_rules_dir"])
    installed = rules_dir / f"pytest-{uuid.uuid4().hex[:8]}.yml"
    installed.write_text(RULE_FILES[0].read_text())
    httpx.post(f"{stack['prometheus']}/-/reload", timeout=30).raise_for_status()
    yield stack["prometheus"]
    installed.unlink()
    httpx.post(f"{stack['prometheus']}/-/reload", timeout=30).raise_for_status()


def test_prometheus_loads_and_evaluates_every_rule(loaded_rules: str) -> None:
    groups = yaml.safe_load(RULE_FILES[0].read_text())["groups"]
    names = {rule.get("alert") or rule.get("record") for group in groups for rule in group["rules"]}
    deadline = time.monotonic() + 30
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        groups = httpx.get(f"{loaded_rules}/api/v1/rules", timeout=10).json()["data"]["groups"]
        states = {rule["name"]: rule["health"] for group in groups for rule in group["rules"]
                  if rule["name"] in names}
        if len(states) == len(names) and set(states.values()) == {"ok"}:
            return
        time.sleep(0.5)
    pytest.fail(f"rules not all loaded and healthy: {states}")
