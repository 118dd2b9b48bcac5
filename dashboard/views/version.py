"""Model version: the window in question, the metric over time, drift, serving KPIs, volume, alerts and retraining.

The headline cards describe one window (the alert's, the one picked, else the newest) and say which.
The sections are tabs that run only when open, so a page shows its first chart fast; an alert's link
opens the tab that explains it.
"""

from datetime import timedelta

import pandas as pd
import streamlit as st

from driftscope.dashboard import actions, charts, charts_drift, data, figures, fmt, serving, state, ui
from driftscope.dashboard import markdown as md
from driftscope.dashboard.data import VersionInfo

HOURLY_UP_TO = timedelta(days=3)
TABS = ("Performance", "Data drift", "Serving", "Prediction volume", "Alerts", "Retraining")
TAB_OF_KIND = {  # the tab an alert's link opens, by the alert's kind
    "no_data": "Prediction volume", "feature_drift": "Data drift", "dataset_drift": "Data drift",
    "missing_values": "Data drift", "run_failed": "Alerts", "latency_above": "Serving", "error_rate_above": "Serving",
    "model_age_above": "Serving",
}


def headline(ctx: ui.PageState, version: VersionInfo, series: pd.DataFrame) -> None:
    """Health, alerts, volume, label coverage and the headline metric in the window described."""
    frame = data.overview(ctx.store, start=ctx.start, end=ctx.end)
    row = frame[frame["version_id"] == version.id].iloc[0]
    cols = st.columns(5)
    colour = {"critical": "red", "warning": "orange"}.get(str(row["health"]), "green")
    cols[0].markdown(f"Health\n\n### :{colour}-badge[{str(row['health']).upper()}]",
                     help="From the version's unresolved alerts")
    cols[1].metric("Open alerts", ui.fmt_int(row["open_alerts"]))
    cols[2].metric("Predictions in range", ui.fmt_int(row["predictions"]))
    cols[3].metric("Label coverage", ui.fmt_pct(row["label_coverage"]),
                   help="Share of the range's predictions with ground truth"
                   + ("" if row["label_coverage_exact"] else " (estimated from one-hour slices of the range)"))
    metric = row["metric"] if pd.notna(row["metric"]) else None
    rows = series[series["metric"] == metric] if metric is not None and not series.empty else series.iloc[:0]
    focus = ui.focus_row(ctx, rows.dropna(subset=["value"]))
    if focus is None:
        cols[4].metric("Headline metric", "-", help="No performance result with labels in this range")
        return
    cols[4].metric(f"{metric} · {fmt.span(focus['window_start'], focus['window_end'], short=True)}",
                   ui.fmt_num(focus["value"]),
                   delta=fmt.signed(str(metric), focus["value"], focus["reference_value"], short=True),
                   delta_color=fmt.delta_color(str(metric)),  # type: ignore[arg-type]
                   help=_moved(str(metric), focus))


def _moved(metric: str, focus: pd.Series) -> str:
    moved = fmt.change(metric, focus["value"], focus["reference_value"])
    words = f"{metric} {moved[0]}: {moved[1]}." if moved else "No reference value."
    return f"{words} Window {fmt.span(focus['window_start'], focus['window_end'])}, {fmt.integer(focus['n'])} labels."


def _missing(ctx: ui.PageState, version: VersionInfo, kind: str, what: str) -> None:
    """Empty state: no such monitor configured, or no result of it in this range."""
    if kind not in data.monitor_kinds(ctx.store, model_id=version.model_id):
        ui.empty(f"No `kind: {kind}` monitor is configured for {version.model}.",
                 f"Add one under `monitors:` in driftscope.yaml and run `driftscope apply` to see {what}.")
    else:
        ui.empty(f"The {kind} monitor has no result for {version.model} {version.version} in this range.",
                 "Widen the time range, or check the Runs page for failed or skipped runs.")


