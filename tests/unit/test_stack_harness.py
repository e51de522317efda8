"""The stack harness without Java: configs, ports, caching, process ownership and the up/down state machine,
driven by small stand-in processes (the real servers are exercised in tests/integration)."""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.stack import harness
from services.stack.harness import Layout, StackError


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return harness.layout_for(tmp_path / "stack")


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Stand-in processes a test starts; whatever a test leaves alive is killed."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def sleeper(procs: list[subprocess.Popen[bytes]], *argv: str, code: str = "") -> subprocess.Popen[bytes]:
    """A python process in its own session that prints 'ready' once ``code`` ran, then sleeps."""
    script = f"import signal, subprocess, sys, time\n{code}\nprint('ready', flush=True)\ntime.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", script, *argv], stdout=subprocess.PIPE, start_new_session=True)
    procs.append(proc)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ready"
    return proc


def test_stack_dir_comes_from_the_environment_or_the_user_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPOSUREWATCH_STACK_DIR", "/srv/ew-stack")
    assert harness.layout_for().root == Path("/srv/ew-stack")
    monkeypatch.delenv("EXPOSUREWATCH_STACK_DIR")
    assert harness.layout_for().root == Path.home().resolve() / ".cache" / "exposurewatch" / "stack"
    assert harness.layout_for("/x", run_name="other").run == Path("/x/other")


def test_only_accepts_a_comma_list_and_keeps_start_order() -> None:
    assert harness.parse_only(None) == ["kafka", "opensearch", "prometheus"]
    assert harness.parse_only("prometheus, Kafka") == ["kafka", "prometheus"]
    assert harness.parse_only(["opensearch"]) == ["opensearch"]
    with pytest.raises(StackError, match=r"unknown service.*zookeeper"):
        harness.parse_only("kafka,zookeeper")


def test_versions_come_from_the_committed_poms() -> None:
    assert harness.pom_property(harness.KAFKA_POM, "kafka.version") == "4.3.1"
    assert harness.pom_property(harness.OPENSEARCH_POM, "opensearch.version").startswith("2.19.")


def test_kafka_config_is_single_node_kraft_on_loopback(layout: Layout) -> None:
    lines = harness.kafka_properties(layout, 19092, 19093).splitlines()
    props = dict(line.split("=", 1) for line in lines)
    assert props["process.roles"] == "broker,controller"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["controller.quorum.bootstrap.servers"] == "127.0.0.1:19093"
    assert props["num.partitions"] == "3"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    for key in ("offsets.topic.replication.factor", "transaction.state.log.replication.factor", "min.insync.replicas"):
        assert props[key] == "1"
    assert props["log.dirs"].startswith(str(layout.run))


def test_kafka_cluster_ids_never_start_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    """The storage tool would read "-t -jbs…" as a missing id followed by an option (one id in 64)."""
    drawn = iter([uuid.UUID(bytes=b"\xf8" + bytes(15)), uuid.UUID(bytes=b"\x10" * 16)])
    monkeypatch.setattr(harness.uuid, "uuid4", lambda: next(drawn))
    cluster_id = harness.new_kafka_cluster_id()
    assert cluster_id == "EBAQEBAQEBAQEBAQEBAQEA" and len(cluster_id) == 22


def test_opensearch_config_is_single_node_on_loopback_without_disk_watermarks(layout: Layout) -> None:
    settings = json.loads(harness.opensearch_yml(layout, 19200, 19300))
    assert settings["network.host"] == "127.0.0.1"
    assert (settings["http.port"], settings["transport.port"]) == (19200, 19300)
    assert settings["discovery.type"] == "single-node"
    assert settings["cluster.routing.allocation.disk.threshold_enabled"] is False


def test_prometheus_config_reads_targets_from_files_every_second(layout: Layout) -> None:
    config = json.loads(harness.prometheus_yml(layout))
    assert config["global"]["scrape_interval"] == "1s"
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "exposurewatch"
    assert job["file_sd_configs"] == [{"files": [f"{layout.prometheus_targets}/*.json"], "refresh_interval": "1s"}]


def test_scrape_targets_are_files_prometheus_can_read(layout: Layout) -> None:
    path = harness.add_scrape_target(layout, "indexer", ["127.0.0.1:9108"], {"service": "indexer"})
    assert json.loads(path.read_text()) == [{"targets": ["127.0.0.1:9108"], "labels": {"service": "indexer"}}]
    assert [p.name for p in layout.prometheus_targets.iterdir()] == ["indexer.json"]
    harness.remove_scrape_target(layout, "indexer")
    harness.remove_scrape_target(layout, "indexer")
    assert list(layout.prometheus_targets.iterdir()) == []


