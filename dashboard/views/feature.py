"""Feature: reference vs current distribution, the test and its result over time, missing values, new categories.

The *Whole range* tab (and the page of a feature without drift results, such as a lake-backed
version's) shows the feature over the selected range from its merged profiles (:mod:`..range_view`).

Opens on the feature that drifts most in the selected window (the alert's, the clicked heatmap
cell's, else the newest) unless a feature is chosen; the window is a selector bound to the URL.
"""

import pandas as pd
import streamlit as st

from driftscope.dashboard import charts, charts_drift, data, deep_dive, figures, fmt, range_view, state, ui
from driftscope.dashboard import markdown as md
from driftscope.dashboard.data import VersionInfo


def most_drifted(ctx: ui.PageState, version: VersionInfo) -> str | None:
    """The feature with the highest drift score in the selected window (the newest when none is selected)."""
    matrix = data.drift_matrix(ctx.store, version_id=version.id, start=ctx.start, end=ctx.end)
    focus = ui.focus_row(ctx, matrix)
    if focus is None:
        return None
    rows = matrix[matrix["window_start"] == focus["window_start"]]
    return str(rows.sort_values("score", ascending=False, kind="stable").iloc[0]["feature"])


def pick_feature(ctx: ui.PageState, version: VersionInfo) -> str | None:
    """The feature selector: schema features (sorted), then other columns with drift results (the prediction)."""
    stored = data.drift_features(ctx.store, version_id=version.id)
    names = list(dict.fromkeys([*sorted(version.features), *stored]))
    return state.choose(st, "feature", "Feature", names, default=most_drifted(ctx, version),
                        format_func=lambda n: f"{n} ({_kind(version, n)})",
                        help="Opens on the feature that drifts most in the selected window")


def _kind(version: VersionInfo, name: str) -> str:
    return version.features.get(name, "model output")


def pick_window(ctx: ui.PageState, history: pd.DataFrame) -> pd.Series:
    """The run whose distribution is shown: the selected window (URL ``window``), else the newest."""
    rows = history.sort_values("window_end", ascending=False)
    keys = [state.format_time(pd.Timestamp(s).to_pydatetime()) for s in rows["window_start"]]
    labels = dict(zip(keys, (f"{fmt.span(r.window_start, r.window_end)} ({r.monitor})" for r in rows.itertuples()),
                      strict=True))
    default = ui.focus_row(ctx, history)
    chosen = state.choose(st, "window", "Window", list(labels), format_func=labels.__getitem__,
                          default=state.format_time(pd.Timestamp(default["window_start"]).to_pydatetime())
                          if default is not None else None, help="Newest first; the cards below describe it")
    return rows.iloc[keys.index(chosen)] if chosen in keys else rows.iloc[0]


def result_metrics(row: pd.Series) -> None:
    """The test, statistic, p-value, threshold, verdict and data-quality figures of one run."""
    by_p = bool(charts.judged_by_p_value(row.to_frame().T).iloc[0])
    rule = "drift when the p-value is below the threshold" if by_p else "drift when the statistic reaches the threshold"
    window = fmt.span(row["window_start"], row["window_end"])
    st.markdown(f"Window **{window}** · test **{md.text(row['method'])}** ({rule}) "
                f"· status {md.text(row['status'])} · drift score {ui.fmt_num(row['score'])} (1 = threshold)")
    cols = st.columns(5)
    cols[0].metric("Statistic", ui.fmt_num(row["statistic"]))
    cols[1].metric("p-value", fmt.p_value(row["p_value"]) or "-",
                   help=None if by_p else "For information: the verdict compares the statistic with the threshold")
    cols[2].metric("Threshold", ui.fmt_num(row["threshold"]))
    cols[3].metric("Verdict", "DRIFT" if row["drifted"] else "no drift")
    cols[4].metric("Missing (current)", ui.fmt_pct(row["missing_share_current"]),
                   delta=_missing_delta(row), delta_color="inverse")


def _missing_delta(row: pd.Series) -> str | None:
    if pd.isna(row["missing_share_current"]) or pd.isna(row["missing_share_reference"]):
        return None
    change = row["missing_share_current"] - row["missing_share_reference"]
    return None if abs(change) < 0.0005 else f"{change:+.1%} vs reference"


