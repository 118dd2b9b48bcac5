"""Settle an alert raised on an estimate when the window's labels land: confirmed or retracted.

Kept in one function so the alert lifecycle can call it before its ordinary rule evaluation.
"""

from datetime import datetime

from sqlalchemy.orm import Session

from driftscope.alerting.config import RuleConfig
from driftscope.alerting.rules.checks import CHECKS, RunResults
from driftscope.storage.alert_estimates import estimated_alert, settle_estimated_alert
from driftscope.storage.results import RunInfo


def settle_estimate(
    session: Session, rule: RuleConfig, run: RunInfo, results: RunResults, *, now: datetime
) -> tuple[int, str, bool] | None:
    """Confirm or retract ``rule``'s alert raised on an estimate of ``run``'s window, now realized.

    Returns ``(alert id, "confirmed" or "retracted", notified)``, or None when the run does not
    settle an estimated alert (the figure is still estimated, or no alert was raised on this
    window's estimate); the caller then evaluates the rule as usual. One notification per channel
    that heard of the alert says which way it went.
    """
    metrics = results.metrics
    if rule.metric is None or metrics.empty or "state" not in metrics:
        return None
    rows = metrics[(metrics["metric"] == rule.metric) & (metrics["state"] == "realized")]
    if rows.empty:
        return None
    alert_id = estimated_alert(session, rule=rule.name, model_version_id=run.model_version_id,
                               window_start=run.window_start, window_end=run.window_end)
    if alert_id is None:
        return None
    finding = CHECKS[rule.when](rule, run, results)
    if finding is None:
        return None
    verdict = "confirmed" if finding.fired else "retracted"
    realized = finding.evidence.get("metric", {})
    title = f"{verdict} by labels: {finding.title}"
    ids = settle_estimated_alert(session, alert_id=alert_id, confirmed=finding.fired, realized=realized,
                                 title=title, now=now)
    return alert_id, verdict, bool(ids)
