"""Generate the Grafana dashboards into ``dashboards/generated/*.json``: ``python -m dashboards.build [--check]``.

The JSON is committed (Grafana provisioning and ``exposurewatch dashboards push`` read it) and generated with
sorted keys, so the same code always writes the same bytes and a test can tell when it is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.variants import Dataquery
from grafana_foundation_sdk.models.dashboard import DashboardCursorSync, DashboardLinkType
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from dashboards import GENERATED
from dashboards.panels import (
    at,
    bar_gauge,
    colored_severities,
    label_variable,
    organize,
    promql,
    search_counts,
    search_documents,
    search_term_counts,
    stat_panel,
    table_panel,
    timeseries,
    transformation,
)

TAG = "exposurewatch"

EXPOSURE_FILTER = 'kind=~"$kind", provider=~"$provider", severity=~"$severity"'
CRAWLER_FILTER = 'job=~"$job"'
INDEXER_JOB = 'job="exposurewatch-indexer"'


def base(uid: str, title: str, description: str) -> dashboard.Dashboard:
    """Common frame: tag, time range, shared crosshair, and links to the other exposurewatch dashboards."""
    return (dashboard.Dashboard(title).uid(uid).description(description).tags([TAG]).time("now-6h", "now")
            .refresh("1m").timezone("browser").tooltip(DashboardCursorSync.CROSSHAIR)
            .link(dashboard.DashboardLink("exposurewatch").type(DashboardLinkType.DASHBOARDS).tags([TAG])
                  .as_dropdown(True).include_vars(False).keep_time(True)))


def exposure_overview() -> dashboard.Dashboard:
    open_exposures = f"exposurewatch_exposures_open{{{EXPOSURE_FILTER}}}"
    new_help = "Findings by the time they were first seen, from the search index."
    top_owners = table_panel(
        "Top owners", "Owners of the most Spaces' open findings seen in the range (top 500 Spaces, grouped by "
        "the owner part of the Space id).",
        search_term_counts("status:open", "last_seen", "asset_id", size=500), at(16, 21, 8, 9),
        [transformation("extractFields", {"source": "asset_id", "format": "regexp",
                                          "regExp": "/^space:(?<owner>[^/]+)\\//", "replace": False}),
         transformation("groupBy", {"fields": {"owner": {"operation": "groupby", "aggregations": []},
                                               "Count": {"operation": "aggregate", "aggregations": ["sum"]}}}),
         transformation("sortBy", {"sort": [{"field": "Count (sum)", "desc": True}]}),
         transformation("limit", {"limitField": 10}),
         organize(["owner", "Count (sum)"], {"Count (sum)": "open findings"})],
    )
    restricted = table_panel(
        "Restricted-model proxies", "Spaces relaying requests to restricted (unreleased or gated) models, newest "
        "sighting first.", search_documents("kind:model_proxy AND restricted:true", "last_seen", size=500),
        at(0, 30, 24, 10),
        [organize(["asset_id", "provider", "models", "endpoint", "severity", "status", "sightings", "first_seen",
                   "last_seen"], {"asset_id": "Space", "first_seen": "first seen", "last_seen": "last seen"})],
    )
    return (
        base("exposurewatch-exposures", "Exposure overview",
             "Leaked AI-model access found by exposurewatch: what is open now and what is new.")
        .with_variable(label_variable("kind", "kind", "exposurewatch_exposures_open"))
        .with_variable(label_variable("provider", "provider", "exposurewatch_exposures_open"))
        .with_variable(label_variable("severity", "severity", "exposurewatch_exposures_open"))
        .with_panel(stat_panel("Open exposures", "Open findings in the store.",
                               promql(f"sum({open_exposures})"), at(0, 0, 6, 4)))
        .with_panel(stat_panel(
            "Open critical", "Open critical findings: live keys and relays that must be revoked now.",
            promql('sum(exposurewatch_exposures_open{kind=~"$kind", provider=~"$provider", severity="critical"})'),
            at(6, 0, 6, 4), red_above=1))
        .with_panel(stat_panel(
            "Open restricted-model proxies", "Open relays to restricted models, like the 2024 Sora leak.",
            promql('sum(exposurewatch_exposures_open{kind="model_proxy", restricted="true", provider=~"$provider", '
                   'severity=~"$severity"})'), at(12, 0, 6, 4), red_above=1))
        .with_panel(stat_panel(
            "Newest exposure", "Time since the newest open finding was first seen.",
            promql(f"time() - max(exposurewatch_exposures_newest_first_seen_timestamp_seconds{{{EXPOSURE_FILTER}}})"),
            at(18, 0, 6, 4), unit="s"))
        .with_panel(colored_severities(timeseries(
            "New exposures by severity", new_help, [search_counts("*", "first_seen", "severity")], "short",
            at(0, 4, 12, 8), bars=True, stacked=True)))
        .with_panel(colored_severities(timeseries(
            "Open exposures by severity", "Open findings in the store, as the exposures exporter counts them.",
            [promql(f"sum by (severity) ({open_exposures})", "{{severity}}")], "short", at(12, 4, 12, 8),
            stacked=True)))
        .with_panel(timeseries("New exposures by kind", new_help, [search_counts("*", "first_seen", "kind")],
                               "short", at(0, 12, 12, 9), bars=True, stacked=True))
        .with_panel(timeseries("New exposures by provider", new_help,
                               [search_counts("*", "first_seen", "provider")], "short", at(12, 12, 12, 9),
                               bars=True, stacked=True))
        .with_panel(bar_gauge("Open exposures by provider", "Open findings per provider.",
                              promql(f"sort_desc(sum by (provider) ({open_exposures}))", "{{provider}}",
                                     instant=True), at(0, 21, 8, 9)))
        .with_panel(bar_gauge("Open exposures by kind", "Open findings per kind.",
                              promql(f"sort_desc(sum by (kind) ({open_exposures}))", "{{kind}}", instant=True),
                              at(8, 21, 8, 9)))
        .with_panel(top_owners)
        .with_panel(restricted)
    )


def crawler_health() -> dashboard.Dashboard:
    def rate(metric: str, by: str = "", extra: str = "") -> str:
        grouping = f"sum by ({by}) " if by else "sum "
        return f"{grouping}(rate({metric}{{{CRAWLER_FILTER}{extra}}}[$__rate_interval]))"

    def total(metric: str, extra: str = "") -> str:
        return f"sum(increase({metric}{{{CRAWLER_FILTER}{extra}}}[$__range]))"

    return (
        base("exposurewatch-crawler", "Crawler", "The Hub crawler: listing, fetching, findings, errors, rate limits.")
        .with_variable(label_variable("job", "job", "exposurewatch_crawler_pending_requests"))
        .with_panel(stat_panel("Spaces listed", "Spaces the listers saw in the range.",
                               promql(total("exposurewatch_crawler_spaces_total", ', outcome="listed"')),
                               at(0, 0, 6, 4)))
        .with_panel(stat_panel("Spaces fetched", "Spaces the fetchers downloaded and scanned in the range.",
                               promql(total("exposurewatch_crawler_spaces_total", ', outcome="fetched"')),
                               at(6, 0, 6, 4)))
        .with_panel(stat_panel("Findings emitted", "Findings the fetchers emitted in the range (re-sightings "
                               "included).", promql(total("exposurewatch_crawler_findings_total")), at(12, 0, 6, 4)))
        .with_panel(stat_panel(
            "Since last progress", "Time since any crawler completed a listing page or a Space; the stalled "
            "alert fires when requests are pending and this passes 10 minutes.",
            promql(f"time() - max(exposurewatch_crawler_last_progress_timestamp_seconds{{{CRAWLER_FILTER}}})"),
            at(18, 0, 6, 4), unit="s", red_above=600))
        .with_panel(timeseries("Requests by status", "Hub responses per second by HTTP status.",
                               [promql(rate("exposurewatch_crawler_requests_total", "status"), "{{status}}")],
                               "reqps", at(0, 4, 12, 8), stacked=True))
        .with_panel(timeseries("Spaces by outcome", "Spaces per second: listed, new, changed, unchanged, fetched, "
                               "gone, deleted.",
                               [promql(rate("exposurewatch_crawler_spaces_total", "outcome"), "{{outcome}}")],
                               "short", at(12, 4, 12, 8)))
        .with_panel(colored_severities(timeseries(
            "Findings by severity", "Findings emitted per second by severity.",
            [promql(rate("exposurewatch_crawler_findings_total", "severity"), "{{severity}}")], "short",
            at(0, 12, 12, 8), stacked=True)))
        .with_panel(timeseries("Findings by provider and kind", "Findings emitted per second.",
                               [promql(rate("exposurewatch_crawler_findings_total", "kind, provider"),
                                       "{{provider}} {{kind}}")], "short", at(12, 12, 12, 8), stacked=True))
        .with_panel(timeseries("Errors by stage", "Failed fetches and unreadable answers per second.",
                               [promql(rate("exposurewatch_crawler_errors_total", "stage"), "{{stage}}")], "short",
                               at(0, 20, 8, 8)))
        .with_panel(timeseries("Rate-limit waits", "429 answers waited out per second, and the share of time "
                               "spent waiting.",
                               [promql(rate("exposurewatch_crawler_ratelimit_waits_total"), "waits/s"),
                                promql(rate("exposurewatch_crawler_ratelimit_wait_seconds_total"), "waiting s/s",
                                       ref="B")], "short", at(8, 20, 8, 8)))
        .with_panel(timeseries("Pending requests", "Requests queued or downloading, per process.",
                               [promql(f"exposurewatch_crawler_pending_requests{{{CRAWLER_FILTER}}}",
                                       "{{job}} {{instance}}")], "short", at(16, 20, 8, 8)))
        .with_panel(timeseries("Download volume", "Bytes of Hub responses per second.",
                               [promql(rate("exposurewatch_crawler_response_bytes_total"), "bytes/s")], "Bps",
                               at(0, 28, 12, 8)))
        .with_panel(timeseries(
            "Since last progress, per process", "Seconds since each crawler process last moved forward.",
            [promql(f"time() - exposurewatch_crawler_last_progress_timestamp_seconds{{{CRAWLER_FILTER}}}",
                    "{{job}} {{instance}}")], "s", at(12, 28, 12, 8)))
    )


def pipeline_health() -> dashboard.Dashboard:
    def quantiles(metric: str) -> list[Builder[Dataquery]]:
        return [promql(f"histogram_quantile({q}, sum by (le) (rate({metric}_bucket{{{INDEXER_JOB}}}"
                       f"[$__rate_interval])))", f"p{round(q * 100)}", ref=ref)
                for q, ref in ((0.5, "A"), (0.95, "B"), (0.99, "C"))]

    return (
        base("exposurewatch-pipeline", "Pipeline", "From the bus to the store: indexer lag, throughput, latency, "
             "dead letters, and which exposurewatch processes are up.")
        .with_panel(stat_panel("Indexers up", "Indexer processes Prometheus scrapes successfully.",
                               promql(f"sum(up{{{INDEXER_JOB}}})"), at(0, 0, 6, 4)))
        .with_panel(stat_panel("Consumer lag", "Messages the indexers are behind, all topics.",
                               promql("sum(exposurewatch_indexer_consumer_lag_messages)"), at(6, 0, 6, 4),
                               red_above=10000))
        .with_panel(stat_panel("Dead-lettered", "Messages sent to the dead-letter topic in the range.",
                               promql('sum(increase(exposurewatch_indexer_documents_total{outcome="deadlettered"}'
                                      '[$__range]))'), at(12, 0, 6, 4), red_above=1))
        .with_panel(stat_panel("Exposure gauges age", "Time since the exposures exporter last read the store.",
                               promql("time() - max(exposurewatch_exposures_last_refresh_timestamp_seconds)"),
                               at(18, 0, 6, 4), unit="s", red_above=600))
        .with_panel(timeseries("Consumer lag by topic", "Messages behind the log end, per topic.",
                               [promql("max by (topic) (exposurewatch_indexer_consumer_lag_messages)", "{{topic}}")],
                               "short", at(0, 4, 12, 8)))
        .with_panel(timeseries("Documents by outcome", "Documents per second: indexed, failed, dead-lettered.",
                               [promql("sum by (outcome) (rate(exposurewatch_indexer_documents_total"
                                       "[$__rate_interval]))", "{{outcome}}")], "short", at(12, 4, 12, 8)))
        .with_panel(timeseries("Bulk latency", "Time for the store to acknowledge a batch.",
                               quantiles("exposurewatch_indexer_bulk_latency_seconds"), "s", at(0, 12, 8, 8)))
        .with_panel(timeseries("End-to-end latency", "From a finding's discovery to its acknowledgement by the "
                               "store.", quantiles("exposurewatch_indexer_end_to_end_latency_seconds"), "s",
                               at(8, 12, 8, 8)))
        .with_panel(timeseries("Batch size", "Messages per bulk request.",
                               quantiles("exposurewatch_indexer_batch_size_messages"), "short", at(16, 12, 8, 8)))
        .with_panel(timeseries("Targets up", "1 while Prometheus scrapes an exposurewatch process successfully.",
                               [promql('up{job=~"exposurewatch-.+"}', "{{job}} {{instance}}")], "short",
                               at(0, 20, 12, 8)))
        .with_panel(table_panel(
            "Running versions", "Which release and role each scraped process runs.",
            promql("max by (job, instance, service, version) (exposurewatch_build_info)", instant=True)
            .format(PromQueryFormat.TABLE), at(12, 20, 12, 8),
            [organize(["job", "instance", "service", "version"], {})]))
    )


DASHBOARDS: dict[str, Callable[[], dashboard.Dashboard]] = {
    "exposure-overview": exposure_overview,
    "crawler": crawler_health,
    "pipeline": pipeline_health,
}


def render(board: dashboard.Dashboard) -> str:
    """Deterministic JSON: panels numbered in order, keys sorted."""
    built = board.build()
    for number, panel in enumerate(built.panels or [], start=1):
        panel.id_val = number
    return json.dumps(built, cls=JSONEncoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated_files() -> dict[str, str]:
    """File name -> JSON text of every dashboard, as this code generates them."""
    return {f"{name}.json": render(build()) for name, build in DASHBOARDS.items()}


def write(out_dir: Path = GENERATED) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generated_files().items():
        path = out_dir / name
        path.write_text(text)
        written.append(path)
    return written


def stale(out_dir: Path = GENERATED) -> list[str]:
    """Generated files that are missing or differ from what the code generates now."""
    wanted = generated_files()
    return [name for name, text in wanted.items()
            if not (out_dir / name).is_file() or (out_dir / name).read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="Exit 1 if the committed JSON is stale.")
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale()
        for name in outdated:
            print(f"stale: dashboards/generated/{name} (run python -m dashboards.build)", file=sys.stderr)
        return 1 if outdated else 0
    for path in write():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