@st.fragment
def performance(ctx: ui.PageState, version: VersionInfo, series: pd.DataFrame) -> None:
    """The chosen metric with its band, reference line, alert limit and concept-drift events.

    A fragment: picking another metric reruns this section only, not the sidebar, cards and tabs.
    """
    events = data.detector_events(ctx.store, version_id=version.id, start=ctx.start, end=ctx.end)
    if series.empty:
        _missing(ctx, version, "performance", "metrics over time")
    else:
        metrics = list(dict.fromkeys(series["metric"]))
        metric = st.selectbox("Metric", metrics, key="version.metric") if len(metrics) > 1 else metrics[0]
        floor = ctx.settings.metric_floor(version.model, metric)
        frame = ui.chart_frame(ctx)
        figure = figures.cached(ctx.store, ("metric", version.id, ctx.start, ctx.end, metric, floor, frame),
                                lambda: charts.metric_chart(series, events, metric, floor, frame=frame))
        st.plotly_chart(figure, key="version.metric_chart", config=charts.PLOT_CONFIG)
        st.caption("A point is one monitor window (drawn at its middle). Shaded blue: bootstrap confidence band. "
                   "Dashed grey: the same metric on the reference data. Red crosses: significantly worse than the "
                   "reference. Dotted red: the `metric_below` alert limit, when configured. Orange lines: "
                   "concept-drift detector events. Shaded red: the alert's windows.")
    if not events.empty:
        st.markdown(f"**Concept-drift events** ({len(events)})")
        st.dataframe(events[["detected_at", "detector", "monitor"]], hide_index=True, width="stretch",
                     column_config=ui.TIME_COLUMNS)


def performance_tab(ctx: ui.PageState, version: VersionInfo, series: pd.DataFrame) -> None:
    """Realized metrics, then the label-free estimates of the same version."""
    performance(ctx, version, series)
    estimated(ctx, version)


@st.fragment
def estimated(ctx: ui.PageState, version: VersionInfo) -> None:
    """Estimated performance (CBPE/DLE) beside the realized value, and the estimator's track record.

    A fragment: picking another estimated metric reruns this section only.
    """
    series = data.estimation_series(ctx.store, version_id=version.id, start=ctx.start, end=ctx.end)
    if series.empty:
        return
    st.subheader("Estimated performance")
    metrics = list(dict.fromkeys(series["metric"]))
    metric = st.selectbox("Estimated metric", metrics, key="version.estimated_metric") if len(metrics) > 1 \
        else metrics[0]
    floor = ctx.settings.metric_floor(version.model, metric)
    figure = figures.cached(ctx.store, ("estimated", version.id, ctx.start, ctx.end, metric, floor),
                            lambda: charts.estimated_chart(series, metric, floor))
    st.plotly_chart(figure, key="version.estimated_chart", config=charts.PLOT_CONFIG)
    st.caption("Dashed: the estimate from the model's scores (CBPE) or a loss model (DLE), shaded its band; "
               "solid: the realized value once the window has its labels. Red circles: estimate unreliable "
               "(concept drift or poor reference calibration).")
    record = data.track_record(ctx.store, version_id=version.id)
    st.markdown("**Estimator track record** (realized windows)")
    st.dataframe(record[["monitor", "metric", "n_windows", "n_realized", "mae", "inside_band"]], hide_index=True,
                 width="stretch")


def volume(ctx: ui.PageState, version: VersionInfo) -> None:
    """Predictions per hour (short ranges) or per day; an alert's gap is shaded."""
    freq = "h" if ctx.end - ctx.start <= HOURLY_UP_TO else "D"
    frame = data.volume(ctx.store, version_ids=[version.id], start=ctx.start, end=ctx.end, freq=freq)
    if frame.empty:
        ui.empty("No predictions stored in this range.",
                 "Check the version's source with `driftscope collect --config driftscope.yaml`, or widen the range.")
        return
    chart = ui.chart_frame(ctx)
    figure = figures.cached(ctx.store, ("volume", version.id, ctx.start, ctx.end, freq, chart),
                            lambda: charts.volume_chart(frame, freq=freq, frame=chart))
    st.plotly_chart(figure, key="version.volume_chart", config=charts.PLOT_CONFIG)


