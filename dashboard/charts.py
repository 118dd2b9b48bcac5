"""Pure plotly builders for the time-series charts: DataFrame in, Figure out, no Streamlit.

Every x axis is time in UTC over the selected range. A monitor window's point sits at the middle
of the window (a daily window on its own day, not on the next midnight) and its hover names the
window as a span. An alert's windows are shaded red on every time chart. Colours carry meaning on
every page: blue is the current data, grey the reference, red a breach or drift, orange a
concept-drift detector event. Figures stay light for the browser: one trace per series, lines drawn
without markers when a series is long, no per-point text arrays.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import pandas as pd
import plotly.graph_objects as go

from driftscope.dashboard import fmt
from driftscope.metric_direction import higher_is_better

CURRENT = "#1f77b4"
BAND = "rgba(31, 119, 180, 0.18)"
REFERENCE = "#7f7f7f"
ALERT = "#d62828"
HIGHLIGHT = "rgba(214, 40, 40, 0.12)"
GAP = "rgba(127, 127, 127, 0.25)"
EVENT = "#f77f00"
MAX_EVENT_LINES = 100
MARKERS_UP_TO = 90
VERSION_COLOURS = ("#1f77b4", "#9467bd", "#2ca02c", "#8c564b")
PLOT_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


@dataclass(frozen=True)
class Frame:
    """What every time chart shares: the x range and the windows to highlight (an alert's)."""

    start: datetime | None = None
    end: datetime | None = None
    highlight: tuple[tuple[datetime, datetime], ...] = ()
    highlight_label: str = "alert window"


def layout(fig: go.Figure, *, title: str, y_title: str, height: int = 360, x_title: str = "UTC",
           frame: Frame | None = None, shapes: Sequence[dict] = ()) -> go.Figure:
    """The shared look: left-aligned title, legend on top, compact margins, the range and highlighted windows.

    ``shapes`` (lines as plain dicts) and the highlighted windows are set in one layout update:
    ``add_hline``/``add_vline``/``add_vrect`` re-validate every existing shape on each call, which made a
    chart with a few dozen lines cost over a second of server time.
    """
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        height=height,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
        xaxis_title=x_title,
        yaxis_title=y_title,
    )
    shapes = list(shapes)
    if frame is not None:
        shapes += _frame(fig, frame)
    if shapes:
        fig.update_layout(shapes=shapes)
    return fig


def _frame(fig: go.Figure, frame: Frame) -> list[dict]:
    """Set the x range, label the first highlighted span; returns the highlighted spans as shapes."""
    if frame.start is not None and frame.end is not None:
        fig.update_xaxes(range=[frame.start, frame.end], type="date")
    spans = merged(frame.highlight)
    if spans:
        fig.add_annotation(x=spans[0][0], xref="x", y=1, yref="y domain", text=frame.highlight_label,
                           showarrow=False, xanchor="left", yanchor="top", font={"color": ALERT})
    return [{"type": "rect", "xref": "x", "yref": "y domain", "x0": start, "x1": end, "y0": 0, "y1": 1,
             "fillcolor": HIGHLIGHT, "line": {"width": 0}, "layer": "below"} for start, end in spans]


