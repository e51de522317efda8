"""Fetch and run real Kafka, OpenSearch and Prometheus servers on loopback for integration tests and local use.

Everything lives under one stack directory (``EXPOSUREWATCH_STACK_DIR``, default ``~/.cache/exposurewatch/stack``):
``dist/`` caches the downloads (Maven jars, the Debian Prometheus package), and each run directory (``run/`` by
default) holds the servers' configs, data, logs and ``state.json`` with their pids and ports. Servers run in their
own sessions, so they outlive the CLI that started them; ``stop`` kills only pids whose command line names this
run directory's config files.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

log = logging.getLogger(__name__)

SERVICES = ("kafka", "opensearch", "prometheus")
DEFAULT_RUN = "run"
HOST = "127.0.0.1"

_HERE = Path(__file__).resolve().parent
KAFKA_POM = _HERE / "kafka-server" / "pom.xml"
KAFKA_LOG4J = _HERE / "kafka-server" / "log4j2.yaml"
OPENSEARCH_POM = _HERE / "opensearch-server" / "pom.xml"
OPENSEARCH_LAUNCHER = _HERE / "opensearch-server" / "OpenSearchLauncher.java"
OPENSEARCH_LOG4J = _HERE / "opensearch-server" / "log4j2.properties"

# Fixed defaults keep URLs stable across restarts; a busy port falls back to a free one.
DEFAULT_PORTS = {
    "kafka": {"port": 19092, "controller_port": 19093},
    "opensearch": {"port": 19200, "transport_port": 19300},
    "prometheus": {"port": 19090},
}
START_TIMEOUT_S = {"kafka": 120.0, "opensearch": 180.0, "prometheus": 60.0}
STOP_TIMEOUT_S = 30.0

KAFKA_JVM = ["-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true"]
OPENSEARCH_JVM = [
    "-Xms512m",
    "-Xmx1g",
    "-XX:+UseG1GC",
    "-Djava.awt.headless=true",
    "-Dfile.encoding=UTF-8",
    "-Dlog4j2.formatMsgNoLookups=true",
    "-Dlog4j2.disable.jmx=true",
    "-Dlog4j.shutdownHookEnabled=false",
]

# Popen handles of the servers this process started: polling them reaps exited children, which would
# otherwise linger as zombies and look alive to /proc.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class StackError(RuntimeError):
    """A server could not be fetched, started or stopped; the message says why, with a log tail."""


@dataclass(frozen=True)
class Layout:
    """Paths of one stack directory and one of its run directories."""

    root: Path
    run_name: str = DEFAULT_RUN

    @property
    def dist(self) -> Path:
        return self.root / "dist"

    @property
    def run(self) -> Path:
        return self.root / self.run_name

    @property
    def state_file(self) -> Path:
        return self.run / "state.json"

    def service_dir(self, name: str) -> Path:
        return self.run / name

    def log_file(self, name: str) -> Path:
        return self.service_dir(name) / f"{name}.log"

    @property
    def kafka_config(self) -> Path:
        return self.service_dir("kafka") / "server.properties"

    @property
    def opensearch_home(self) -> Path:
        return self.service_dir("opensearch")

    @property
    def prometheus_config(self) -> Path:
        return self.service_dir("prometheus") / "prometheus.yml"

    @property
    def prometheus_targets(self) -> Path:
        return self.service_dir("prometheus") / "targets"

    @property
    def prometheus_rules(self) -> Path:
        return self.service_dir("prometheus") / "rules"

    @property
    def prometheus_dist(self) -> Path:
        return self.dist / "prometheus"

    def marker(self, name: str) -> str:
        """The argv element that ties a server process to this run directory."""
        if name == "kafka":
            return str(self.kafka_config)
        if name == "opensearch":
            return str(self.opensearch_home)
        return f"--config.file={self.prometheus_config}"


def default_stack_dir() -> Path:
    env = os.environ.get("EXPOSUREWATCH_STACK_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "exposurewatch" / "stack"


def layout_for(stack_dir: Path | str | None = None, run_name: str = DEFAULT_RUN) -> Layout:
    root = Path(stack_dir).expanduser() if stack_dir is not None else default_stack_dir()
    return Layout(root.resolve(), run_name)


def parse_only(only: str | Iterable[str] | None) -> list[str]:
    """Normalise ``--only kafka,opensearch`` (or a list) to known service names in start order."""
    if only is None:
        return list(SERVICES)
    items = only.split(",") if isinstance(only, str) else list(only)
    wanted = {item.strip().lower() for item in items if item.strip()}
    unknown = wanted - set(SERVICES)
    if unknown:
        raise StackError(f"unknown service(s): {', '.join(sorted(unknown))}; choose from {', '.join(SERVICES)}")
    return [name for name in SERVICES if name in wanted]


# --------------------------------------------------------------------------------------------- state


def read_state(layout: Layout) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(layout.state_file.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_state(layout: Layout, state: Mapping[str, Mapping[str, Any]]) -> None:
    _write_atomic(layout.state_file, json.dumps(state, indent=2, sort_keys=True) + "\n")


def _write_atomic(path: Path, text: str) -> None:
    """Readers (Prometheus file_sd, a concurrent ``status``) must never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@contextlib.contextmanager
