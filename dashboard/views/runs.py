"""Runs: monitor and collector runs (status, duration, rows, errors), quarantine per source, Evidently reports."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from driftscope.dashboard import data, deep_dive, fmt, ui
from driftscope.dashboard import markdown as md

RECENT = timedelta(days=7)
RUN_COLUMNS = {
    "started_at": st.column_config.DatetimeColumn("started", format="YYYY-MM-DD HH:mm:ss"),
    "finished_at": st.column_config.DatetimeColumn("finished", format="YYYY-MM-DD HH:mm:ss"),
    "window_start": st.column_config.DatetimeColumn("window start", format="YYYY-MM-DD HH:mm"),
    "window_end": st.column_config.DatetimeColumn("window end", format="YYYY-MM-DD HH:mm"),
    "duration": st.column_config.TextColumn("duration"),
}


def readable(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs as displayed: the window as a span, durations in ms or s, blanks where nothing was recorded."""
    shown = runs.copy()
    if "window_start" in shown and "window_end" in shown:
        shown.insert(list(shown.columns).index("window_start"), "window",
                     [fmt.span(s, e) for s, e in zip(shown["window_start"], shown["window_end"], strict=True)])
        shown = shown.drop(columns=["window_start", "window_end"])
    if "duration_s" in shown:
        shown["duration_s"] = shown["duration_s"].map(fmt.duration)
        shown = shown.rename(columns={"duration_s": "duration"})
    return ui.blanks(shown)


def kpis(monitor: pd.DataFrame, collector: pd.DataFrame, quarantine: pd.DataFrame) -> None:
    """Counts of runs, failures and quarantined rows in the range."""
    cols = st.columns(5)
    cols[0].metric("Monitor runs", ui.fmt_int(len(monitor)))
    cols[1].metric("Monitor runs failed", ui.fmt_int((monitor["status"] == "failed").sum()))
    cols[2].metric("Median run duration", fmt.duration(monitor["duration_s"].median()) or "-")
    cols[3].metric("Collector runs failed (7 days)", ui.fmt_int((collector["status"] == "failed").sum()))
    cols[4].metric("Quarantined rows (7 days)", ui.fmt_int(quarantine["n_rows"].sum()))


@st.fragment
def monitor_section(ctx: ui.PageState, runs: pd.DataFrame) -> None:
    """Monitor runs with a status filter, and the errors of failed ones (a fragment: filtering reruns it only)."""
    st.subheader("Monitor runs")
    if runs.empty:
        ui.empty("No monitor runs in this range.", "Run `driftscope monitor --config driftscope.yaml` or start the "
                 "scheduler (`driftscope scheduler`).")
        return
    statuses = sorted(runs["status"].unique())
    keep = st.multiselect("Status", statuses, default=statuses, key="runs.status")
    shown = runs[runs["status"].isin(keep)]
    columns = ["run_id", "monitor", "kind", "model", "version", "window_start", "window_end", "status",
               "duration_s", "n_rows", "n_reference", "n_labels", "error"]
    st.dataframe(readable(shown[columns]), hide_index=True, width="stretch", column_config=RUN_COLUMNS)
    failed = runs[runs["status"] == "failed"]
    for row in failed.head(5).itertuples():
        with st.expander(f"Run {row.run_id} failed: {md.text(f'{row.monitor} on {row.model} {row.version}')}"):
            st.code(row.error or "no error recorded", language=None)


def report_section(ctx: ui.PageState, runs: pd.DataFrame) -> None:
    """Evidently's HTML report of one data-drift window, generated here and shown inline."""
    windows = runs[runs["kind"] == "data_drift"].drop_duplicates(["version_id", "window_start", "window_end"])
    if windows.empty:
        st.caption("Reports cover data-drift windows; there is none in this range.")
        return
    labels = [f"{r.model} {r.version} · {fmt.span(r.window_start, r.window_end)}" for r in windows.itertuples()]
    position = st.selectbox("Window", range(len(windows)), format_func=labels.__getitem__, key="runs.report")
    row = windows.iloc[position]
    version = next((v for v in ctx.versions if v.id == int(row["version_id"])), None)
    if version is not None:
        deep_dive.report_section(ctx, version, row["window_start"], row["window_end"], key="runs")


def collector_section(runs: pd.DataFrame, lag: pd.DataFrame) -> None:
    """Collector runs of the last week: rows read = stored + duplicates + conflicts + quarantined."""
    st.subheader("Collector runs (last 7 days)")
    if runs.empty:
        ui.empty("No collector run in the last 7 days.", "Run `driftscope collect --config driftscope.yaml` or start "
                 "the scheduler (`driftscope scheduler`).")
        return
    st.caption("Rows read = stored + duplicates + conflicts + quarantined (a conflict is an id seen before with "
               "other content: the first is kept, the newcomer quarantined). Newest first, at most 200.")
    st.dataframe(readable(runs), hide_index=True, width="stretch", column_config=RUN_COLUMNS)
    if not lag.empty:
        st.caption("Stream lag at the end of each stream source's newest run, per partition (seconds: at most).")
        st.dataframe(lag, hide_index=True, width="stretch", column_config=ui.TIME_COLUMNS)
    for row in runs[runs["error"].notna()].head(5).itertuples():
        with st.expander(f"Collector run {row.run_id} of {md.text(row.source)}: {row.status}"):
            st.code(row.error, language=None, wrap_lines=True)


@st.fragment
def quarantine_section(ctx: ui.PageState, counts: pd.DataFrame) -> None:
    """Quarantined rows per source, and the newest rows of one source with their reasons (a fragment)."""
    st.subheader("Quarantine (last 7 days)")
    if counts.empty:
        st.caption("No row was quarantined in the last 7 days: every collected row matched its schema.")
        return
    st.dataframe(ui.blanks(counts), hide_index=True, width="stretch", column_config=ui.TIME_COLUMNS)
    source = st.selectbox("Rows of source", list(dict.fromkeys(counts["source"])), key="runs.quarantine_source")
    sample = data.quarantine_sample(ctx.store, source=source)
    st.dataframe(ui.blanks(sample), hide_index=True, width="stretch", column_config=ui.TIME_COLUMNS)


def main() -> None:
    """Render the page."""
    ctx = ui.page_state()
    st.title("Runs")
    st.caption(f"Monitor runs whose window ends between {ui.fmt_time(ctx.start)} and {ui.fmt_time(ctx.end)} "
               "(newest first, at most 500); collector runs and quarantine of the last 7 days.")
    only_version = ctx.version is not None and st.toggle(
        f"Only {ctx.version.model} {ctx.version.version}", key="runs.only_version")
    version_id = ctx.version.id if only_version and ctx.version is not None else None
    monitor = data.monitor_runs(ctx.store, start=ctx.start, end=ctx.end, version_id=version_id)
    since = (datetime.now(UTC) - RECENT).replace(minute=0, second=0, microsecond=0)
    collector = data.collector_runs(ctx.store, since=since)
    quarantine = data.quarantine_counts(ctx.store, since=since)
    kpis(monitor, collector, quarantine)
    tabs = st.tabs(["Monitor runs", "Evidently report", "Collector runs", "Quarantine"], key="runs.tab",
                   on_change="rerun")
    sections = (lambda: monitor_section(ctx, monitor), lambda: report_section(ctx, monitor),
                lambda: collector_section(collector, data.stream_lag(ctx.store)),
                lambda: quarantine_section(ctx, quarantine))
    for tab, section in zip(tabs, sections, strict=True):
        if tab.open:
            with tab:
                section()


main()