def merged(windows: Sequence[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Windows joined where they touch or overlap (42 consecutive days are one shaded span).

    Examples
    --------
    >>> from datetime import UTC
    >>> day = [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3, 5, 6)]
    >>> [(a.day, b.day) for a, b in merged([(day[0], day[1]), (day[1], day[2]), (day[3], day[4])])]
    [(1, 3), (5, 6)]
    """
    out: list[tuple[datetime, datetime]] = []
    for start, end in sorted(windows):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def window_x(rows: pd.DataFrame) -> pd.Series:
    """The x of each window's point: the middle of ``[window_start, window_end)``."""
    return fmt.midpoints(rows["window_start"], rows["window_end"])


def _spans(rows: pd.DataFrame) -> list[str]:
    return [fmt.span(s, e) for s, e in zip(rows["window_start"], rows["window_end"], strict=True)]


def _mode(n: int) -> str:
    return "lines+markers" if n <= MARKERS_UP_TO else "lines"


def metric_chart(series: pd.DataFrame, events: pd.DataFrame, metric: str, floor: float | None = None,
                 frame: Frame | None = None) -> go.Figure:
    """One metric over time: value with its bootstrap band, the reference value, an alert limit, events.

    ``series`` has the columns of :func:`driftscope.storage.result_series.metric_series`; runs the
    monitor flagged (significantly worse than the reference, in the metric's own direction) are red
    crosses. The reference and ``floor`` (a ``metric_below`` rule's value) are horizontal lines across
    the whole range, so they show even when the range holds a single window.
    """
    rows = series[series["metric"] == metric].sort_values("window_end")
    x = window_x(rows)
    fig = go.Figure()
    if rows["ci_low"].notna().any():
        fig.add_trace(go.Scatter(x=x, y=rows["ci_high"], mode="lines", line={"width": 0}, showlegend=False,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=rows["ci_low"], mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=BAND, name="bootstrap band", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=rows["value"], mode=_mode(len(rows)), name=metric, line={"color": CURRENT},
                             text=_spans(rows), hovertemplate="%{text}: %{y:,.4~g}<extra></extra>"))
    shapes: list[dict] = []
    reference = rows["reference_value"].dropna()
    if not reference.empty:
        shapes += _level(fig, x, rows["reference_value"], "reference", REFERENCE, "dash")
    if floor is not None:
        label = "alert floor" if higher_is_better(metric) else "alert ceiling"
        shapes += _level(fig, x, pd.Series(floor, index=rows.index, dtype=float), label, ALERT, "dot")
    flagged = rows[rows["flagged"].fillna(False).astype(bool)]
    if not flagged.empty:
        word = "significantly lower" if higher_is_better(metric) else "significantly higher"
        fig.add_trace(go.Scatter(x=window_x(flagged), y=flagged["value"], mode="markers",
                                 name=f"{word} than reference (worse)", hoverinfo="skip",
                                 marker={"color": ALERT, "size": 11, "symbol": "x"}))
    shapes += _event_lines(fig, events)
    return layout(fig, title=f"{metric} per window", y_title=metric, frame=frame, shapes=shapes)


def _level(fig: go.Figure, x: pd.Series, y: pd.Series, name: str, colour: str, dash: str) -> list[dict]:
    """A reference-like level: a line over the windows, drawn across the plot when it is constant.

    Returns the shapes to pass to :func:`layout` (the across-the-plot line).
    """
    values = y.dropna().unique()
    if len(values) == 1:
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=f"{name} {fmt.num(values[0])}",
                                 line={"color": colour, "dash": dash}))
        level = float(values[0])
        return [{"type": "line", "xref": "x domain", "yref": "y", "x0": 0, "x1": 1, "y0": level, "y1": level,
                 "line": {"color": colour, "dash": dash, "width": 1.5}}]
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name, line={"color": colour, "dash": dash},
                             hovertemplate=f"{name} %{{y:,.4~g}}<extra></extra>"))
    return []


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


def _event_lines(fig: go.Figure, events: pd.DataFrame) -> list[dict]:
    """A legend entry for concept-drift events; returns their vertical lines as shapes for :func:`layout`."""
    if events.empty:
        return []
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="concept-drift event",
                             line={"color": EVENT, "dash": "dashdot"}))
    return [{"type": "line", "xref": "x", "yref": "y domain", "x0": when, "x1": when, "y0": 0, "y1": 1,
             "line": {"color": EVENT, "width": 1.5, "dash": "dashdot"}}
            for when in events["detected_at"].head(MAX_EVENT_LINES)]


def volume_chart(volume: pd.DataFrame, *, freq: str, labels: dict[int, str] | None = None,
                 frame: Frame | None = None) -> go.Figure:
    """Stored predictions per bucket; one bar series per version when ``labels`` names several.

    Bars span their bucket (a day's bar covers its day); buckets with no prediction are simply empty.
    """
    fig = go.Figure()
    labels = labels or {}
    width = pd.Timedelta(hours=1) if freq == "h" else pd.Timedelta(days=1)
    for i, (version_id, rows) in enumerate(volume.groupby("version_id", sort=True)):
        fig.add_trace(go.Bar(x=rows["bucket"] + width / 2, y=rows["n_rows"], width=width.total_seconds() * 900,
                             name=labels.get(cast(int, version_id), "predictions"),
                             marker_color=VERSION_COLOURS[i % len(VERSION_COLOURS)],
                             hovertemplate="%{y:,.0f}<extra>%{fullData.name}</extra>"))
    fig.update_layout(barmode="group", showlegend=len(labels) > 1, bargap=0.05)
    unit = "hour" if freq == "h" else "day"
    return layout(fig, title=f"Predictions per {unit}", y_title="predictions", height=300, frame=frame)