def _locked(layout: Layout) -> Iterator[None]:
    """Serialise ``up``/``down`` on one run directory (parallel test sessions, a second shell)."""
    layout.run.mkdir(parents=True, exist_ok=True)
    with open(layout.run / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ----------------------------------------------------------------------------------------- processes


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def pid_alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def owned_pid(layout: Layout, name: str, entry: Mapping[str, Any] | None) -> int | None:
    """The recorded pid of ``name`` if that process is alive and really is our server (pids get reused)."""
    pid = (entry or {}).get("pid")
    if not isinstance(pid, int) or not pid_alive(pid):
        return None
    return pid if layout.marker(name) in cmdline(pid) else None


def _spawn(argv: Sequence[str], cwd: Path, log_file: Path) -> int:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "wb") as out:
        proc = subprocess.Popen(
            list(argv), cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    _CHILDREN[proc.pid] = proc
    return proc.pid


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal the server's whole session (it was started with start_new_session, so pgid == pid)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def terminate(pids: Iterable[int], timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM the process groups, then SIGKILL whatever is still alive after ``timeout`` seconds."""
    pending = [pid for pid in pids if pid_alive(pid)]
    for pid in pending:
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        time.sleep(0.1)
        pending = [pid for pid in pending if pid_alive(pid)]
    for pid in pending:
        log.warning("pid %d ignored SIGTERM for %.0fs; sending SIGKILL", pid, timeout)
        _signal_group(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pending and time.monotonic() < deadline:
        time.sleep(0.05)
        pending = [pid for pid in pending if pid_alive(pid)]
    if pending:
        raise StackError(f"pid(s) {pending} survived SIGKILL")
    for pid in list(_CHILDREN):
        if _CHILDREN[pid].poll() is not None:
            del _CHILDREN[pid]


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------------------------- ports


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def pick_port(preferred: int | None, taken: set[int]) -> int:
    """``preferred`` if it is free, else an ephemeral loopback port; never one already in ``taken``."""
    if preferred and preferred not in taken and port_free(preferred):
        taken.add(preferred)
        return preferred
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            taken.add(port)
            return port


def tcp_open(port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


# ------------------------------------------------------------------------------------------ fetching


def _tool(name: str, hint: str) -> str:
    java_home = os.environ.get("JAVA_HOME")
    if name in ("java", "javac") and java_home and (Path(java_home) / "bin" / name).exists():
        return str(Path(java_home) / "bin" / name)
    found = shutil.which(name)
    if not found:
        raise StackError(f"`{name}` not found on PATH; {hint}")
    return found


def _run(argv: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, check=False)


def _checked(argv: Sequence[str], cwd: Path | None = None) -> None:
    result = _run(argv, cwd)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-30:]
        raise StackError(f"`{' '.join(argv)}` failed ({result.returncode}):\n" + "\n".join(output))


def pom_property(pom: Path, prop: str) -> str:
    """Versions live in the committed poms only, so bumping one there is enough."""
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(pom).getroot().find(f"m:properties/m:{prop}", ns)
    if node is None or not node.text:
        raise StackError(f"{pom} has no <{prop}>")
    return node.text.strip()


def _digest(*paths: Path) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.read_bytes())
    return sha.hexdigest()[:16]


def _cached(target: Path, digest: str) -> bool:
    try:
        return (target / ".complete").read_text().strip() == digest
    except OSError:
        return False


def _publish(tmp: Path, target: Path, digest: str) -> None:
    """Swap a fully fetched tree into place, so an interrupted fetch is never mistaken for a cache hit."""
    if _cached(target, digest):  # another run directory fetched it meanwhile; its servers may be using it
        return
    (tmp / ".complete").write_text(digest + "\n")
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)


