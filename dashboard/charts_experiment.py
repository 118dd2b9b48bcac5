"""Pure plotly builders of the Experiment view: DataFrame in, Figure out, no Streamlit.

The effect is ``treatment - control`` of the primary KPI over all windows so far, drawn at the end
of each window (it is cumulative up to there) with its always-valid confidence sequence as a band;
0 is the line the band must leave for a verdict, and the window in which the verdict was reached
is shaded.
"""

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from driftscope.dashboard.charts import ALERT, BAND, CURRENT, HIGHLIGHT, REFERENCE, Frame, layout


def effect_chart(looks: pd.DataFrame, *, kpi: str, frame: Frame | None = None) -> go.Figure:
    """The effect per look with its confidence sequence band; the deciding window shaded.

    ``looks`` has the columns of :func:`driftscope.storage.experiments.experiment_looks`.
    """
    rows = looks.sort_values("window_end")
    x = rows["window_end"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=rows["high"], mode="lines", line={"width": 0}, showlegend=False,
                             hoverinfo="skip", connectgaps=False))
    fig.add_trace(go.Scatter(x=x, y=rows["low"], mode="lines", line={"width": 0}, fill="tonexty", fillcolor=BAND,
                             name="confidence sequence", hoverinfo="skip", connectgaps=False))
    fig.add_trace(go.Scatter(x=x, y=rows["effect"], mode="lines+markers", name="effect (treatment - control)",
                             line={"color": CURRENT}, hovertemplate="%{x|%Y-%m-%d %H:%M}: %{y:,.4~g}<extra></extra>"))
    fig.add_hline(y=0, line={"color": REFERENCE, "dash": "dot"})
    decided = rows[rows["decided"].astype(bool)]
    if not decided.empty:
        first = decided.iloc[0]
        fig.add_vrect(x0=first["window_start"], x1=first["window_end"], fillcolor=HIGHLIGHT, line_width=0)
        fig.add_trace(go.Scatter(x=[first["window_end"]], y=[first["effect"]], mode="markers",
                                 marker={"color": ALERT, "size": 11, "symbol": "diamond"},
                                 name=f"decided: {first['verdict']}"))
    return layout(fig, title=f"Effect on {kpi} with its confidence sequence (valid at every look)",
                  y_title="treatment - control", frame=frame)


def guardrail_table(looks: pd.DataFrame) -> pd.DataFrame:
    """Each window's own guardrail values per arm and whether it breached: one row per (window, guardrail)."""
    rows = []
    for look in looks.sort_values("window_end", ascending=False).to_dict("records"):
        arms: dict[str, Any] = look["arms"] or {}
        control, treatment = arms.get("control", {}), arms.get("treatment", {})
        for name in guardrail_names(control):
            rows.append({"window_start": look["window_start"], "window_end": look["window_end"], "guardrail": name,
                         "control": control.get(name), "treatment": treatment.get(name),
                         "breached": name in (look["breaches"] or [])})
    return pd.DataFrame(rows, columns=["window_start", "window_end", "guardrail", "control", "treatment", "breached"])


def guardrail_names(figures: dict[str, Any]) -> list[str]:
    """Guardrails in an arm's figures (everything but the primary totals, request counts and unit counts).

    Examples
    --------
    >>> guardrail_names({"n": 1, "total": 1, "total_sq": 1, "requests": 3, "latency_p95": 90.0, "latency_p95_n": 3})
    ['latency_p95']
    """
    fixed = {"n", "total", "total_sq", "requests"}
    return [k for k in figures if k not in fixed and not k.endswith("_n")]


def traffic_split(looks: pd.DataFrame) -> float:
    """The treatment's share of both arms' requests over all windows (NaN without requests)."""
    totals = {arm: sum((a or {}).get(arm, {}).get("requests") or 0 for a in looks["arms"])
              for arm in ("control", "treatment")}
    both = totals["control"] + totals["treatment"]
    return totals["treatment"] / both if both else float("nan")
