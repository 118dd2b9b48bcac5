"""Model version: the metric over time, volume, the drift heatmap and share, events, alerts, retraining."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from driftscope.dashboard import actions, charts, charts_drift, data, state, ui
from driftscope.dashboard import markdown as md
from driftscope.dashboard.data import VersionInfo

HOURLY_UP_TO = timedelta(days=3)


def headline(ctx: ui.PageState, version: VersionInfo) -> None:
    """Health, alerts, volume, label coverage and the headline metric of the version."""
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
    if pd.notna(row["metric"]):
        delta = None if pd.isna(row["metric_delta"]) else f"{row['metric_delta']:+.3f} vs reference"
        cols[4].metric(f"{row['metric']} (latest)", ui.fmt_num(row["metric_value"]), delta=delta)
    else:
        cols[4].metric("Headline metric", "-", help="No performance run yet")


def performance(ctx: ui.PageState, version: VersionInfo) -> None:
    """The chosen metric with its band, reference line and concept-drift events."""
    st.subheader("Performance")
    series = data.metric_series(ctx.store, version_id=version.id, start=ctx.start, end=ctx.end)
    events = data.detector_events(ctx.store, version_id=version.id, start=ctx.start, end=ctx.end)
    if series.empty:
        ui.empty("No performance results in this range.",
                 "Add a `kind: performance` monitor for this model (it needs ground-truth labels) and run "
                 "`driftscope monitor`, or widen the time range.")
    else:
        metrics = list(dict.fromkeys(series["metric"]))
        metric = st.selectbox("Metric", metrics, key="version.metric") if len(metrics) > 1 else metrics[0]
        floor = ctx.settings.metric_floor(version.model, metric)
        st.plotly_chart(charts.metric_chart(series, events, metric, floor), key="version.metric_chart")
        st.caption("Shaded: bootstrap confidence band. Dashed grey: the same metric on the reference data. "
                   "Red crosses: a significant drop from the reference. Dotted red: the `metric_below` alert "
                   "floor, when configured. Orange lines: concept-drift detector events.")
    if not events.empty:
        st.markdown(f"**Concept-drift events** ({len(events)})")
        st.dataframe(events[["detected_at", "detector", "monitor"]], hide_index=True, width="stretch",
                     column_config=ui.TIME_COLUMNS)


def estimated(ctx: ui.PageState, version: VersionInfo) -> None:
    """Estimated performance (CBPE/DLE) beside the realized value, and the estimator's track record."""
    series = data.estimation_series(ctx.store, version_id=version.id, start=ctx.start, end=ctx.end)
    if series.empty:
        return
    st.subheader("Estimated performance")
    metrics = list(dict.fromkeys(series["metric"]))
    metric = st.selectbox("Estimated metric", metrics, key="version.estimated_metric") if len(metrics) > 1 \
        else metrics[0]
    floor = ctx.settings.metric_floor(version.model, metric)
    st.plotly_chart(charts.estimated_chart(series, metric, floor), key="version.estimated_chart")
    st.caption("Dashed: the estimate from the model's scores (CBPE) or a loss model (DLE), shaded its band; "
               "solid: the realized value once the window has its labels. Red circles: estimate unreliable "
               "(concept drift or poor reference calibration).")
    record = data.track_record(ctx.store, version_id=version.id)
    st.markdown("**Estimator track record** (realized windows)")
    st.dataframe(record[["monitor", "metric", "n_windows", "n_realized", "mae", "inside_band"]], hide_index=True,
                 width="stretch")


def volume(ctx: ui.PageState, version: VersionInfo) -> None:
    """Predictions per hour (short ranges) or per day."""
    freq = "h" if ctx.end - ctx.start <= HOURLY_UP_TO else "D"
    frame = data.volume(ctx.store, version_ids=[version.id], start=ctx.start, end=ctx.end, freq=freq)
    if frame.empty:
        ui.empty("No predictions stored in this range.",
                 "Check the version's source with `driftscope collect --config driftscope.yaml`, or widen the range.")
        return
    st.plotly_chart(charts.volume_chart(frame, freq=freq), key="version.volume_chart")


def drift(ctx: ui.PageState, version: VersionInfo) -> None:
    """The features x windows heatmap (a click opens the feature) and the dataset drift share."""
    st.subheader("Data drift")
    matrix = data.drift_matrix(ctx.store, version_id=version.id, start=ctx.start, end=ctx.end)
    if matrix.empty:
        ui.empty("No data-drift results in this range.",
                 "Add a `kind: data_drift` monitor for this model and run `driftscope monitor`, or widen the range.")
        return
    event = st.plotly_chart(charts_drift.drift_heatmap(matrix), on_select="rerun", selection_mode="points",
                            key=ui.one_shot_key("version.heatmap"))
    points = event.selection.points if event is not None else []
    features = list(matrix.groupby("feature")["score"].max().sort_values(ascending=False).index)
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.selectbox("Open a feature (most drifting first)", features, key="version.open_feature")
    if points or right.button("Open feature", key="version.open"):
        feature = str(points[0]["y"]) if points else chosen
        state.put("feature", feature)
        ui.consume("version.heatmap")
        st.switch_page(ui.PAGES["feature"], query_params=state.link_params(feature=feature))
    st.caption("Colour: drift score, 1 = the test's threshold (p-value tests: log p / log threshold; "
               "distances: statistic / threshold). Red cells drifted.")
    shares = data.drift_share(ctx.store, version_id=version.id, start=ctx.start, end=ctx.end)
    if not shares.empty and shares["drifted_share"].notna().any():
        st.plotly_chart(charts.drift_share_chart(shares), key="version.share_chart")


def alerts(ctx: ui.PageState, version: VersionInfo) -> None:
    """Active alerts of the version."""
    st.subheader("Open alerts")
    frame = data.alerts(ctx.store, status="active", version_id=version.id)
    if frame.empty:
        st.caption("No open alerts for this version.")
        return
    st.dataframe(ui.alerts_table(frame), hide_index=True, width="stretch", column_config=ui.TIME_COLUMNS)
    st.page_link(ui.PAGES["alerts"], label="Acknowledge or resolve on the Alerts page", icon=":material/arrow_forward:",
                 query_params=state.link_params())


def main() -> None:
    """Render the page."""
    ctx = ui.page_state()
    version = ui.need_version(ctx)
    if version is None:
        return
    st.title(f"{md.text(version.model)} · version {md.text(version.version)}")
    st.caption(f"{version.task.replace('_', ' ')} · {version.status} · "
               f"{ui.fmt_time(ctx.start)} – {ui.fmt_time(ctx.end)}")
    headline(ctx, version)
    performance(ctx, version)
    estimated(ctx, version)
    st.subheader("Prediction volume")
    volume(ctx, version)
    drift(ctx, version)
    alerts(ctx, version)
    st.subheader("Retraining")
    actions.retraining(ctx, version)


main()
