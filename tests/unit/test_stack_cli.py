"""`exposurewatch stack` commands: JSON status shape, exit codes, and up/down round trip on a stand-in server."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from services.stack import harness
from services.stack.cli import app
from tests.unit.test_stack_harness import FAKE_PROMETHEUS, write_executable

runner = CliRunner()


def test_status_json_of_a_stopped_stack_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", "--json", "--stack-dir", str(tmp_path)])
    assert result.exit_code == 1
    info = json.loads(result.stdout)
    assert {key: info[key] for key in ("kafka", "opensearch", "prometheus")} == dict.fromkeys(harness.SERVICES)
    assert info["states"] == dict.fromkeys(harness.SERVICES, "stopped")
    assert info["versions"]["kafka"] == "4.3.1"


def test_status_table_says_stopped(tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", "--stack-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout.count("│ stopped │") == 3


def test_unknown_service_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["up", "--only", "kafka,redis", "--stack-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "unknown service(s): redis" in result.stderr


def test_up_status_down_round_trip_on_a_subset(tmp_path: Path) -> None:
    layout = harness.layout_for(tmp_path)
    write_executable(layout.prometheus_dist / "usr" / "bin" / "prometheus", FAKE_PROMETHEUS)
    (layout.prometheus_dist / "VERSION").write_text("2.42.0\n")
    (layout.prometheus_dist / ".complete").write_text("\n")
    env = {"EXPOSUREWATCH_STACK_DIR": str(tmp_path)}
    try:
        up = runner.invoke(app, ["up", "--only", "prometheus", "--scrape", "127.0.0.1:9108", "--json"], env=env)
        assert up.exit_code == 0, up.output
        info = json.loads(up.stdout)
        assert info["prometheus"].startswith("http://127.0.0.1:") and info["kafka"] is None
        targets = json.loads((layout.prometheus_targets / "cli.json").read_text())
        assert targets[0]["targets"] == ["127.0.0.1:9108"]

        assert runner.invoke(app, ["status", "--only", "prometheus"], env=env).exit_code == 0
        assert runner.invoke(app, ["status"], env=env).exit_code == 1
    finally:
        down = runner.invoke(app, ["down", "--purge"], env=env)
    assert down.exit_code == 0, down.output
    assert not harness.pid_alive(info["pids"]["prometheus"])
    assert not layout.run.exists() and layout.prometheus_dist.exists()
