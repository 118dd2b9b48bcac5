"""The Serving section of the Model version page: what the version's operational monitor measured per window.

Cards describe one window (the alert's, the one picked, else the newest) against the version's own
recent level (the median of its previous windows, the operational monitor's baseline); charts show
requests, error and timeout rates with their Wilson intervals, exact latency percentiles, and each
outcome KPI (a binary outcome's rate with its Wilson interval, a numeric one's mean with a
bootstrap interval). Alert limits of ``latency_above``, ``error_rate_above`` and ``metric_below``
rules are drawn when the dashboard has the config.
"""

from typing import Any

import pandas as pd
import streamlit as st

from driftscope.dashboard import charts, charts_serving, data, fmt, ui
from driftscope.dashboard.data import VersionInfo

LOWER_IS_BETTER = ("error_rate", "timeout_rate", "model_age_days")


def lower_is_better(metric: str) -> bool:
    """Failures, latency and age are better low; requests and outcome KPIs are read as higher-is-better.

    Examples
    --------
    >>> [lower_is_better(m) for m in ("error_rate", "latency_p95", "outcome:clicked")]
    [True, True, False]
    """
    return metric in LOWER_IS_BETTER or metric.startswith("latency_p")


def delta(metric: str, value: Any, baseline: Any, *, percent: bool = False) -> str | None:
    """Card delta against the recent baseline: ``+1.2 pp vs recent (worse)``; None without a baseline.

    Examples
    --------
    >>> delta("error_rate", 0.03, 0.01, percent=True), delta("latency_p95", 180.0, 200.0)
    ('+2.0 pp vs recent (worse)', '-20 vs recent (better)')
    """
    if fmt.missing(value) or fmt.missing(baseline):
        return None
    change = float(value) - float(baseline)
    if change == 0:
        return "same as recent"
    amount = f"{abs(change) * 100:.1f} pp" if percent else fmt.num(abs(change))
    worse = (change > 0) == lower_is_better(metric)
    return f"{'+' if change > 0 else '-'}{amount} vs recent ({'worse' if worse else 'better'})"


def serving_tab(ctx: ui.PageState, version: VersionInfo) -> None:
    """Cards for the window described, then requests, failures, latency and outcome KPIs over time."""
    series = data.serving_series(ctx.store, version_id=version.id, start=ctx.start, end=ctx.end)
    if series.empty:
        _missing(ctx, version)
        return
    monitors = list(dict.fromkeys(series["monitor"]))
    if len(monitors) > 1:
        chosen = st.selectbox("Operational monitor", monitors, key="version.serving_monitor")
        series = series[series["monitor"] == chosen]
    _cards(ctx, series)
    frame = ui.chart_frame(ctx)
    st.plotly_chart(charts_serving.requests_chart(series, frame), key="version.serving_requests",
                    config=charts.PLOT_CONFIG)
    st.plotly_chart(charts_serving.failure_chart(series, ctx.settings.metric_ceiling(version.model, "error_rate"),
                                                 frame), key="version.serving_failures", config=charts.PLOT_CONFIG)
    latency = charts_serving.latency_metrics(series)
    if latency:
        limits = {m: v for m in latency if (v := ctx.settings.metric_ceiling(version.model, m)) is not None}
        st.plotly_chart(charts_serving.latency_chart(series, limits, frame), key="version.serving_latency",
                        config=charts.PLOT_CONFIG)
    st.caption("A point is one window of the operational monitor (drawn at its middle). Failure rates count every "
               "request, failed ones without a prediction included; shaded: 95% Wilson interval. Latency percentiles "
               "are exact over the window's requests. Dotted red: an alert limit, when configured.")
    _outcomes(ctx, version, series, frame)


def _missing(ctx: ui.PageState, version: VersionInfo) -> None:
    if "operational" not in data.monitor_kinds(ctx.store, model_id=version.model_id):
        ui.empty(f"No `kind: operational` monitor is configured for {version.model}.",
                 "Log `latency` and `status` (and declare `outcomes`) in the version's schema, add an operational "
                 "monitor under `monitors:` and run `driftscope apply` to see requests, errors and latency.")
    else:
        ui.empty(f"The operational monitor has no result for {version.model} {version.version} in this range.",
                 "Widen the time range, or check the Runs page for failed or skipped runs.")


def _cards(ctx: ui.PageState, series: pd.DataFrame) -> None:
    """Requests, error and timeout rates, the highest latency percentile and the model age of one window."""
    focus = ui.focus_row(ctx, charts_serving.rows_of(series, "request_count"))
    if focus is None:
        return
    window = series[series["run_id"] == focus["run_id"]].set_index("metric")

    def figure(metric: str) -> tuple[Any, Any]:
        if metric not in window.index:
            return None, None
        return window.at[metric, "value"], window.at[metric, "reference_value"]

    latency = charts_serving.latency_metrics(series)
    cols = st.columns(5)
    requests, usual = figure("request_count")
    cols[0].metric(f"Requests · {fmt.span(focus['window_start'], focus['window_end'], short=True)}",
                   ui.fmt_int(requests), delta=delta("request_count", requests, usual), delta_color="off",
                   help="Requests in the window, failed ones included; the delta is against the median of the "
                   "version's previous windows")
    for col, metric, label in ((cols[1], "error_rate", "Error rate"), (cols[2], "timeout_rate", "Timeout rate")):
        value, baseline = figure(metric)
        col.metric(label, ui.fmt_pct(value, 2), delta=delta(metric, value, baseline, percent=True),
                   delta_color="inverse")
    if latency:
        value, baseline = figure(latency[-1])
        cols[3].metric(f"Latency {latency[-1].replace('latency_', '')}",
                       "-" if fmt.missing(value) else f"{float(value):,.0f} ms",
                       delta=delta(latency[-1], value, baseline), delta_color="inverse")
    age, _ = figure("model_age_days")
    cols[4].metric("Model age", "-" if fmt.missing(age) else f"{float(age):,.1f} days",
                   help="Window end minus the version's trained_at" if not fmt.missing(age)
                   else "Set trained_at on the version in driftscope.yaml to follow the model's age")


def _outcomes(ctx: ui.PageState, version: VersionInfo, series: pd.DataFrame, frame: charts.Frame) -> None:
    """Each outcome KPI with its interval and the recent baseline; the share of requests with an outcome."""
    outcomes = charts_serving.outcome_metrics(series)
    if not outcomes:
        st.caption("No outcomes declared for this version: add `outcomes:` to its schema to follow business KPIs "
                   "(click-through, conversion, revenue) next to the model.")
        return
    st.subheader("Outcome KPIs")
    metric = st.selectbox("Outcome", [*outcomes, "outcome_share"], key="version.serving_outcome",
                          format_func=lambda m: m.removeprefix("outcome:") if m != "outcome_share"
                          else "share of requests with an outcome")
    floor = ctx.settings.metric_floor(version.model, metric)
    st.plotly_chart(charts_serving.kpi_chart(series, metric, floor, frame), key="version.serving_outcome_chart",
                    config=charts.PLOT_CONFIG)
    st.caption("Shaded: 95% interval (Wilson for a rate, percentile bootstrap for a mean). Dashed grey: the median "
               "of the version's previous windows. Outcomes arrive late: a recent window's figure can still move.")
