"""Small builders for the panels, queries and variables the exposurewatch dashboards are made of.

Every panel gets an explicit grid position, so the generated JSON depends only on this code; datasources are
referenced by the fixed uids that ``dashboards/provisioning/datasources`` gives them.
"""

from __future__ import annotations

import json
from typing import TypeVar

from grafana_foundation_sdk.builders import bargauge, common, dashboard, elasticsearch, prometheus, stat, table
from grafana_foundation_sdk.builders import timeseries as timeseries_builder
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.variants import Dataquery
from grafana_foundation_sdk.models.common import (
    BarGaugeDisplayMode,
    BigValueColorMode,
    BigValueGraphMode,
    GraphDrawStyle,
    LegendDisplayMode,
    LegendPlacement,
    SortOrder,
    StackingMode,
    TooltipDisplayMode,
    VizOrientation,
)
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    DataTransformerConfig,
    DynamicConfigValue,
    GridPos,
    Threshold,
    ThresholdsMode,
    VariableOption,
    VariableRefresh,
    VariableSort,
)
from grafana_foundation_sdk.models.elasticsearch import BucketAggregation, TermsOrder

PROMETHEUS_UID = "exposurewatch-prometheus"
SEARCH_UID = "exposurewatch-search"
PROMETHEUS = DataSourceRef(type_val="prometheus", uid=PROMETHEUS_UID)
SEARCH = DataSourceRef(type_val="elasticsearch", uid=SEARCH_UID)
"""The findings alias (``<prefix>-findings``) in Elasticsearch or OpenSearch."""

ALL = ".*"
"""Value of a variable's "All" option: a regex, as every Prometheus query matches labels with ``=~``."""

ColoredPanel = TypeVar("ColoredPanel", timeseries_builder.Panel, bargauge.Panel)
SEVERITY_COLORS = {"critical": "dark-red", "high": "red", "medium": "orange", "low": "yellow", "info": "blue"}


def at(x: int, y: int, w: int, h: int) -> GridPos:
    """A panel's place on Grafana's 24-column grid."""
    return GridPos(x=x, y=y, w=w, h=h)


# --------------------------------------------------------------------------------------------- queries


def promql(expr: str, legend: str = "", ref: str = "A", instant: bool = False) -> prometheus.Dataquery:
    query = prometheus.Dataquery().expr(expr).ref_id(ref).datasource(PROMETHEUS).legend_format(legend or "__auto")
    return query.instant() if instant else query.range()


def search_counts(query: str, time_field: str, group_by: str | None, ref: str = "A") -> elasticsearch.Dataquery:
    """Documents per time bucket of ``time_field``, one series per value of ``group_by`` (top 10)."""
    aggs: list[Builder[BucketAggregation]] = []
    if group_by is not None:
        aggs.append(terms(group_by, size=10, agg_id="2"))
    aggs.append(
        elasticsearch.DateHistogram().id("3").field(time_field).settings(
            elasticsearch.ElasticsearchDateHistogramSettings().interval("auto").min_doc_count("0").trim_edges("0")
        )
    )
    return (elasticsearch.Dataquery().ref_id(ref).datasource(SEARCH).query(query).time_field(time_field)
            .bucket_aggs(aggs).metrics([elasticsearch.Count().id("1")]))


def terms(field: str, size: int, agg_id: str) -> elasticsearch.Terms:
    return elasticsearch.Terms().id(agg_id).field(field).settings(
        elasticsearch.ElasticsearchTermsSettings().size(str(size)).order(TermsOrder.DESC).order_by("_count").min_doc_count("1")
    )


def search_term_counts(query: str, time_field: str, field: str, size: int, ref: str = "A") -> elasticsearch.Dataquery:
    """Documents per value of ``field`` (the ``size`` most frequent) in the dashboard's time range."""
    return (elasticsearch.Dataquery().ref_id(ref).datasource(SEARCH).query(query).time_field(time_field)
            .bucket_aggs([terms(field, size=size, agg_id="2")]).metrics([elasticsearch.Count().id("1")]))


def search_documents(query: str, time_field: str, size: int, ref: str = "A") -> elasticsearch.Dataquery:
    """The newest ``size`` documents (by ``time_field``) matching a Lucene query."""
    return (elasticsearch.Dataquery().ref_id(ref).datasource(SEARCH).query(query).time_field(time_field)
            .metrics([elasticsearch.RawData().id("1").settings(elasticsearch.ElasticsearchRawDataSettings()
                                                              .size(str(size)))]))


# ------------------------------------------------------------------------------------------- variables