@contextlib.contextmanager
def _staging(layout: Layout, name: str) -> Iterator[Path]:
    """A scratch tree beside the cache to fetch into; removed afterwards, whether :func:`_publish` took it or not."""
    layout.dist.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=layout.dist))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _maven_libs(pom: Path, into: Path) -> None:
    mvn = _tool("mvn", "install Maven 3.8+ (apt-get install maven)")
    into.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(pom, into.parent / "pom.xml")  # mvn writes next to the pom; keep the source tree untouched
    _checked(
        [mvn, "-B", "-q", "dependency:copy-dependencies", f"-DoutputDirectory={into}", "-DincludeScope=runtime"],
        cwd=into.parent,
    )


def fetch_kafka(layout: Layout) -> Path:
    """Kafka broker jars from Maven Central, cached in dist/kafka-<version>/libs."""
    version = pom_property(KAFKA_POM, "kafka.version")
    target = layout.dist / f"kafka-{version}"
    digest = _digest(KAFKA_POM)
    if not _cached(target, digest):
        log.info("fetching Kafka %s jars with Maven", version)
        with _staging(layout, "kafka") as tmp:
            _maven_libs(KAFKA_POM, tmp / "libs")
            _publish(tmp, target, digest)
    return target


def fetch_opensearch(layout: Layout) -> Path:
    """OpenSearch jars and modules from Maven Central plus the compiled launcher, in dist/opensearch-<version>."""
    version = pom_property(OPENSEARCH_POM, "opensearch.version")
    target = layout.dist / f"opensearch-{version}"
    digest = _digest(OPENSEARCH_POM, OPENSEARCH_LAUNCHER)
    if not _cached(target, digest):
        log.info("fetching OpenSearch %s jars with Maven", version)
        with _staging(layout, "opensearch") as tmp:
            _maven_libs(OPENSEARCH_POM, tmp / "libs")
            javac = _tool("javac", "install a JDK 17 (apt-get install openjdk-17-jdk-headless)")
            _checked([javac, "-d", str(tmp / "classes"), "-cp", str(tmp / "libs" / "*"), str(OPENSEARCH_LAUNCHER)])
            _publish(tmp, target, digest)
    return target


def fetch_prometheus(layout: Layout) -> Path:
    """Debian's prometheus package (server and promtool) unpacked into dist/prometheus; no root install needed."""
    target = layout.prometheus_dist
    if (target / ".complete").exists():
        return target
    apt_get = _tool("apt-get", "Prometheus is fetched from Debian's package archive")
    dpkg_deb = _tool("dpkg-deb", "Prometheus is fetched from Debian's package archive")
    with _staging(layout, "prometheus") as tmp:
        log.info("fetching Prometheus with apt-get download")
        download = tmp / "deb"
        download.mkdir()
        if _run([apt_get, "download", "prometheus"], download).returncode != 0:
            log.info("apt-get download failed; running apt-get update once")  # missing package lists
            _checked([apt_get, "update"])
            _checked([apt_get, "download", "prometheus"], download)
        deb = next(download.glob("prometheus_*.deb"))
        _checked([dpkg_deb, "-x", str(deb), str(tmp)])
        version = _run([dpkg_deb, "-f", str(deb), "Version"]).stdout.strip()
        shutil.rmtree(download)
        # "2.42.0+ds-5+deb12u1" -> "2.42.0": the upstream release, which is what the server reports.
        (tmp / "VERSION").write_text(version.split(":")[-1].split("+")[0].split("-")[0] + "\n")
        _publish(tmp, target, "")
    return target


