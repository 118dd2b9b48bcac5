"""Operator actions as widgets: acknowledge or resolve an alert, request retraining.

Viewers see the controls disabled with the reason; :mod:`driftscope.dashboard.data` checks the role again
before writing. Alert actions take an optional note; retraining needs a reason and a confirmation.
"""

from typing import Any

import streamlit as st

from driftscope.dashboard import data, ui
from driftscope.dashboard import markdown as md
from driftscope.dashboard.data import VersionInfo

REQUEST_COLUMNS = ["id", "status", "trigger", "requested_by", "reason", "created_at", "updated_at", "note"]


def operator_only(ctx: ui.PageState) -> bool:
    """True for operators; for viewers, explain why the controls are disabled."""
    if not ctx.user.is_operator:
        st.caption(f"Signed in as {md.text(ctx.user.name)} (viewer): only operators can act here.")
    return ctx.user.is_operator


def alert_actions(ctx: ui.PageState, alert: dict[str, Any]) -> None:
    """Acknowledge (open alerts) or resolve (open or acknowledged alerts) with an optional note."""
    allowed = operator_only(ctx)
    status = alert["status"]
    if status == "resolved":
        st.caption(f"Resolved {ui.fmt_time(alert['resolved_at'])}; nothing left to do.")
        return
    with st.form(f"alert-action-{alert['id']}", clear_on_submit=True):
        note = st.text_input("Note (what you found or did)", key=f"alert.note.{alert['id']}", disabled=not allowed)
        left, right = st.columns(2)
        ack = left.form_submit_button("Acknowledge", disabled=not allowed or status != "open",
                                      help="I am on it: keep the alert active but stop re-notifying")
        resolve = right.form_submit_button("Resolve", type="primary", disabled=not allowed,
                                           help="The problem is fixed or accepted; close the alert")
    if ack and ui.attempt(lambda: data.acknowledge_alert(ctx.store, user=ctx.user, alert_id=int(alert["id"]),
                                                         note=note), f"Alert #{alert['id']} acknowledged."):
        st.rerun()
    if resolve and ui.attempt(lambda: data.resolve_alert(ctx.store, user=ctx.user, alert_id=int(alert["id"]),
                                                         note=note), f"Alert #{alert['id']} resolved."):
        st.rerun()


def retraining(ctx: ui.PageState, version: VersionInfo) -> None:
    """The version's retraining requests and, for operators, a confirmed request form."""
    requests = data.retraining_requests(ctx.store, version_id=version.id)
    if requests.empty:
        st.caption("No retraining requests for this version yet.")
    else:
        latest = requests.iloc[0]
        st.markdown(f"Latest request **#{latest['id']}** is **{latest['status']}** "
                    f"(by {md.text(latest['requested_by'])}, {ui.ago(latest['created_at'])}).")
        st.dataframe(requests[REQUEST_COLUMNS], hide_index=True, width="stretch", column_config=ui.TIME_COLUMNS)
    allowed = operator_only(ctx)
    with st.form(f"retrain-{version.id}", clear_on_submit=True):
        reason = st.text_area("Reason", key=f"retrain.reason.{version.id}", disabled=not allowed,
                              placeholder="e.g. roc_auc fell below 0.70 after the January pricing change")
        which = md.text(f"{version.model} {version.version}")
        confirmed = st.checkbox(f"Yes, ask the training pipeline to retrain {which}",
                                key=f"retrain.confirm.{version.id}", disabled=not allowed)
        submitted = st.form_submit_button("Request retraining", type="primary", disabled=not allowed)
    if not submitted:
        return
    if not confirmed or not reason.strip():
        st.error("Tick the confirmation and give a reason to request retraining.")
        return
    if ui.attempt(lambda: data.request_retraining(ctx.store, user=ctx.user, version_id=version.id,
                                                  reason=reason.strip()),
                  f"Retraining of {which} requested; its status is shown above."):
        st.rerun()
