"""Pure plotly builders for the time-series charts: DataFrame in, Figure out, no Streamlit.

Every x axis is time in UTC (the end of a monitor window, or the start of a volume bucket). Colours
carry meaning on every page: blue is the current data, grey the reference, red a breach or drift,
orange a concept-drift detector event.
"""

from collections.abc import Sequence
from typing import cast

import pandas as pd
import plotly.graph_objects as go

CURRENT = "#1f77b4"
BAND = "rgba(31, 119, 180, 0.18)"
REFERENCE = "#7f7f7f"
ALERT = "#d62828"
EVENT = "#f77f00"
MAX_EVENT_LINES = 100
VERSION_COLOURS = ("#1f77b4", "#9467bd", "#2ca02c", "#8c564b")


def layout(fig: go.Figure, *, title: str, y_title: str, height: int = 360, x_title: str = "UTC") -> go.Figure:
    """The shared look: left-aligned title, legend on top, compact margins, one hover label per x."""
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        height=height,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
        xaxis_title=x_title,
        yaxis_title=y_title,
    )
    return fig


def metric_chart(series: pd.DataFrame, events: pd.DataFrame, metric: str, floor: float | None = None) -> go.Figure:
    """One metric over time: value with its bootstrap band, the reference value, an alert floor, events.

    ``series`` has the columns of :func:`driftscope.storage.result_series.metric_series`; runs flagged by the
    monitor (a significant drop from the reference) are red crosses. ``floor`` is a ``metric_below``
    rule's value; ``events`` (:func:`driftscope.storage.result_series.detector_events`) are orange lines.
    """
    rows = series[series["metric"] == metric].sort_values("window_end")
    x = rows["window_end"]
    fig = go.Figure()
    if rows["ci_low"].notna().any():
        fig.add_trace(go.Scatter(x=x, y=rows["ci_high"], mode="lines", line={"width": 0}, showlegend=False,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=rows["ci_low"], mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=BAND, name="bootstrap band", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=rows["value"], mode="lines+markers", name=metric, line={"color": CURRENT},
                             customdata=rows[["p_value", "n"]].to_numpy(),
                             hovertemplate="%{y:.4g} (drop p-value %{customdata[0]:.3g}, %{customdata[1]} labels)"))
    if rows["reference_value"].notna().any():
        fig.add_trace(go.Scatter(x=x, y=rows["reference_value"], mode="lines", name="reference",
                                 line={"color": REFERENCE, "dash": "dash"}))
    if floor is not None and not rows.empty:
        fig.add_trace(go.Scatter(x=[x.iloc[0], x.iloc[-1]], y=[floor, floor], mode="lines", name="alert floor",
                                 line={"color": ALERT, "dash": "dot"}))
    flagged = rows[rows["flagged"].astype(bool)]
    if not flagged.empty:
        fig.add_trace(go.Scatter(x=flagged["window_end"], y=flagged["value"], mode="markers",
                                 name="significant drop", marker={"color": ALERT, "size": 11, "symbol": "x"}))
    _event_lines(fig, events)
    return layout(fig, title=f"{metric} per window", y_title=metric)


def estimated_chart(series: pd.DataFrame, metric: str, floor: float | None = None) -> go.Figure:
    """An estimated metric over time: the estimate dashed with its band, the realized value solid.

    ``series`` has the columns of :func:`driftscope.storage.estimates.estimation_series`. Windows
    whose estimate is flagged unreliable (concept drift, poor reference calibration) are marked
    with red open circles; ``floor`` is a ``metric_below`` rule's value.
    """
    rows = series[series["metric"] == metric].sort_values("window_end")
    x = rows["window_end"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=rows["ci_high"], mode="lines", line={"width": 0}, showlegend=False,
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=rows["ci_low"], mode="lines", line={"width": 0}, fill="tonexty",
                             fillcolor=BAND, name="estimate band", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=rows["value"], mode="lines+markers", name=f"{metric} estimated",
                             line={"color": CURRENT, "dash": "dash"}, customdata=rows[["state", "n_labels"]].to_numpy(),
                             hovertemplate="estimate %{y:.4g} (%{customdata[0]}, %{customdata[1]} labels)"))
    realized = rows[rows["realized_value"].notna()]
    fig.add_trace(go.Scatter(x=realized["window_end"], y=realized["realized_value"], mode="lines+markers",
                             name=f"{metric} realized", line={"color": CURRENT}, hovertemplate="realized %{y:.4g}"))
    unreliable = rows[rows["unreliable"].astype(bool)]
    if not unreliable.empty:
        fig.add_trace(go.Scatter(x=unreliable["window_end"], y=unreliable["value"], mode="markers",
                                 name="estimate unreliable", marker={"color": ALERT, "symbol": "circle-open",
                                                                     "size": 14}))
    if floor is not None and not rows.empty:
        fig.add_trace(go.Scatter(x=[x.iloc[0], x.iloc[-1]], y=[floor, floor], mode="lines", name="alert floor",
                                 line={"color": ALERT, "dash": "dot"}))
    return layout(fig, title=f"{metric}: estimated (dashed) and realized (solid)", y_title=metric)


