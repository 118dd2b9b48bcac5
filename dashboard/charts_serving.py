"""Pure plotly builders for the Serving section: requests, failure rates, latency percentiles, outcome KPIs.

Input is the long frame of :func:`driftscope.storage.result_series.metric_series` for operational
monitors (one row per window and metric, see :mod:`driftscope.monitors.operational` for what each
metric means). Points sit at the middle of their window, as on every time chart
(:mod:`driftscope.dashboard.charts`).
"""

import re

import pandas as pd
import plotly.graph_objects as go

from driftscope.dashboard.charts import ALERT, CURRENT, REFERENCE, VERSION_COLOURS, Frame, layout, window_x
from driftscope.dashboard.fmt import span

TIMEOUT = "#f77f00"
LATENCY = re.compile(r"latency_p(\d+(?:\.\d+)?)$")


def rows_of(series: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The windows of one metric, oldest first."""
    return series[series["metric"] == metric].sort_values("window_end")


def latency_metrics(series: pd.DataFrame) -> list[str]:
    """The latency percentile metrics present, by percentile (``latency_p50`` before ``latency_p99.9``).

    Examples
    --------
    >>> latency_metrics(pd.DataFrame({"metric": ["latency_p99.9", "error_rate", "latency_p50", "latency_p95"]}))
    ['latency_p50', 'latency_p95', 'latency_p99.9']
    """
    found = {m: float(match.group(1)) for m in series["metric"].unique() if (match := LATENCY.match(str(m)))}
    return sorted(found, key=found.__getitem__)


def outcome_metrics(series: pd.DataFrame) -> list[str]:
    """The outcome KPIs present (``outcome:<name>``), in stored order."""
    return [str(m) for m in dict.fromkeys(series["metric"]) if str(m).startswith("outcome:")]


def _spans(rows: pd.DataFrame) -> list[str]:
    return [span(s, e) for s, e in zip(rows["window_start"], rows["window_end"], strict=True)]


def requests_chart(series: pd.DataFrame, frame: Frame | None = None) -> go.Figure:
    """Requests per window (failed ones included), bars spanning their window."""
    rows = rows_of(series, "request_count")
    width_ms = (rows["window_end"] - rows["window_start"]).dt.total_seconds() * 900  # 90 % of the window
    fig = go.Figure(go.Bar(x=window_x(rows), y=rows["value"], width=width_ms, marker_color=CURRENT, name="requests",
                           text=_spans(rows), textposition="none",
                           hovertemplate="%{text}: %{y:,.0f} requests<extra></extra>"))
    fig.update_layout(showlegend=False, bargap=0.05)
    return layout(fig, title="Requests per window", y_title="requests", height=300, frame=frame)


def _band_line(fig: go.Figure, rows: pd.DataFrame, name: str, colour: str, fill: str, hover: str) -> None:
    x = window_x(rows)
    if rows["ci_low"].notna().any():
        fig.add_trace(go.Scatter(x=x, y=rows["ci_high"], mode="lines", line={"width": 0}, showlegend=False,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=rows["ci_low"], mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=fill, name=f"{name} 95% interval", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=rows["value"], mode="lines+markers" if len(rows) <= 90 else "lines", name=name,
                             line={"color": colour}, text=_spans(rows),
                             hovertemplate=f"%{{text}}: {name} %{{y:{hover}}}<extra></extra>"))


def failure_chart(series: pd.DataFrame, limit: float | None = None, frame: Frame | None = None) -> go.Figure:
    """Error and timeout rates per window with their Wilson intervals; ``limit``: an ``error_rate_above`` value."""
    fig = go.Figure()
    _band_line(fig, rows_of(series, "error_rate"), "error rate", ALERT, "rgba(214, 40, 40, 0.15)", ".2%")
    _band_line(fig, rows_of(series, "timeout_rate"), "timeout rate", TIMEOUT, "rgba(247, 127, 0, 0.15)", ".2%")
    if limit is not None:
        fig.add_hline(y=limit, line={"color": ALERT, "dash": "dot", "width": 1.5},
                      annotation_text=f"alert above {limit:.2%}", annotation_position="top left")
    fig.update_yaxes(tickformat=".1%", rangemode="tozero")
    return layout(fig, title="Error and timeout rates per window", y_title="share of requests", height=320,
                  frame=frame)


def latency_chart(series: pd.DataFrame, limits: dict[str, float] | None = None,
                  frame: Frame | None = None) -> go.Figure:
    """Exact latency percentiles per window (ms), one line each; ``limits``: metric -> a ``latency_above`` value."""
    fig = go.Figure()
    for i, metric in enumerate(latency_metrics(series)):
        rows = rows_of(series, metric)
        colour = VERSION_COLOURS[i % len(VERSION_COLOURS)]
        name = metric.replace("latency_", "")
        fig.add_trace(go.Scatter(x=window_x(rows), y=rows["value"], mode="lines+markers" if len(rows) <= 90
                                 else "lines", name=name, line={"color": colour}, text=_spans(rows),
                                 hovertemplate=f"%{{text}}: {name} %{{y:,.1f}} ms<extra></extra>"))
        limit = (limits or {}).get(metric)
        if limit is not None:
            fig.add_hline(y=limit, line={"color": ALERT, "dash": "dot", "width": 1.5},
                          annotation_text=f"{name} alert above {limit:,.0f} ms", annotation_position="top left")
    fig.update_yaxes(rangemode="tozero")
    return layout(fig, title="Latency percentiles per window", y_title="milliseconds", height=320, frame=frame)


def kpi_chart(series: pd.DataFrame, metric: str, floor: float | None = None, frame: Frame | None = None) -> go.Figure:
    """An outcome KPI (or the outcome share) per window with its 95% interval and the recent median.

    ``reference_value`` of an operational metric is the median of the version's previous windows;
    ``floor`` is a ``metric_below`` rule's value.
    """
    rows = rows_of(series, metric)
    name = metric.removeprefix("outcome:")
    fig = go.Figure()
    _band_line(fig, rows, name, CURRENT, "rgba(31, 119, 180, 0.18)", ",.4~g")
    if rows["reference_value"].notna().any():
        fig.add_trace(go.Scatter(x=window_x(rows), y=rows["reference_value"], mode="lines", name="recent median",
                                 line={"color": REFERENCE, "dash": "dash"},
                                 hovertemplate="recent median %{y:,.4~g}<extra></extra>"))
    if floor is not None:
        fig.add_hline(y=floor, line={"color": ALERT, "dash": "dot", "width": 1.5},
                      annotation_text=f"alert below {floor:,.4g}", annotation_position="bottom left")
    return layout(fig, title=f"{name} per window", y_title=name, height=320, frame=frame)
