"""Compare versions: two versions of one model on the same windows (metrics, drift, volume), the canary view.

When an experiment compares the two versions, its Experiment view (:mod:`driftscope.dashboard.experiment_view`)
comes first.
"""

from functools import partial

import pandas as pd
import streamlit as st

from driftscope.dashboard import charts, data, experiment_view, figures, fmt, state, ui
from driftscope.dashboard import markdown as md
from driftscope.dashboard.data import VersionInfo


def pick_other(ctx: ui.PageState, version: VersionInfo) -> VersionInfo | None:
    """The version compared with the selected one (``compare`` in the URL)."""
    others = [v for v in ctx.model_versions if v.id != version.id]
    if not others:
        ui.empty(f"{version.model} has a single version.",
                 "Add another under its `versions:` in driftscope.yaml (e.g. a shadow or canary) and run "
                 "`driftscope apply`; then compare them here.")
        return None
    labels = {v.version: ui.version_label(v) for v in others}
    chosen = state.choose(st, "compare", f"Compare {version.model} {version.version} with", list(labels),
                          format_func=labels.__getitem__)
    return next(v for v in others if v.version == chosen)


def _stack(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    parts = [frame.assign(version=label) for label, frame in frames.items() if not frame.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def side_by_side(frame: pd.DataFrame, value: str, pair: list[str]) -> pd.DataFrame:
    """Windows both versions were evaluated on, one column per version and the selected one's difference from the
    other (``pair[0] - pair[1]``)."""
    wide = frame.pivot_table(index=["window_start", "window_end"], columns="version", values=value, aggfunc="last")
    if not set(pair) <= set(wide.columns):
        return pd.DataFrame()
    common = wide[pair].dropna().sort_index(ascending=False)
    return common.assign(difference=common[pair[0]] - common[pair[1]]).reset_index()


@st.fragment
def metrics(ctx: ui.PageState, pair: list[VersionInfo], labels: list[str]) -> None:
    """The chosen metric of both versions per window (a fragment: picking a metric reruns this section only)."""
    st.subheader("Performance")
    series = _stack({label: data.metric_series(ctx.store, version_id=v.id, start=ctx.start, end=ctx.end)
                     for label, v in zip(labels, pair, strict=True)})
    if series.empty:
        ui.empty("Neither version has performance results in this range.",
                 "Run a `kind: performance` monitor covering both versions.")
        return
    names = list(dict.fromkeys(series["metric"]))
    metric = st.selectbox("Metric", names, key="compare.metric")
    rows = series[series["metric"] == metric]
    better = "higher" if fmt.delta_color(metric) == "normal" else "lower"
    frame = ui.chart_frame(ctx)
    figure = figures.cached(
        ctx.store, ("compare.metric", *(v.id for v in pair), ctx.start, ctx.end, metric, frame),
        lambda: charts.lines_by_version(rows, y="value", title=f"{metric} per window ({better} is better)",
                                        y_title=metric, labels=labels, chart=frame))
    st.plotly_chart(figure, key="compare.metric_chart", config=charts.PLOT_CONFIG)
    table = side_by_side(rows, "value", labels)
    if table.empty:
        st.caption("The two versions share no evaluated window in this range.")
    else:
        st.dataframe(readable(table, metric, labels), hide_index=True, width="stretch")


def readable(table: pd.DataFrame, metric: str, labels: list[str]) -> pd.DataFrame:
    """The side-by-side table with formatted numbers and how the selected version (``labels[0]``) compares with the
    other: its difference, better or worse in the metric's own direction."""
    verdicts = [fmt.change(metric, a, b) for a, b in zip(table[labels[0]], table[labels[1]], strict=True)]
    return pd.DataFrame({
        "window": [fmt.span(a, b) for a, b in zip(table["window_start"], table["window_end"], strict=True)],
        labels[0]: table[labels[0]].map(fmt.num), labels[1]: table[labels[1]].map(fmt.num),
        f"{labels[0]} vs {labels[1]}": [f"{fmt.num(d)} ({v[1]})" if v else "" for d, v in
                                          zip(table["difference"], verdicts, strict=True)],
    })


def drift(ctx: ui.PageState, pair: list[VersionInfo], labels: list[str]) -> None:
    """Share of drifted features of both versions per window."""
    st.subheader("Data drift")
    shares = _stack({label: data.drift_share(ctx.store, version_id=v.id, start=ctx.start, end=ctx.end)
                     for label, v in zip(labels, pair, strict=True)})
    if shares.empty:
        ui.empty("Neither version has data-drift results in this range.",
                 "Run a `kind: data_drift` monitor covering both versions.")
        return
    frame = ui.chart_frame(ctx)
    figure = figures.cached(
        ctx.store, ("compare.share", *(v.id for v in pair), ctx.start, ctx.end, frame),
        lambda: charts.lines_by_version(shares, y="drifted_share", title="Share of drifted features per window",
                                        y_title="features drifted", percent=True, labels=labels, chart=frame))
    st.plotly_chart(figure, key="compare.share_chart", config=charts.PLOT_CONFIG)
    st.caption("Gaps: windows where a version had no traffic (nothing to judge), not 0 % drifted.")


def volume(ctx: ui.PageState, pair: list[VersionInfo], labels: list[str]) -> None:
    """Daily predictions of both versions (the traffic split of a canary)."""
    st.subheader("Prediction volume")
    frame = data.volume(ctx.store, version_ids=[v.id for v in pair], start=ctx.start, end=ctx.end, freq="D")
    if frame.empty:
        ui.empty("Neither version has predictions in this range.", "Widen the range or check the sources.")
        return
    names = {v.id: label for v, label in zip(pair, labels, strict=True)}
    chart = ui.chart_frame(ctx)
    figure = figures.cached(ctx.store, ("compare.volume", *(v.id for v in pair), ctx.start, ctx.end, chart),
                            lambda: charts.volume_chart(frame, freq="D", labels=names, frame=chart))
    st.plotly_chart(figure, key="compare.volume_chart", config=charts.PLOT_CONFIG)
    totals = frame.groupby("version_id")["n_rows"].sum()
    cols = st.columns(len(pair))
    grand = max(int(totals.sum()), 1)
    for col, v, label in zip(cols, pair, labels, strict=True):
        n = int(totals.get(v.id, 0))
        col.metric(f"{label}: predictions", ui.fmt_int(n), help=f"{n / grand:.1%} of the two versions' traffic")


def main() -> None:
    """Render the page."""
    ctx = ui.page_state()
    version = ui.need_version(ctx)
    if version is None:
        return
    st.title("Compare versions")
    other = pick_other(ctx, version)
    if other is None:
        return
    pair = [version, other]
    labels = [f"{v.version}" for v in pair]
    st.caption(f"{md.text(version.model)}: version {md.text(labels[0])} (selected) vs {md.text(labels[1])} · "
               f"{fmt.span(ctx.start, ctx.end)}")
    names, sections = ["Performance", "Data drift", "Prediction volume"], [metrics, drift, volume]
    running = experiment_view.experiment_for(ctx, pair)
    if running is not None:
        names, sections = ["Experiment", *names], [partial(experiment_view.render, running), *sections]
    tabs = st.tabs(names, key="compare.tab", on_change="rerun")
    for tab, section in zip(tabs, sections, strict=True):
        if tab.open:
            with tab:
                section(ctx, pair, labels)


main()