def prometheus_version(layout: Layout) -> str | None:
    try:
        return (layout.prometheus_dist / "VERSION").read_text().strip()
    except OSError:
        return None


def promtool(layout: Layout) -> Path:
    return layout.prometheus_dist / "usr" / "bin" / "promtool"


# ------------------------------------------------------------------------------------------- configs


def kafka_properties(layout: Layout, port: int, controller_port: int) -> str:
    data = layout.service_dir("kafka") / "data"
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"{HOST}:{controller_port}",
        "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data),
        "num.partitions": "3",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "auto.create.topics.enable": "true",
        "group.initial.rebalance.delay.ms": "0",
        "offsets.topic.replication.factor": "1",
        # Fewer internal partitions than the default 50 make the first consumer group / transaction fast.
        "offsets.topic.num.partitions": "5",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "5",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def opensearch_yml(layout: Layout, port: int, transport_port: int) -> str:
    home = layout.opensearch_home
    settings: dict[str, Any] = {
        "cluster.name": "exposurewatch-stack",
        "node.name": "node-1",
        "network.host": HOST,
        "http.port": port,
        "transport.port": transport_port,
        "discovery.type": "single-node",
        "path.data": str(home / "data"),
        "path.logs": str(home / "logs"),
        # A nearly full dev disk must not flip indices to read-only mid-test.
        "cluster.routing.allocation.disk.threshold_enabled": False,
        # With a 1 GiB heap the real-memory breaker trips on large bulks long before the heap is in danger.
        "indices.breaker.total.use_real_memory": False,
    }
    return json.dumps(settings, indent=2) + "\n"  # JSON is valid YAML


def prometheus_yml(layout: Layout) -> str:
    """Short intervals so tests see a new target or value within seconds."""
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(layout.prometheus_rules / "*.yml")],
        "scrape_configs": [
            {
                "job_name": "exposurewatch",
                "file_sd_configs": [{"files": [str(layout.prometheus_targets / "*.json")], "refresh_interval": "1s"}],
            }
        ],
    }
    return json.dumps(config, indent=2) + "\n"  # JSON is valid YAML


def add_scrape_target(
    layout: Layout, name: str, targets: Sequence[str], labels: Mapping[str, str] | None = None
) -> Path:
    """Add ``host:port`` metrics endpoints to the ``exposurewatch`` job; Prometheus re-reads within ~1s."""
    path = layout.prometheus_targets / f"{name}.json"
    _write_atomic(path, json.dumps([{"targets": list(targets), "labels": dict(labels or {})}], indent=2) + "\n")
    return path


def remove_scrape_target(layout: Layout, name: str) -> None:
    (layout.prometheus_targets / f"{name}.json").unlink(missing_ok=True)


def wait_for_scrape(prometheus_url: str, address: str, timeout: float = 30.0) -> dict[str, Any]:
    """Block until Prometheus has scraped ``address`` successfully; returns its active-target entry."""
    deadline = time.monotonic() + timeout
    last: Any = "no answer"
    while time.monotonic() < deadline:
        try:
            reply = httpx.get(f"{prometheus_url}/api/v1/targets", params={"state": "active"}, timeout=5)
            targets = reply.json()["data"]["activeTargets"]
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            last = exc
        else:
            mine = [t for t in targets if t.get("labels", {}).get("instance") == address]
            if mine and mine[0].get("health") == "up":
                return dict(mine[0])
            last = mine[0] if mine else f"not among {[t.get('scrapeUrl') for t in targets]}"
        time.sleep(0.25)
    raise StackError(f"Prometheus at {prometheus_url} did not scrape {address} within {timeout:.0f}s: {last}")