def label_variable(name: str, label: str, metric: str) -> dashboard.QueryVariable:
    """A multi-select of a label's values on ``metric``, whose "All" matches everything."""
    return (dashboard.QueryVariable(name).label(label).datasource(PROMETHEUS)
            .query(f"label_values({metric}, {name})").refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(VariableSort.ALPHABETICAL_ASC).multi(True).include_all(True).all_value(ALL)
            .current(VariableOption(selected=True, text="All", value="$__all")))


# ---------------------------------------------------------------------------------------------- panels


def datasource_of(targets: list[Builder[Dataquery]]) -> DataSourceRef:
    """A panel's datasource: its queries'. Grafana would otherwise pick its default one for the panel."""
    refs = {json.dumps(getattr(t.build(), "datasource", None), cls=JSONEncoder) for t in targets}
    if len(refs) != 1:
        raise ValueError(f"a panel's queries must share one datasource, not {sorted(refs)}")
    ref = getattr(targets[0].build(), "datasource", None)
    assert isinstance(ref, DataSourceRef)
    return ref


def timeseries(title: str, description: str, targets: list[Builder[Dataquery]], unit: str, pos: GridPos,
               bars: bool = False, stacked: bool = False) -> timeseries_builder.Panel:
    panel = (timeseries_builder.Panel().title(title).description(description).targets(targets)
             .datasource(datasource_of(targets)).unit(unit)
             .grid_pos(pos).fill_opacity(20 if not bars else 80).line_width(1).min(0)
             .legend(common.VizLegendOptions().display_mode(LegendDisplayMode.LIST)
                     .placement(LegendPlacement.BOTTOM).show_legend(True))
             .tooltip(common.VizTooltipOptions().mode(TooltipDisplayMode.MULTI)
                      .sort(SortOrder.DESCENDING)))
    if bars:
        panel = panel.draw_style(GraphDrawStyle.BARS)
    if stacked:
        panel = panel.stacking(common.StackingConfig().mode(StackingMode.NORMAL))
    return panel


def stat_panel(title: str, description: str, target: Builder[Dataquery], pos: GridPos, unit: str = "short",
               red_above: float | None = None) -> stat.Panel:
    """A single number; it turns red at ``red_above`` (and stays green below) when given."""
    steps = [Threshold(value=None, color="green")]
    if red_above is not None:
        steps.append(Threshold(value=red_above, color="red"))
    return (stat.Panel().title(title).description(description).with_target(target)
            .datasource(datasource_of([target])).unit(unit).grid_pos(pos)
            .color_mode(BigValueColorMode.BACKGROUND).graph_mode(BigValueGraphMode.AREA)
            .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
            .thresholds(dashboard.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps)))


def bar_gauge(title: str, description: str, target: Builder[Dataquery], pos: GridPos,
              unit: str = "short") -> bargauge.Panel:
    """Horizontal bars, one per series, for rankings (by provider, by outcome)."""
    return (bargauge.Panel().title(title).description(description).with_target(target)
            .datasource(datasource_of([target])).unit(unit).grid_pos(pos)
            .orientation(VizOrientation.HORIZONTAL).display_mode(BarGaugeDisplayMode.GRADIENT).min(0)
            .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
            .thresholds(dashboard.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE)
                        .steps([Threshold(value=None, color="blue")])))


def table_panel(title: str, description: str, target: Builder[Dataquery], pos: GridPos,
                transformations: list[DataTransformerConfig]) -> table.Panel:
    return (table.Panel().title(title).description(description).with_target(target)
            .datasource(datasource_of([target])).grid_pos(pos)
            .transformations(transformations).filterable(True))


def transformation(transform_id: str, options: dict[str, object]) -> DataTransformerConfig:
    return DataTransformerConfig(id_val=transform_id, options=options)


def organize(columns: list[str], renames: dict[str, str]) -> DataTransformerConfig:
    """Keep ``columns`` in this order (others hidden), with friendlier headers."""
    return transformation("organize", {
        "indexByName": {name: i for i, name in enumerate(columns)},
        "excludeByName": {},
        "renameByName": renames,
        "includeByName": {name: True for name in columns},
    })


def colored_severities(panel: ColoredPanel) -> ColoredPanel:
    """Give each severity's series the same color on every panel (critical dark red … info blue)."""
    for severity, color in SEVERITY_COLORS.items():
        panel = panel.override_by_name(severity, [DynamicConfigValue(id_val="color", value={
            "mode": "fixed", "fixedColor": color})])
    return panel