def distribution_section(ctx: ui.PageState, row: pd.Series, feature: str) -> None:
    """Reference vs current shares of the chosen run."""
    dist = data.distribution(ctx.store, run_id=int(row["run_id"]), feature=feature)
    if dist.empty:
        ui.empty("This run stored no histogram for the feature.", "Re-run the data-drift monitor to record one.")
        return
    kind = str(row["feature_type"])
    figure = figures.cached(ctx.store, ("distribution", int(row["run_id"]), feature, kind),
                            lambda: charts_drift.distribution_chart(dist, feature=feature, feature_type=kind))
    st.plotly_chart(figure, key="feature.distribution", config=charts.PLOT_CONFIG)


def new_categories(history: pd.DataFrame, row: pd.Series) -> None:
    """Categories unseen in the reference: in the chosen run, and per window."""
    if not (history["feature_type"] != "numeric").any():
        return
    st.subheader("New categories")
    found = [str(c) for c in row["new_categories"]]
    if found:
        st.warning(f"{len(found)} categor{'y' if len(found) == 1 else 'ies'} not in the reference: "
                   + ", ".join(md.code(c) for c in found[:30]))
    else:
        st.caption("No category outside the reference in this window.")
    per_window = history[history["n_new_categories"] > 0]
    if not per_window.empty:
        shown = pd.DataFrame({
            "window": [fmt.span(s, e) for s, e in zip(per_window["window_start"], per_window["window_end"],
                                                       strict=True)],
            "new categories": per_window["n_new_categories"],
            "which": per_window["new_categories"].map(lambda v: ", ".join(str(c) for c in v)),
        }).iloc[::-1]
        st.dataframe(shown, hide_index=True, width="stretch")


def over_time_section(ctx: ui.PageState, version: VersionInfo, feature: str, history: pd.DataFrame,
                      row: pd.Series) -> None:
    """The test result per window; missing values per window only when some window has any (one chart less)."""
    frame = ui.chart_frame(ctx)
    key = (version.id, feature, ctx.start, ctx.end, frame)
    figure = figures.cached(ctx.store, ("history", *key), lambda: charts.stat_history_chart(history, frame=frame))
    st.plotly_chart(figure, key="feature.history", config=charts.PLOT_CONFIG)
    shares = history[["missing_share_current", "missing_share_reference"]]
    if shares.fillna(0).to_numpy().any():
        figure = figures.cached(ctx.store, ("missing", *key), lambda: charts.missing_chart(history, frame=frame))
        st.plotly_chart(figure, key="feature.missing", config=charts.PLOT_CONFIG)
    else:
        st.caption("No missing values in any window of this range, nor in the reference.")
    new_categories(history, row)


def main() -> None:
    """Render the page."""
    ctx = ui.page_state()
    version = ui.need_version(ctx)
    if version is None:
        return
    st.title("Feature")
    feature = pick_feature(ctx, version)
    if feature is None:
        ui.empty("This version's schema has no features.", "Check the schema in driftscope.yaml.")
        return
    history = data.feature_history(ctx.store, version_id=version.id, feature=feature, start=ctx.start, end=ctx.end)
    st.caption(f"{md.text(f'{version.model} {version.version}')} · {md.text(feature)} ({_kind(version, feature)}) · "
               f"{fmt.span(ctx.start, ctx.end)}")
    if history.empty:
        profile = range_view.range_profile(ctx, version, feature)
        if profile is not None:
            st.caption("No drift result for this feature in the range; its profiles show the range's distribution.")
            range_view.range_section(ctx, version, feature, _kind(version, feature), profile)
        elif "data_drift" not in data.monitor_kinds(ctx.store, model_id=version.model_id):
            ui.empty(f"No `kind: data_drift` monitor is configured for {md.text(version.model)}.",
                     "Add one under `monitors:` in driftscope.yaml and run `driftscope apply`.")
        else:
            ui.empty(f"No drift result for {md.text(feature)} in this range.",
                     "Widen the time range, or check the Runs page.")
        return
    row = pick_window(ctx, history)
    result_metrics(row)
    over_time, distribution, whole, report = st.tabs(
        ["Over time", "Distribution", "Whole range", "Evidently report"], key="feature.tab", on_change="rerun")
    if over_time.open:
        with over_time:
            over_time_section(ctx, version, feature, history, row)
    if distribution.open:
        with distribution:
            distribution_section(ctx, row, feature)
    if whole.open:
        with whole:
            range_view.range_section(ctx, version, feature, str(row["feature_type"]))
    if report.open:
        with report:
            deep_dive.report_section(ctx, version, row["window_start"], row["window_end"], key="feature")


main()
