"""Overview: every model version's health, volume, label coverage, last run and headline metric."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from driftscope.dashboard import data, fmt, state, ui
from driftscope.dashboard import markdown as md

HEALTH_ORDER = {"critical": 0, "warning": 1, "ok": 2}
HEALTH_COLOURS = {"critical": "#f8d7da", "warning": "#fff3cd", "ok": "#d1e7dd"}
STALE_BEAT = timedelta(minutes=5)
SORTS = {
    "Health (worst first)": (["health_rank", "model", "version"], True),
    "Predictions (most first)": (["predictions"], False),
    "Label coverage (lowest first)": (["label_coverage"], True),
    "Last run (oldest first)": (["last_run_at"], True),
    "Model and version": (["model", "version"], True),
}


def heartbeat(ctx: ui.PageState) -> None:
    """The scheduler's last beat and its next runs (in the demo: that history was replayed, no scheduler needed)."""
    beat = data.heartbeat(ctx.store)
    if beat is None and ctx.settings.demo:
        st.info("Demo store: `driftscope demo` replayed 60 days of history (collection, monitors, alert rules and "
                "notifications ran for every past window), so no scheduler is needed to explore it. A live setup "
                "runs `driftscope scheduler --config driftscope.yaml`.")
        return
    if beat is None:
        st.warning("No scheduler heartbeat yet: monitors run only by hand. Start one with "
                   "`driftscope scheduler --config driftscope.yaml`.")
        return
    age = datetime.now(UTC) - beat.beat_at
    text = f"Scheduler **{md.text(beat.instance)}**: last beat {ui.ago(beat.beat_at)} ({ui.fmt_time(beat.beat_at)})"
    upcoming = sorted(beat.next_runs.items(), key=lambda item: item[1])[:3]
    if upcoming:
        text += " · next: " + ", ".join(f"{md.text(job)} at {ui.fmt_time(pd.Timestamp(when))}"
                                       for job, when in upcoming)
    (st.warning if age > STALE_BEAT else st.caption)(text + ("; is it still running?" if age > STALE_BEAT else ""))


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """The overview rows as displayed (health badge, readable columns)."""
    shown = pd.DataFrame({
        "Health": frame["health"],
        "Model": frame["model"],
        "Version": frame["version"],
        "Open alerts": frame["open_alerts"],
        "Metric": frame["metric"].fillna(""),
        "Value": frame["metric_value"].map(fmt.num),
        "Reference": frame["metric_reference"].map(fmt.num),
        "Δ vs reference": [fmt.signed(m, v, r) or "" if isinstance(m, str) else "" for m, v, r in
                           zip(frame["metric"], frame["metric_value"], frame["metric_reference"], strict=True)],
        "Predictions": frame["predictions"],
        "Label coverage": frame["label_coverage"],
        "Last data": frame["last_data_at"],
        "Last run": frame["last_run_at"],
        "Run status": frame["last_run_status"],
        "Status": frame["status"],
    })
    return shown.reset_index(drop=True)


COLUMNS = {
    "Predictions": st.column_config.NumberColumn(format="localized", help="Stored predictions in the time range"),
    "Label coverage": st.column_config.ProgressColumn(
        min_value=0.0, max_value=1.0, format="percent",
        help="Share of the range's predictions with ground truth (estimated from 36 one-hour slices when the range "
             "holds more than 250,000 predictions)",
    ),
    "Last data": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm", help="Newest hour with predictions"),
    "Last run": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm", help="Newest monitor run (UTC)"),
    "Value": st.column_config.TextColumn(help="Headline metric in the newest performance run"),
    "Reference": st.column_config.TextColumn(help="The same metric on the reference data"),
    "Δ vs reference": st.column_config.TextColumn(help="Direction-aware: for errors and losses a rise is worse"),
}
CHANGE_COLOURS = {"(worse)": "color: #b42318", "(better)": "color: #067647"}


def _change_style(text: object) -> str:
    return next((css for word, css in CHANGE_COLOURS.items() if str(text).endswith(word)), "")


def filtered(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows the filter widgets keep, in the chosen order."""
    left, middle, right = st.columns([2, 2, 2])
    health = left.multiselect("Health", list(HEALTH_ORDER), default=list(HEALTH_ORDER), key="overview.health")
    text = middle.text_input("Filter models", key="overview.filter", placeholder="name contains…")
    sort = right.selectbox("Sort by", list(SORTS), key="overview.sort")
    rows = frame[frame["health"].isin(health)]
    if text.strip():
        rows = rows[rows["model"].str.contains(text.strip(), case=False, regex=False)]
    columns, ascending = SORTS[sort]
    rows = rows.assign(health_rank=rows["health"].map(HEALTH_ORDER))
    return rows.sort_values(columns, ascending=ascending, na_position="first", kind="stable")


def picked_row(event: object) -> int | None:
    """The row position a click selected: a selected row, or the row of a selected cell."""
    selection = getattr(event, "selection", None)
    if selection is None:
        return None
    rows = list(getattr(selection, "rows", []) or [])
    cells = list(getattr(selection, "cells", []) or [])
    if rows:
        return int(rows[0])
    return int(cells[0][0]) if cells else None


def kpis(frame: pd.DataFrame) -> None:
    """Headline counts across every version."""
    cols = st.columns(5)
    cols[0].metric("Model versions", len(frame))
    cols[1].metric("Critical", int((frame["health"] == "critical").sum()))
    cols[2].metric("Warning", int((frame["health"] == "warning").sum()))
    cols[3].metric("Open alerts", ui.fmt_int(frame["open_alerts"].sum()))
    cols[4].metric("Predictions in range", ui.fmt_int(frame["predictions"].sum()))


def storage(ctx: ui.PageState) -> None:
    """The store's size and the days of each version rolled over to the archive."""
    size, spans = data.storage_overview(ctx.store)
    with st.expander(f"Store: {size / 1e6:,.1f} MB · archived days: {int(spans['days'].sum()) if len(spans) else 0}"):
        if spans.empty:
            st.caption("Nothing archived yet (retention rolls raw rows older than `retention.raw` over to Parquet).")
        else:
            st.dataframe(spans, hide_index=True, width="stretch")


def main() -> None:
    """Render the page."""
    ctx = ui.page_state()
    st.title("Overview")
    st.caption(f"All model versions, {ui.fmt_time(ctx.start)} – {ui.fmt_time(ctx.end)}. Health comes from "
               "unresolved alerts; label coverage is the share of the range's predictions with ground truth.")
    heartbeat(ctx)
    storage(ctx)
    frame = data.overview(ctx.store, start=ctx.start, end=ctx.end)
    if frame.empty:
        st.info(ui.ADD_MODEL_HINT)
        return
    kpis(frame)
    rows = filtered(frame)
    if rows.empty:
        ui.empty("No version matches the filters.", "Clear the health or name filter.")
        return
    st.caption("Click anywhere on a row to open that version.")
    styled = (table(rows).style.map(lambda h: f"background-color: {HEALTH_COLOURS.get(h, '')}", subset=["Health"])
              .map(_change_style, subset=["Δ vs reference"]))
    event = st.dataframe(styled, hide_index=True, column_config=COLUMNS, on_select="rerun",
                         selection_mode=["single-row", "single-cell"], key=ui.one_shot_key("overview.table"),
                         width="stretch")
    picked = picked_row(event)
    if picked is not None:
        row = rows.iloc[picked]
        state.put("model", row["model"])
        state.put("version", row["version"])
        ui.consume("overview.table")
        st.switch_page(ui.PAGES["version"], query_params=state.link_params(model=row["model"],
                                                                          version=row["version"]))


main()