def drift_share_chart(shares: pd.DataFrame, frame: Frame | None = None) -> go.Figure:
    """Share of drifted features per run, the dataset-drift threshold, and runs judged as dataset drift."""
    rows = shares.sort_values("window_end")
    x = window_x(rows)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=rows["drifted_share"], mode=_mode(len(rows)), name="drifted share",
                             line={"color": CURRENT}, text=_spans(rows),
                             hovertemplate="%{text}: %{y:.0%}<extra></extra>"))
    shapes = _level(fig, x, rows["drift_share"], "dataset-drift threshold", ALERT, "dot") \
        if rows["drift_share"].notna().any() else []
    drifted = rows[rows["dataset_drift"].fillna(False).astype(bool)]
    if not drifted.empty:
        fig.add_trace(go.Scatter(x=window_x(drifted), y=drifted["drifted_share"], mode="markers", hoverinfo="skip",
                                 name="dataset drift", marker={"color": ALERT, "size": 11, "symbol": "x"}))
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return layout(fig, title="Share of drifted features per window", y_title="features drifted", height=300,
                  frame=frame, shapes=shapes)


def lines_by_version(
    frame: pd.DataFrame, *, y: str, title: str, y_title: str, percent: bool = False,
    labels: Sequence[str] | None = None, chart: Frame | None = None,
) -> go.Figure:
    """One line per ``version`` column value over its windows (the compare view).

    Windows where a version had no traffic (``n_rows`` 0, when given) or no value are gaps, not zeros.
    """
    fig = go.Figure()
    for i, version in enumerate(labels or sorted(frame["version"].unique())):
        rows = frame[frame["version"] == version].sort_values("window_end")
        values = rows[y].astype(float)
        if "n_rows" in rows:
            values = values.where(rows["n_rows"].fillna(0) > 0)
        fig.add_trace(go.Scatter(x=window_x(rows), y=values, mode=_mode(len(rows)), name=str(version),
                                 connectgaps=False, line={"color": VERSION_COLOURS[i % len(VERSION_COLOURS)]},
                                 text=_spans(rows), hovertemplate="%{text}: %{y:,.4~g}<extra>%{fullData.name}</extra>"))
    if percent:
        fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return layout(fig, title=title, y_title=y_title, height=320, frame=chart)


def judged_by_p_value(rows: pd.DataFrame) -> pd.Series:
    """Rows whose verdict compares a p-value with a significance level (not a calibrated statistic threshold)."""
    calibrated = rows["threshold_mode"].eq("calibrated") if "threshold_mode" in rows else False
    return rows["p_value"].notna() & ~calibrated


def stat_history_chart(history: pd.DataFrame, frame: Frame | None = None) -> go.Figure:
    """A feature's test result per window against the threshold: the p-value (log axis) when the threshold is a
    significance level, else the statistic (distance tests, and thresholds calibrated on the statistic)."""
    rows = history.sort_values("window_end")
    by_p = bool(judged_by_p_value(rows).any())
    column = "p_value" if by_p else "statistic"
    x = window_x(rows)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=rows[column], mode=_mode(len(rows)), name="p-value" if by_p else "statistic",
                             line={"color": CURRENT}, text=_spans(rows),
                             hovertemplate="%{text}: %{y:.3~g}<extra></extra>"))
    shapes = _level(fig, x, rows["threshold"], "threshold", ALERT, "dot")
    drifted = rows[rows["drifted"].fillna(False).astype(bool)]
    if not drifted.empty:
        fig.add_trace(go.Scatter(x=window_x(drifted), y=drifted[column], mode="markers", name="drift",
                                 hoverinfo="skip", marker={"color": ALERT, "size": 11, "symbol": "x"}))
    if by_p:
        fig.update_yaxes(type="log")
    title = "p-value per window (drift below the threshold)" if by_p else "Statistic per window (drift above)"
    return layout(fig, title=title, y_title="p-value" if by_p else "statistic", height=320, frame=frame,
                  shapes=shapes)


def missing_chart(history: pd.DataFrame, frame: Frame | None = None) -> go.Figure:
    """Share of missing values per window, in the current data and in the reference."""
    rows = history.sort_values("window_end")
    x = window_x(rows)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=rows["missing_share_current"], mode=_mode(len(rows)), name="current",
                             line={"color": CURRENT}, text=_spans(rows),
                             hovertemplate="%{text}: %{y:.1%}<extra></extra>"))
    shapes = _level(fig, x, rows["missing_share_reference"], "reference", REFERENCE, "dash")
    top = pd.concat([rows["missing_share_current"], rows["missing_share_reference"]]).max()
    fig.update_yaxes(tickformat=".1%", range=[0, max(0.05, 1.2 * (0 if pd.isna(top) else float(top)))])
    return layout(fig, title="Missing values per window", y_title="share missing", height=280, frame=frame,
                  shapes=shapes)