def drop_bus_topics(kafka_address: str, prefix: str) -> None:
    """Delete the topics a Kafka bus on ``prefix`` created on the stack's broker (tests and benchmarks share it):
    left behind, every run's topics pile up in the run directory and slow the broker's start and metadata."""
    from services.bus.base import Topic, topic_name

    admin = KafkaAdminClient(bootstrap_servers=kafka_address, client_id="exposurewatch-cleanup")
    try:
        existing = set(admin.list_topics())
        names = [name for name in (topic_name(prefix, topic) for topic in Topic) if name in existing]
        if names:
            admin.delete_topics(names)
    finally:
        admin.close()


def drop_store_layout(opensearch_url: str, prefix: str) -> None:
    """Delete what a search-engine store on ``prefix`` created on the stack's node (tests and benchmarks share it):
    its data stream, index generations and templates, by the names the store itself gives them."""
    from services.store.base import Entity
    from services.store.search_engine import connect

    store = connect("opensearch", f"opensearch+{opensearch_url}", prefix)
    try:
        indices = ",".join(f"{store.alias(entity)}-v*" for entity in Entity)
        index_templates, component_templates = store.index_templates(), store.component_templates()
    finally:
        store.close()
    with httpx.Client(base_url=opensearch_url, timeout=120) as http:
        http.delete(f"/_data_stream/{store.events_stream}")
        http.delete(f"/{indices}")
        for name in index_templates:
            http.delete(f"/_index_template/{name}")
        for name in component_templates:
            http.delete(f"/_component_template/{name}")


# ------------------------------------------------------------------------------------------- servers


def _java() -> str:
    return _tool("java", "install a JDK 17 (apt-get install openjdk-17-jdk-headless)")


def _prepare_kafka(layout: Layout, ports: Mapping[str, int]) -> list[str]:
    dist = fetch_kafka(layout)
    home = layout.service_dir("kafka")
    home.mkdir(parents=True, exist_ok=True)
    layout.kafka_config.write_text(kafka_properties(layout, ports["port"], ports["controller_port"]))
    classpath = str(dist / "libs" / "*")
    java = _java()
    base = [java, f"-Dlog4j2.configurationFile={KAFKA_LOG4J}", "-cp", classpath]
    # The standalone voter set records the controller endpoint, so a new controller port needs a fresh log.
    formatted = home / "formatted-for-controller-port"
    data = home / "data"
    if not (data / "meta.properties").exists() or _read_text(formatted) != str(ports["controller_port"]):
        shutil.rmtree(data, ignore_errors=True)
        fmt = ["kafka.tools.StorageTool", "format", "--standalone", "-t", new_kafka_cluster_id(), "-c",
               str(layout.kafka_config)]
        _checked([*base, *fmt])
        formatted.write_text(str(ports["controller_port"]))
    return [java, *KAFKA_JVM, *base[1:], "kafka.Kafka", str(layout.kafka_config)]