def drift(ctx: ui.PageState, version: VersionInfo) -> None:
    """The features x windows heatmap (a click opens that feature at that window) and the dataset drift share."""
    matrix = data.drift_matrix(ctx.store, version_id=version.id, start=ctx.start, end=ctx.end)
    if matrix.empty:
        _missing(ctx, version, "data_drift", "which features drift")
        return
    frame = ui.chart_frame(ctx)
    heatmap = figures.cached(ctx.store, ("heatmap", version.id, ctx.start, ctx.end, frame),
                             lambda: charts_drift.drift_heatmap(matrix, frame=frame))
    event = st.plotly_chart(heatmap, on_select="rerun",
                            selection_mode="points", key=ui.one_shot_key("version.heatmap"),
                            config=charts.PLOT_CONFIG)
    points = event.selection.points if event is not None else []
    if points:
        feature, window = charts_drift.clicked_cell(points[0])
        open_feature(feature, window)
    st.caption("Colour: drift score, 1 = the test's threshold (p-value tests: log p / log threshold; distances: "
               "statistic / threshold). Click a cell to open that feature at that window.")
    shares = data.drift_share(ctx.store, version_id=version.id, start=ctx.start, end=ctx.end)
    if not shares.empty and shares["drifted_share"].notna().any():
        figure = figures.cached(ctx.store, ("share", version.id, ctx.start, ctx.end, frame),
                                lambda: charts.drift_share_chart(shares, frame=frame))
        st.plotly_chart(figure, key="version.share_chart", config=charts.PLOT_CONFIG)


def open_feature(feature: str, window: str | None) -> None:
    """Go to the Feature page at ``feature`` and the window starting at ``window``."""
    state.put("feature", feature)
    state.put("window", window)
    ui.consume("version.heatmap")
    st.switch_page(ui.PAGES["feature"], query_params=state.link_params(feature=feature, window=window))


def alerts(ctx: ui.PageState, version: VersionInfo) -> None:
    """Active alerts of the version, and the alert the link opened even when resolved."""
    frame = data.alerts(ctx.store, status="active", version_id=version.id)
    if ctx.incident is not None and ctx.incident.alert_id not in set(frame["id"]):
        linked = data.alerts(ctx.store, status=None, version_id=version.id)
        frame = pd.concat([linked[linked["id"] == ctx.incident.alert_id], frame], ignore_index=True)
    if frame.empty:
        st.caption("No open alerts for this version.")
        return
    st.dataframe(ui.alerts_table(frame), hide_index=True, width="stretch", column_config=ui.TIME_COLUMNS)
    st.page_link(ui.PAGES["alerts"], label="Acknowledge or resolve on the Alerts page", icon=":material/arrow_forward:",
                 query_params=state.link_params())


def incident_banner(ctx: ui.PageState) -> None:
    """What the alert link is about, in one box: the alert, its windows, its status."""
    incident = ctx.incident
    if incident is None:
        return
    spans = fmt.span(*incident.windows[0]) if incident.windows else "no window"
    if len(incident.windows) > 1:
        spans += f" to {fmt.span(*incident.windows[-1])} ({len(incident.windows)} windows)"
    status = (f"resolved {fmt.when(incident.resolved_at)}" if incident.status == "resolved" else incident.status)
    box = st.warning if incident.status != "resolved" else st.info
    box(f"**Alert #{incident.alert_id}** · {incident.severity} · {status} · rule `{incident.rule}` "
        f"({incident.kind}): {incident.title}  \nWindows: {spans}, shaded red on the charts.")


def main() -> None:
    """Render the page."""
    ctx = ui.page_state()
    version = ui.need_version(ctx)
    if version is None:
        return
    st.title(f"{md.text(version.model)} · version {md.text(version.version)}")
    st.caption(f"{version.task.replace('_', ' ')} · {version.status} · {fmt.span(ctx.start, ctx.end)}")
    incident_banner(ctx)
    series = data.metric_series(ctx.store, version_id=version.id, start=ctx.start, end=ctx.end)
    headline(ctx, version, series)
    default = TAB_OF_KIND.get(ctx.incident.kind, TABS[0]) if ctx.incident is not None else TABS[0]
    tabs = dict(zip(TABS, st.tabs(TABS, default=default, key="version.tab", on_change="rerun"), strict=True))
    sections = {"Performance": lambda: performance_tab(ctx, version, series),
                "Data drift": lambda: drift(ctx, version), "Serving": lambda: serving.serving_tab(ctx, version),
                "Prediction volume": lambda: volume(ctx, version), "Alerts": lambda: alerts(ctx, version),
                "Retraining": lambda: actions.retraining(ctx, version)}
    for name, tab in tabs.items():
        if tab.open:
            with tab:
                sections[name]()


main()
