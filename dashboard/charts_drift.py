"""Pure plotly builders for drift views: the features x windows heatmap and reference-vs-current distributions.

The heatmap colours each cell by the drift score of :func:`driftscope.storage.result_series.drift_score`
(1.0 = at the test's threshold), clipped to [0, 2]: green below, yellow at, red above the threshold.
"""

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from driftscope.dashboard import fmt
from driftscope.dashboard.charts import ALERT, CURRENT, REFERENCE, Frame, layout

SCORE_MAX = 2.0
SCORE_SCALE = [[0.0, "#2b9348"], [0.35, "#a7c957"], [0.5, "#ffd000"], [0.75, "#f77f00"], [1.0, "#d62828"]]


def heatmap_grid(matrix: pd.DataFrame) -> tuple[list[str], list[Any], np.ndarray, np.ndarray]:
    """Features (most drifting last, so it is drawn on top), windows, scores and hover details per cell.

    Returns ``(features, windows, z, custom)`` with ``windows`` the window starts, ``z`` of shape
    (features, windows) and ``custom[..., :]`` = method, statistic, p-value, threshold, verdict, span.
    """
    z_frame = matrix.pivot_table(index="feature", columns="window_start", values="score", aggfunc="max")
    order = z_frame.mean(axis=1).sort_values(kind="stable").index
    z_frame = z_frame.loc[order]
    features, windows = [str(f) for f in z_frame.index], list(z_frame.columns)
    keyed = matrix.drop_duplicates(["feature", "window_start"], keep="last").set_index(["feature", "window_start"])
    full = pd.MultiIndex.from_product([z_frame.index, z_frame.columns], names=["feature", "window_start"])
    details = keyed.reindex(full)
    verdict = np.where(details["drifted"].fillna(False).astype(bool), "DRIFT", "no drift")
    spans = [fmt.span(s, e) for s, e in zip(full.get_level_values("window_start"), details["window_end"], strict=True)]
    custom = np.stack([
        details["method"].fillna("-").astype(str).to_numpy(),
        details["statistic"].map(_fmt).to_numpy(),
        details["p_value"].map(fmt.p_value).replace("", "-").to_numpy(),
        details["threshold"].map(_fmt).to_numpy(),
        verdict,
        np.asarray(spans, dtype=object),
    ], axis=-1).reshape(len(features), len(windows), 6)
    return features, windows, z_frame.to_numpy(dtype=float), custom


def _fmt(value: float | None) -> str:
    return fmt.num(value) or "-"


def clicked_cell(point: dict) -> tuple[str, str | None]:
    """The feature and the window start (``YYYY-MM-DDTHH:MM:SSZ``) of a clicked heatmap cell."""
    custom = point.get("customdata") or []
    window = str(custom[6]) if len(custom) > 6 else None
    return str(point["y"]), window


def drift_heatmap(matrix: pd.DataFrame, frame: Frame | None = None) -> go.Figure:
    """Features x windows coloured by drift score; hover shows the window, test, statistic, p-value, verdict.

    Cells sit over their windows (x = the window's middle). Plotly heatmaps cannot be selected, so an
    invisible marker sits on every cell: clicking a cell selects its marker, whose ``y`` is the
    feature and whose last ``customdata`` is the window start (the page opens that feature there).
    """
    features, windows, z, custom = heatmap_grid(matrix)
    width = matrix.groupby("window_start")["window_end"].max().reindex(windows) - pd.Series(windows, index=windows)
    middles = np.asarray([w + d / 2 for w, d in zip(windows, width, strict=True)], dtype=object)
    starts = np.asarray([pd.Timestamp(w).strftime("%Y-%m-%dT%H:%M:%SZ") for w in windows], dtype=object)
    custom = np.concatenate([custom, np.broadcast_to(starts, (len(features), len(windows)))[..., None]], axis=-1)
    fig = go.Figure(go.Heatmap(
        z=np.clip(z, 0, SCORE_MAX), x=middles, y=features, zmin=0, zmax=SCORE_MAX, colorscale=SCORE_SCALE,
        xgap=1, ygap=1, hoverinfo="skip",
        colorbar={"title": {"text": "drift score"}, "tickvals": [0, 1, 2], "ticktext": ["0", "1 = threshold", "≥2"]},
    ))
    cells_x = np.tile(middles, len(features))
    cells_y = np.repeat(np.asarray(features, dtype=object), len(windows))
    scores = np.clip(z, 0, SCORE_MAX).ravel()
    fig.add_trace(go.Scatter(
        x=cells_x, y=cells_y, mode="markers", showlegend=False, customdata=custom.reshape(-1, 7),
        marker={"size": 24, "symbol": "square", "opacity": 0}, text=[f"{v:.2f}" for v in scores],
        hovertemplate=(
            "<b>%{y}</b> · %{customdata[5]}<br>score %{text} · %{customdata[4]}<br>"
            "%{customdata[0]}: statistic %{customdata[1]}, p-value %{customdata[2]}, "
            "threshold %{customdata[3]}<extra></extra>"
        ),
    ))
    fig = layout(fig, title="Data drift by feature and window (click a cell to open that feature at that window)",
                 y_title="", height=140 + 30 * len(features), frame=frame)
    fig.update_layout(hovermode="closest", clickmode="event+select")
    fig.update_shapes(layer="above", fillcolor="rgba(0, 0, 0, 0)", line={"color": ALERT, "width": 2})
    return fig