def _event_lines(fig: go.Figure, events: pd.DataFrame) -> None:
    if events.empty:
        return
    for when in events["detected_at"].head(MAX_EVENT_LINES):
        fig.add_shape(type="line", xref="x", yref="paper", x0=when, x1=when, y0=0, y1=1,
                      line={"color": EVENT, "width": 1.5, "dash": "dashdot"})
    labels = events["detector"].astype(str).head(MAX_EVENT_LINES)
    fig.add_trace(go.Scatter(x=events["detected_at"].head(MAX_EVENT_LINES), y=[None] * len(labels),
                             mode="markers", name="concept-drift event", marker={"color": EVENT, "symbol": "line-ns"},
                             text=labels, hoverinfo="text"))


def volume_chart(volume: pd.DataFrame, *, freq: str, labels: dict[int, str] | None = None) -> go.Figure:
    """Stored predictions per bucket; one bar series per version when ``labels`` names several."""
    fig = go.Figure()
    labels = labels or {}
    for i, (version_id, rows) in enumerate(volume.groupby("version_id", sort=True)):
        fig.add_trace(go.Bar(x=rows["bucket"], y=rows["n_rows"], name=labels.get(cast(int, version_id), "predictions"),
                             marker_color=VERSION_COLOURS[i % len(VERSION_COLOURS)]))
    fig.update_layout(barmode="group", showlegend=len(labels) > 1)
    unit = "hour" if freq == "h" else "day"
    return layout(fig, title=f"Predictions per {unit}", y_title="predictions", height=300)


def drift_share_chart(shares: pd.DataFrame) -> go.Figure:
    """Share of drifted features per run, the dataset-drift threshold, and runs judged as dataset drift."""
    rows = shares.sort_values("window_end")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=rows["window_end"], y=rows["drifted_share"], mode="lines+markers",
                             name="drifted share", line={"color": CURRENT}))
    if rows["drift_share"].notna().any():
        fig.add_trace(go.Scatter(x=rows["window_end"], y=rows["drift_share"], mode="lines",
                                 name="dataset-drift threshold", line={"color": ALERT, "dash": "dot"}))
    drifted = rows[rows["dataset_drift"].fillna(False).astype(bool)]
    if not drifted.empty:
        fig.add_trace(go.Scatter(x=drifted["window_end"], y=drifted["drifted_share"], mode="markers",
                                 name="dataset drift", marker={"color": ALERT, "size": 11, "symbol": "x"}))
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return layout(fig, title="Share of drifted features per window", y_title="features drifted", height=300)


def lines_by_version(
    frame: pd.DataFrame, *, y: str, title: str, y_title: str, percent: bool = False,
    labels: Sequence[str] | None = None,
) -> go.Figure:
    """One line per ``version`` column value over ``window_end`` (the compare view)."""
    fig = go.Figure()
    for i, version in enumerate(labels or sorted(frame["version"].unique())):
        rows = frame[frame["version"] == version].sort_values("window_end")
        fig.add_trace(go.Scatter(x=rows["window_end"], y=rows[y], mode="lines+markers", name=str(version),
                                 line={"color": VERSION_COLOURS[i % len(VERSION_COLOURS)]}))
    if percent:
        fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return layout(fig, title=title, y_title=y_title, height=320)


def stat_history_chart(history: pd.DataFrame) -> go.Figure:
    """A feature's test result per window against the threshold: p-value (log axis) or distance."""
    rows = history.sort_values("window_end")
    by_p = rows["p_value"].notna().any()
    column = "p_value" if by_p else "statistic"
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=rows["window_end"], y=rows[column], mode="lines+markers",
                             name="p-value" if by_p else "statistic", line={"color": CURRENT},
                             text=rows["method"], hovertemplate="%{y:.4g} (%{text})"))
    fig.add_trace(go.Scatter(x=rows["window_end"], y=rows["threshold"], mode="lines", name="threshold",
                             line={"color": ALERT, "dash": "dot"}))
    drifted = rows[rows["drifted"].astype(bool)]
    if not drifted.empty:
        fig.add_trace(go.Scatter(x=drifted["window_end"], y=drifted[column], mode="markers", name="drift",
                                 marker={"color": ALERT, "size": 11, "symbol": "x"}))
    if by_p:
        fig.update_yaxes(type="log")
    title = "p-value per window (drift below the threshold)" if by_p else "Statistic per window (drift above)"
    return layout(fig, title=title, y_title="p-value" if by_p else "statistic", height=320)


def missing_chart(history: pd.DataFrame) -> go.Figure:
    """Share of missing values per window, in the current data and in the reference."""
    rows = history.sort_values("window_end")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=rows["window_end"], y=rows["missing_share_current"], mode="lines+markers",
                             name="current", line={"color": CURRENT}))
    fig.add_trace(go.Scatter(x=rows["window_end"], y=rows["missing_share_reference"], mode="lines",
                             name="reference", line={"color": REFERENCE, "dash": "dash"}))
    top = pd.concat([rows["missing_share_current"], rows["missing_share_reference"]]).max()
    fig.update_yaxes(tickformat=".1%", range=[0, max(0.05, 1.2 * (0 if pd.isna(top) else float(top)))])
    return layout(fig, title="Missing values per window", y_title="share missing", height=280)
