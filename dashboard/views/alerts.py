"""Alerts: open, acknowledged and resolved; filter by model and severity; act with a note; delivery log."""

from datetime import timedelta
from typing import Any

import pandas as pd
import streamlit as st

from driftscope.dashboard import actions, data, fmt, state, ui
from driftscope.dashboard import markdown as md

STATUSES = {"Active": "active", "Open": "open", "Acknowledged": "acknowledged", "Resolved": "resolved", "All": None}
SEVERITIES = ("critical", "warning", "info")
ALL = "All"
CONTEXT_DAYS = 7


def filters(ctx: ui.PageState) -> dict[str, Any]:
    """Status, model and severity filters."""
    left, middle, right = st.columns([3, 2, 2])
    status = left.segmented_control("Status", list(STATUSES), default="Active", key="alerts.status") or "Active"
    models = [ALL, *dict.fromkeys(v.model for v in ctx.versions)]
    model = middle.selectbox("Model", models, key="alerts.model")
    severity = right.selectbox("Severity", [ALL, *SEVERITIES], key="alerts.severity")
    return {"status": STATUSES[status], "model": None if model == ALL else model,
            "severity": None if severity == ALL else severity}


def window_link(alert: dict[str, Any]) -> None:
    """A link to the version page opened on the incident (as the alert's e-mail link does)."""
    end = alert["window_end"] if pd.notna(alert["window_end"]) else alert["last_seen"]
    end = pd.Timestamp(end).ceil("D").to_pydatetime()
    start = end - timedelta(days=CONTEXT_DAYS)
    params = {"model": alert["model"], "version": alert["version"], "start": state.format_time(start),
              "end": state.format_time(end), "alert": str(alert["id"])}
    where = md.text(f"{alert['model']} {alert['version']}")
    st.page_link(ui.PAGES["version"], label=f"Open {where} on this incident",
                 icon=":material/open_in_new:", query_params=params)


def details(ctx: ui.PageState, alert: dict[str, Any]) -> None:
    """One alert: what, where, evidence, history, deliveries, and the operator's actions."""
    st.subheader(f"#{alert['id']} · {md.text(alert['title'])}")
    cols = st.columns(4)
    cols[0].metric("Severity", str(alert["severity"]))
    cols[1].metric("Status", str(alert["status"]))
    cols[2].metric("Windows", ui.fmt_int(alert["fire_count"]), help="Breaching windows in this incident")
    cols[3].metric("Data until", fmt.when(alert["data_end"]) or "n/a",
                   help="End of the newest breaching window (data time)")
    where = md.text(f"{alert['model']} {alert['version']}")
    st.caption(f"Rule {md.code(alert['rule'])} ({alert['kind']}) · {where} · data "
               f"{fmt.span(alert['data_start'], alert['data_end'])} · created {fmt.when(alert['first_seen'])}, "
               f"last changed {ui.ago(alert['last_seen'])}")
    window_link(alert)
    actions.alert_actions(ctx, alert)
    history, evidence = st.columns([3, 2])
    history.markdown("**History**")
    history.dataframe(ui.blanks(data.alert_history(ctx.store, alert_id=int(alert["id"]))), hide_index=True,
                      width="stretch", column_config=ui.TIME_COLUMNS)
    evidence.markdown("**Evidence** (what the rule saw)")
    evidence.dataframe(fmt.evidence_rows(alert["evidence"]), hide_index=True, width="stretch")
    st.markdown("**Delivery log**")
    log = data.delivery_log(ctx.store, alert_id=int(alert["id"]))
    if log.empty:
        st.caption("No delivery attempt yet (no channel, or the dispatcher has not run).")
    else:
        st.dataframe(readable_log(log), hide_index=True, width="stretch", column_config=ui.TIME_COLUMNS)


def readable_log(log: pd.DataFrame) -> pd.DataFrame:
    """Delivery attempts with durations in ms or s and blanks for what was not recorded."""
    shown = log.copy()
    for column, scale in (("duration_ms", 1000), ("duration_s", 1)):
        if column in shown:
            shown[column] = (shown[column] / scale).map(fmt.duration)
            shown = shown.rename(columns={column: "duration"})
    return ui.blanks(shown)


def main() -> None:
    """Render the page."""
    ctx = ui.page_state()
    st.title("Alerts")
    ui.flash()
    chosen = filters(ctx)
    frame = data.alerts(ctx.store, **chosen)
    rank = frame["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).fillna(len(SEVERITIES))
    frame = frame.iloc[rank.to_numpy().argsort(kind="stable")]
    if frame.empty:
        ui.empty("No alerts match these filters.",
                 "Alerts come from `alerts.rules` in driftscope.yaml when monitors run; choose status All to see "
                 "resolved ones.")
        return
    st.caption(f"{len(frame)} alert(s): most severe first, then most recently seen.")
    st.dataframe(ui.alerts_table(frame), hide_index=True, width="stretch", column_config=ui.TIME_COLUMNS)
    records = frame.to_dict("records", into=dict)
    labels = {int(r["id"]): f"#{r['id']} {r['severity']} · {r['status']} · {r['title']}" for r in records}
    picked = st.selectbox("Alert", list(labels), format_func=labels.__getitem__, key="alerts.selected")
    details(ctx, next(r for r in records if int(r["id"]) == picked))


main()