def test_busy_preferred_port_falls_back_to_a_free_one() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert not harness.port_free(port)
        other = harness.pick_port(port, set())
        assert other != port and harness.port_free(other)
    taken: set[int] = set()
    assert harness.pick_port(port, taken) == port
    assert harness.pick_port(port, taken) != port
    assert len(taken) == 2


def test_stop_kills_only_processes_whose_command_line_names_this_run(
    layout: Layout, procs: list[subprocess.Popen[bytes]]
) -> None:
    ours = sleeper(procs, layout.marker("prometheus"))
    stranger = sleeper(procs, "--config.file=/elsewhere/prometheus.yml")
    harness.write_state(layout, {"prometheus": {"pid": ours.pid, "port": 1}, "kafka": {"pid": stranger.pid, "port": 2}})
    assert harness.owned_pid(layout, "kafka", {"pid": stranger.pid}) is None

    assert harness.stop(layout.root) == ["prometheus"]
    assert ours.wait(timeout=5) == -15
    assert stranger.poll() is None
    assert all(entry["pid"] is None for entry in harness.read_state(layout).values())


def test_stop_takes_down_the_whole_process_group(layout: Layout, procs: list[subprocess.Popen[bytes]]) -> None:
    pid_file = layout.root / "child.pid"
    layout.root.mkdir(parents=True)
    spawn_child = "open(sys.argv[2], 'w').write(str(subprocess.Popen(['sleep', '60']).pid))"
    parent = sleeper(procs, layout.marker("kafka"), str(pid_file), code=spawn_child)
    child = int(pid_file.read_text())
    harness.write_state(layout, {"kafka": {"pid": parent.pid, "port": 1}})
    harness.stop(layout.root, "kafka")
    parent.wait(timeout=5)
    deadline = time.monotonic() + 5
    while harness.pid_alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not harness.pid_alive(child)


def test_sigterm_is_escalated_to_sigkill(layout: Layout, procs: list[subprocess.Popen[bytes]]) -> None:
    stubborn = sleeper(procs, layout.marker("opensearch"), code="signal.signal(signal.SIGTERM, signal.SIG_IGN)")
    harness.write_state(layout, {"opensearch": {"pid": stubborn.pid, "port": 1}})
    assert harness.stop(layout.root, timeout=0.5) == ["opensearch"]
    assert stubborn.wait(timeout=5) == -9


def test_status_of_an_empty_stack_says_stopped(layout: Layout) -> None:
    info = harness.status(layout.root)
    assert {name: info[name] for name in harness.SERVICES} == dict.fromkeys(harness.SERVICES)
    assert info["states"] == dict.fromkeys(harness.SERVICES, "stopped")
    assert info["versions"]["kafka"] == "4.3.1" and info["versions"]["prometheus"] is None


def test_maven_fetch_is_skipped_once_cached_and_redone_when_the_pom_changes(
    layout: Layout, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[Path] = []

    def fake_maven(pom: Path, into: Path) -> None:
        calls.append(pom)
        into.mkdir(parents=True)
        (into / "kafka.jar").write_text("jar")

    monkeypatch.setattr(harness, "_maven_libs", fake_maven)
    first = harness.fetch_kafka(layout)
    assert harness.fetch_kafka(layout) == first
    assert len(calls) == 1 and (first / "libs" / "kafka.jar").exists()
    assert [p.name for p in layout.dist.iterdir()] == [first.name]  # no temp dirs left behind

    edited = tmp_path / "pom.xml"
    edited.write_text(harness.KAFKA_POM.read_text() + "<!-- bumped -->\n")
    monkeypatch.setattr(harness, "KAFKA_POM", edited)
    harness.fetch_kafka(layout)
    assert len(calls) == 2


def write_executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.skipif(not Path("/usr/bin/dpkg-deb").exists(), reason="needs dpkg-deb (Debian)")
def test_prometheus_fetch_runs_apt_get_update_only_when_download_fails(
    layout: Layout, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A fake apt-get that knows the package only after `update`, serving a tiny real .deb."""
    pkg = tmp_path / "pkg"
    write_executable(pkg / "usr" / "bin" / "prometheus", "#!/bin/sh\n")
    write_executable(pkg / "usr" / "bin" / "promtool", "#!/bin/sh\n")
    (pkg / "DEBIAN").mkdir()
    (pkg / "DEBIAN" / "control").write_text(
        "Package: prometheus\nVersion: 2.99.1+ds-1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n"
    )
    deb = tmp_path / "prometheus_2.99.1+ds-1_all.deb"
    subprocess.run(["dpkg-deb", "--build", str(pkg), str(deb)], check=True, capture_output=True)
    bin_dir = tmp_path / "bin"
    write_executable(
        bin_dir / "apt-get",
        f"""
        #!/bin/sh
        echo "$1" >> {tmp_path}/apt-calls
        case "$1" in
          update) touch {tmp_path}/updated ;;
          download) [ -e {tmp_path}/updated ] || {{ echo "E: Unable to locate package" >&2; exit 100; }}
                    cp {deb} . ;;
        esac
        """,
    )
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    dist = harness.fetch_prometheus(layout)
    assert (tmp_path / "apt-calls").read_text().split() == ["download", "update", "download"]
    assert harness.prometheus_version(layout) == "2.99.1"
    assert harness.promtool(layout).exists() and (dist / "usr" / "bin" / "prometheus").exists()
    harness.fetch_prometheus(layout)
    assert (tmp_path / "apt-calls").read_text().split() == ["download", "update", "download"]


FAKE_PROMETHEUS = f"""
#!{sys.executable}
# Stand-in for the Prometheus binary: serves /-/ready on --web.listen-address, or fails as told by $FAKE_MODE.
import http.server, os, sys, time
mode = os.environ.get("FAKE_MODE", "ok")
if mode == "crash":
    sys.exit("fake prometheus: bad flag --boom")
