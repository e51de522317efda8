"""Observability commands: ``report`` (HTML without Grafana), ``exposures-exporter`` (open-exposure gauges for
Prometheus) and ``dashboards build|push`` (Grafana dashboards as code)."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from prometheus_client import CollectorRegistry

from services.config import get_settings, mask_url
from services.console import console, fail
from services.finding_options import open_store_option
from services.metrics import ExposureMetrics, build_info, package_version, serve
from services.report import build_report
from services.store import StoreError

log = logging.getLogger(__name__)

dashboards_app = typer.Typer(help="Grafana dashboards as code: generate and upload.", no_args_is_help=True)


def report(
    store: Annotated[str | None, typer.Option(help="Store URL (default: EXPOSUREWATCH_STORE_URL).")] = None,
    out: Annotated[Path, typer.Option(help="Where to write the HTML page.")] = Path("report.html"),
    days: Annotated[float, typer.Option(min=0.001, help="Findings seen in the last this many days.")] = 30.0,
) -> None:
    """Write a self-contained HTML summary with charts: over time, by provider, by kind, newest critical."""
    url = store or get_settings().store_url
    opened = open_store_option(url)
    try:
        html = build_report(opened, url, days)
    except (ValueError, StoreError) as exc:
        raise fail(str(exc)) from exc
    finally:
        opened.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html)
    console.print(f"wrote {out}")


def exposures_exporter(
    store: Annotated[str | None, typer.Option(help="Store URL (default: EXPOSUREWATCH_STORE_URL).")] = None,
    metrics_port: Annotated[int | None, typer.Option(min=0, max=65535, help="Port of /metrics (default: "
                                                     "EXPOSUREWATCH_METRICS_PORT).")] = None,
    metrics_addr: Annotated[str, typer.Option(envvar="EXPOSUREWATCH_METRICS_ADDR", help="Address to serve /metrics "
                                              "on (0.0.0.0 in containers).")] = "127.0.0.1",
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between two reads of the store.")] = 60.0,
) -> None:
    """Serve open exposures by kind, provider and severity, counted from the store, as Prometheus gauges."""
    settings = get_settings()
    port = settings.metrics_port if metrics_port is None else metrics_port
    if port is None:
        raise fail("give --metrics-port or set EXPOSUREWATCH_METRICS_PORT")
    url = store or settings.store_url
    opened = open_store_option(url)
    registry = CollectorRegistry()
    build_info(registry, "exposures-exporter")
    metrics = ExposureMetrics(registry)
    server = serve(registry, port, metrics_addr)
    console.print(f"serving open exposures of {mask_url(url)} on http://{metrics_addr}:{server.server_port}/metrics")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        try:
            metrics.refresh(opened)
        except StoreError as exc:
            log.warning("could not read open exposures, keeping the last values: %s", exc)
        stop.wait(interval)
    server.shutdown()
    opened.close()


@dashboards_app.command("build")
def dashboards_build(
    check: Annotated[bool, typer.Option("--check", help="Only tell whether the committed JSON is stale.")] = False,
) -> None:
    """Regenerate dashboards/generated/*.json from dashboards/build.py (needs the dev extra)."""
    try:
        from dashboards.build import stale, write
    except ImportError as exc:
        raise fail(f"{exc}: generating dashboards needs the dev extra, pip install -e '.[dev]'") from exc

    if check:
        outdated = stale()
        if outdated:
            raise fail(f"stale: {', '.join(outdated)}; run `exposurewatch dashboards build`", code=1)
        console.print("dashboards are up to date")
        return
    for path in write():
        console.print(f"wrote {path}")


@dashboards_app.command("push")
def dashboards_push(
    grafana_url: Annotated[str, typer.Option(help="Base URL of Grafana, e.g. https://grafana.example.org.")],
    token: Annotated[str, typer.Option(envvar="GRAFANA_TOKEN", help="Service-account token (or $GRAFANA_TOKEN).")],
) -> None:
    """Upload the generated dashboards into Grafana's "exposurewatch" folder (datasources come from provisioning)."""
    from grafana_client.client import GrafanaException

    from dashboards.push import push

    try:
        uids = push(grafana_url, token, message=f"exposurewatch {package_version()}")
    except (GrafanaException, OSError) as exc:
        raise fail(f"Grafana at {grafana_url} refused the dashboards: {exc}", code=1) from exc
    console.print(f"pushed {len(uids)} dashboard(s): {', '.join(uids)}")