def new_kafka_cluster_id() -> str:
    """A random cluster id as Kafka's own ``Uuid.randomUuid`` makes one: URL-safe base64 of 16 bytes that never
    starts with "-", which the storage tool's argument parser would take for an option (1 id in 64)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def _prepare_opensearch(layout: Layout, ports: Mapping[str, int]) -> list[str]:
    dist = fetch_opensearch(layout)
    home = layout.opensearch_home
    for sub in ("config", "data", "logs", "tmp"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    (home / "config" / "opensearch.yml").write_text(opensearch_yml(layout, ports["port"], ports["transport_port"]))
    shutil.copy(OPENSEARCH_LOG4J, home / "config" / "log4j2.properties")
    classpath = f"{dist / 'classes'}:{dist / 'libs' / '*'}"
    jvm = [*OPENSEARCH_JVM, f"-Djava.io.tmpdir={home / 'tmp'}"]
    return [_java(), *jvm, "-cp", classpath, "OpenSearchLauncher", str(home)]


def _prepare_prometheus(layout: Layout, ports: Mapping[str, int]) -> list[str]:
    dist = fetch_prometheus(layout)
    home = layout.service_dir("prometheus")
    layout.prometheus_targets.mkdir(parents=True, exist_ok=True)
    layout.prometheus_rules.mkdir(parents=True, exist_ok=True)
    _write_atomic(layout.prometheus_config, prometheus_yml(layout))
    consoles = dist / "etc" / "prometheus"
    return [
        str(dist / "usr" / "bin" / "prometheus"),
        f"--config.file={layout.prometheus_config}",
        f"--storage.tsdb.path={home / 'data'}",
        "--storage.tsdb.retention.time=2d",
        f"--web.listen-address={HOST}:{ports['port']}",
        "--web.enable-lifecycle",
        f"--web.console.templates={consoles / 'consoles'}",
        f"--web.console.libraries={consoles / 'console_libraries'}",
    ]


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


_PREPARE: dict[str, Callable[[Layout, Mapping[str, int]], list[str]]] = {
    "kafka": _prepare_kafka,
    "opensearch": _prepare_opensearch,
    "prometheus": _prepare_prometheus,
}


def endpoint(name: str, port: int) -> str:
    return f"{HOST}:{port}" if name == "kafka" else f"http://{HOST}:{port}"


def healthy(name: str, port: int) -> bool:
    """One quick readiness probe: Kafka answers metadata with an unfenced broker, OpenSearch is yellow or green,
    Prometheus reports ready."""
    if not tcp_open(port):
        return False
    if name == "kafka":
        return _kafka_healthy(port)
    path = "/_cluster/health?wait_for_status=yellow&timeout=1s" if name == "opensearch" else "/-/ready"
    try:
        reply = httpx.get(endpoint(name, port) + path, timeout=5)
    except httpx.HTTPError:
        return False
    if name == "opensearch":
        return reply.status_code == 200 and reply.json().get("status") in ("yellow", "green")
    return reply.status_code == 200


def _kafka_healthy(port: int) -> bool:
    admin = None
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=f"{HOST}:{port}",
            client_id="exposurewatch-stack",
            request_timeout_ms=3000,
            bootstrap_timeout_ms=3000,
        )
        cluster = admin.describe_cluster()
    except (KafkaError, OSError):
        return False
    finally:
        if admin is not None:
            admin.close()
    return any(not broker.get("is_fenced") for broker in cluster.get("brokers", []))


def _wait_healthy(layout: Layout, name: str, pid: int, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not healthy(name, port):
        problem = None
        if not pid_alive(pid):
            problem = f"{name} exited during startup"
        elif time.monotonic() > deadline:
            problem = f"{name} (pid {pid}) not healthy after {timeout:.0f}s"
        if problem:
            logfile = layout.log_file(name)
            raise StackError(f"{problem}; {logfile} ends with:\n{log_tail(logfile)}")
        time.sleep(0.25)


def _single_node_replicas(port: int) -> None:
    """One node cannot host replicas, so default them to 0 and let indices go green.

    Only the persistent cluster setting is honoured at index creation; the same key in opensearch.yml is not.
    """
    setting = {"persistent": {"cluster.default_number_of_replicas": 0}}
    httpx.put(f"{endpoint('opensearch', port)}/_cluster/settings", json=setting, timeout=30).raise_for_status()


def _version(layout: Layout, name: str) -> str | None:
    if name == "kafka":
        return pom_property(KAFKA_POM, "kafka.version")
    if name == "opensearch":
        return pom_property(OPENSEARCH_POM, "opensearch.version")
    return prometheus_version(layout)


def ensure_up(
    stack_dir: Path | str | None = None,
    only: str | Iterable[str] | None = None,
    run_name: str = DEFAULT_RUN,
    timeouts: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Start whichever of the selected servers are not already running and wait until all are healthy.

    Servers already running from this run directory are reused, so calling it twice is cheap. If a server fails
    to come up, the ones this call started are stopped again and :class:`StackError` carries the log tail.
    """
    layout = layout_for(stack_dir, run_name)
    names = parse_only(only)
    limits = {**START_TIMEOUT_S, **(timeouts or {})}
    with _locked(layout):
        state = read_state(layout)
        taken = {port for name, entry in state.items() if owned_pid(layout, name, entry) for port in _ports(entry)}
        started: list[str] = []
        waiting: list[tuple[str, int, int]] = []
        try:
            for name in names:
                entry = state.get(name, {})
                pid = owned_pid(layout, name, entry)
                if pid is None:
                    defaults = DEFAULT_PORTS[name]
                    ports = {key: pick_port(entry.get(key) or default, taken) for key, default in defaults.items()}
                    argv = _PREPARE[name](layout, ports)
                    log.info("starting %s on %s", name, endpoint(name, ports["port"]))
                    pid = _spawn(argv, layout.service_dir(name), layout.log_file(name))
                    entry = {"pid": pid, **ports, "version": _version(layout, name)}
                    state[name] = entry
                    started.append(name)
                    write_state(layout, state)
                waiting.append((name, pid, int(entry["port"])))
            for name, pid, port in waiting:
                _wait_healthy(layout, name, pid, port, limits[name])
                if name == "opensearch" and name in started:
                    _single_node_replicas(port)
        except BaseException:
            terminate([state[name]["pid"] for name in started])
            for name in started:
                state[name]["pid"] = None
            write_state(layout, state)
            raise
    return status(layout.root, run_name)


