"""Feature: reference vs current distribution, the test and its result over time, missing values, new categories."""

import pandas as pd
import streamlit as st

from driftscope.dashboard import charts, charts_drift, data, state, ui
from driftscope.dashboard import markdown as md
from driftscope.dashboard.data import VersionInfo


def pick_feature(ctx: ui.PageState, version: VersionInfo) -> str | None:
    """The feature selector: schema features (sorted), then other columns with drift results (the prediction)."""
    stored = data.drift_features(ctx.store, version_id=version.id)
    names = list(dict.fromkeys([*sorted(version.features), *stored]))
    return state.choose(st, "feature", "Feature", names, format_func=lambda n: f"{n} ({_kind(version, n)})")


def _kind(version: VersionInfo, name: str) -> str:
    return version.features.get(name, "model output")


def pick_window(history: pd.DataFrame) -> pd.Series:
    """The run whose distribution is shown: the newest by default."""
    labels = [f"{ui.fmt_time(r.window_start)} – {ui.fmt_time(r.window_end)} ({r.monitor})"
              for r in history.itertuples()]
    position = st.selectbox("Window", range(len(history) - 1, -1, -1), format_func=labels.__getitem__,
                            key="feature.window", help="Newest first")
    return history.iloc[position]


def result_metrics(row: pd.Series) -> None:
    """The test, statistic, p-value, threshold, verdict and data-quality figures of one run."""
    by_p = pd.notna(row["p_value"])
    rule = "drift when the p-value is below the threshold" if by_p else "drift when the statistic reaches it"
    st.markdown(f"Test **{md.text(row['method'])}** ({rule}) · status {md.text(row['status'])} · drift score "
                f"{ui.fmt_num(row['score'])} (1 = threshold)")
    cols = st.columns(5)
    cols[0].metric("Statistic", ui.fmt_num(row["statistic"]))
    cols[1].metric("p-value", ui.fmt_num(row["p_value"]))
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
    st.plotly_chart(charts_drift.distribution_chart(dist, feature=feature, feature_type=str(row["feature_type"])),
                    key="feature.distribution")


def new_categories(history: pd.DataFrame, row: pd.Series) -> None:
    """Categories unseen in the reference: in the chosen run, and per window."""
    if not (history["feature_type"] != "numeric").any():
        return
    st.subheader("New categories")
    found = list(row["new_categories"])
    if found:
        st.warning(f"{len(found)} categor{'y' if len(found) == 1 else 'ies'} not in the reference: "
                   + ", ".join(md.code(c) for c in found[:30]))
    else:
        st.caption("No category outside the reference in this window.")
    per_window = history[history["n_new_categories"] > 0][["window_end", "n_new_categories", "new_categories"]]
    if not per_window.empty:
        st.dataframe(per_window.sort_values("window_end", ascending=False), hide_index=True, width="stretch",
                     column_config=ui.TIME_COLUMNS)


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
               f"{ui.fmt_time(ctx.start)} – {ui.fmt_time(ctx.end)}")
    if history.empty:
        ui.empty(f"No drift results for {md.text(feature)} in this range.",
                 "Run a `kind: data_drift` monitor for this model (`driftscope monitor`), or widen the range.")
        return
    row = pick_window(history)
    result_metrics(row)
    distribution_section(ctx, row, feature)
    st.subheader("Test result over time")
    st.plotly_chart(charts.stat_history_chart(history), key="feature.history")
    st.plotly_chart(charts.missing_chart(history), key="feature.missing")
    new_categories(history, row)


main()