if mode == "hang":
    time.sleep(60)
host, port = [a for a in sys.argv if a.startswith("--web.listen-address=")][0].split("=")[1].split(":")
class Ready(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ready")
http.server.HTTPServer((host, int(port)), Ready).serve_forever()
"""


@pytest.fixture
def fake_prometheus(layout: Layout) -> Iterator[Layout]:
    """A cached 'download' whose server is the stand-in above; stops whatever a test left running."""
    write_executable(layout.prometheus_dist / "usr" / "bin" / "prometheus", FAKE_PROMETHEUS)
    (layout.prometheus_dist / "VERSION").write_text("2.42.0\n")
    (layout.prometheus_dist / ".complete").write_text("\n")
    yield layout
    harness.stop(layout.root)


def test_up_is_idempotent_and_down_stops_the_server(fake_prometheus: Layout) -> None:
    info = harness.ensure_up(fake_prometheus.root, only="prometheus")
    pid = info["pids"]["prometheus"]
    assert info["states"]["prometheus"] == "running"
    assert info["prometheus"].startswith("http://127.0.0.1:")
    assert info["versions"]["prometheus"] == "2.42.0"
    assert info["kafka"] is None and info["states"]["kafka"] == "stopped"

    again = harness.ensure_up(fake_prometheus.root, only="prometheus")
    assert again["pids"]["prometheus"] == pid and again["prometheus"] == info["prometheus"]
    assert fake_prometheus.prometheus_config.exists()

    assert harness.stop(fake_prometheus.root) == ["prometheus"]
    assert not harness.pid_alive(pid)
    assert harness.status(fake_prometheus.root)["states"]["prometheus"] == "stopped"


def test_restart_keeps_the_previous_port(fake_prometheus: Layout) -> None:
    first = harness.ensure_up(fake_prometheus.root, only="prometheus")["prometheus"]
    harness.stop(fake_prometheus.root)
    assert harness.ensure_up(fake_prometheus.root, only="prometheus")["prometheus"] == first


def test_a_crashing_server_fails_up_with_its_log_tail(
    fake_prometheus: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_MODE", "crash")
    with pytest.raises(StackError, match=r"(?s)prometheus exited during startup.*bad flag --boom"):
        harness.ensure_up(fake_prometheus.root, only="prometheus")
    assert harness.read_state(fake_prometheus)["prometheus"]["pid"] is None


def test_a_server_that_never_gets_healthy_is_killed_after_the_timeout(
    fake_prometheus: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_MODE", "hang")
    with pytest.raises(StackError, match=r"prometheus \(pid \d+\) not healthy after 1s") as failure:
        harness.ensure_up(fake_prometheus.root, only="prometheus", timeouts={"prometheus": 1})
    pid = re.search(r"pid (\d+)", str(failure.value))
    assert pid and not harness.pid_alive(int(pid[1]))


def test_waiting_for_a_scrape_has_a_bounded_wait_and_a_clear_message() -> None:
    port = harness.pick_port(None, set())
    with pytest.raises(StackError, match=r"did not scrape 127\.0\.0\.1:1 within 1s"):
        harness.wait_for_scrape(f"http://127.0.0.1:{port}", "127.0.0.1:1", timeout=1)