def _ports(entry: Mapping[str, Any]) -> list[int]:
    return [value for key, value in entry.items() if key.endswith("port") and isinstance(value, int)]


def stop(
    stack_dir: Path | str | None = None,
    only: str | Iterable[str] | None = None,
    run_name: str = DEFAULT_RUN,
    timeout: float = STOP_TIMEOUT_S,
) -> list[str]:
    """Stop the selected servers that this run directory started; returns the names actually stopped."""
    layout = layout_for(stack_dir, run_name)
    names = parse_only(only)
    with _locked(layout):
        state = read_state(layout)
        victims = {name: pid for name in names if (pid := owned_pid(layout, name, state.get(name))) is not None}
        for name in victims:
            log.info("stopping %s (pid %d)", name, victims[name])
        terminate(victims.values(), timeout)
        for name in names:
            if name in state:
                state[name]["pid"] = None
        write_state(layout, state)
    return list(victims)


def purge(stack_dir: Path | str | None = None, run_name: str = DEFAULT_RUN) -> None:
    """Stop everything and delete the run directory (data and logs); the download cache stays."""
    layout = layout_for(stack_dir, run_name)
    stop(layout.root, None, run_name)
    shutil.rmtree(layout.run, ignore_errors=True)


def status(stack_dir: Path | str | None = None, run_name: str = DEFAULT_RUN) -> dict[str, Any]:
    """Endpoints of running servers (``None`` for the others), their versions and a per-server state word."""
    layout = layout_for(stack_dir, run_name)
    state = read_state(layout)
    result: dict[str, Any] = {}
    states: dict[str, str] = {}
    versions: dict[str, str | None] = {}
    pids: dict[str, int | None] = {}
    for name in SERVICES:
        entry = state.get(name) or {}
        pid = pids[name] = owned_pid(layout, name, entry)
        port = entry.get("port")
        if pid is None or not isinstance(port, int):
            states[name] = "stopped"
        else:
            states[name] = "running" if healthy(name, port) else "unhealthy"
        result[name] = endpoint(name, port) if states[name] == "running" and isinstance(port, int) else None
        versions[name] = entry.get("version") or _version(layout, name)
    result.update(
        {
            "versions": versions,
            "states": states,
            "pids": pids,
            "stack_dir": str(layout.root),
            "run_dir": str(layout.run),
            "prometheus_targets_dir": str(layout.prometheus_targets),
            "prometheus_rules_dir": str(layout.prometheus_rules),
            "promtool": str(promtool(layout)),
        }
    )
    return result