def distribution_chart(dist: pd.DataFrame, *, feature: str, feature_type: str) -> go.Figure:
    """Reference vs current shares: overlaid histograms (numeric) or grouped bars (categories).

    ``dist`` is :func:`driftscope.storage.drift_history.distribution` output.
    """
    fig = go.Figure()
    numeric = feature_type == "numeric" and dist["left"].notna().any()
    for side, colour in (("reference", REFERENCE), ("current", CURRENT)):
        rows = dist[dist["side"] == side]
        if numeric:
            centres = (rows["left"] + rows["right"]) / 2
            marker = ({"color": "rgba(127, 127, 127, 0.15)", "line": {"color": colour, "width": 2.5}}
                      if side == "reference" else {"color": colour, "opacity": 0.55})
            fig.add_trace(go.Bar(x=centres, y=rows["share"], width=rows["right"] - rows["left"], name=side,
                                 marker=marker, customdata=np.stack([rows["bin"], rows["count"]], axis=-1),
                                 hovertemplate="%{customdata[0]}: %{y:.1%} (%{customdata[1]:,.0f} rows)"))
        else:
            fig.add_trace(go.Bar(x=rows["bin"], y=rows["share"], name=side, marker_color=colour,
                                 customdata=rows["count"], hovertemplate="%{x}: %{y:.1%} (%{customdata:,.0f} rows)"))
    fig.update_layout(barmode="overlay" if numeric else "group", bargap=0.02 if numeric else 0.2)
    fig.update_yaxes(tickformat=".0%")
    kind = "histogram" if numeric else "category shares"
    return layout(fig, title=f"{feature}: reference vs current ({kind})", y_title="share of rows",
                   x_title=feature, height=360)


def range_distribution_chart(dist: pd.DataFrame, quantiles: pd.DataFrame, *, feature: str,
                             feature_type: str) -> go.Figure:
    """The range's shares per bin (numeric, bars spanning their bins) or category, from merged profiles.

    ``dist`` is :func:`driftscope.storage.profile_reads.distribution` output (exact counts); numeric
    charts mark the sketch quantiles in ``quantiles`` (:func:`driftscope.storage.profile_reads.quantiles`)
    as points on top, whose hover states the sketch's rank error.
    """
    fig = go.Figure()
    numeric = feature_type == "numeric" and dist["left"].notna().any()
    if numeric:
        fig.add_trace(go.Bar(x=(dist["left"] + dist["right"]) / 2, y=dist["share"], width=dist["right"] - dist["left"],
                             name="range", marker={"color": CURRENT, "opacity": 0.6},
                             customdata=np.stack([dist["bin"], dist["count"]], axis=-1),
                             hovertemplate="%{customdata[0]}: %{y:.1%} (%{customdata[1]:,.0f} rows)<extra></extra>"))
        if not quantiles.empty:
            top = float(dist["share"].max()) * 1.08 if len(dist) else 1.0
            error = [f"±{e:.2%} rank" if e > 0 else "exact" for e in quantiles["rank_error"]]
            fig.add_trace(go.Scatter(
                x=quantiles["value"], y=[top] * len(quantiles), mode="markers+text", name="quantiles (KLL sketch)",
                text=[f"p{q * 100:g}" for q in quantiles["q"]], textposition="top center",
                marker={"color": REFERENCE, "symbol": "line-ns-open", "size": 14},
                customdata=np.stack([quantiles["q"], error], axis=-1),
                hovertemplate="%{text}: %{x:.4g} (%{customdata[1]})<extra></extra>"))
    else:
        fig.add_trace(go.Bar(x=dist["bin"], y=dist["share"], name="range", marker_color=CURRENT,
                             customdata=dist["count"], hovertemplate="%{x}: %{y:.1%} (%{customdata:,.0f} rows)"
                             "<extra></extra>"))
    fig.update_yaxes(tickformat=".0%")
    kind = "histogram on the reference's bins" if numeric else "category shares"
    fig = layout(fig, title=f"{feature} over the selected range ({kind})", y_title="share of values",
                 x_title=feature, height=360)
    fig.update_layout(bargap=0.02 if numeric else 0.2, hovermode="closest")
    return fig
