"""Settle an alert raised on an estimate when the window's labels land: confirmed or retracted.

Kept in one function so the alert lifecycle can call it before its ordinary rule evaluation.
"""

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from driftscope.alerting.config import RuleConfig
from driftscope.alerting.rules.checks import CHECKS, Finding, RunResults
from driftscope.storage.alert_estimates import estimated_alert, settle_estimated_alert
from driftscope.storage.results import RunInfo


@dataclass(frozen=True)
class Settlement:
    """An estimated alert settled by the realized value: ``verdict`` is ``confirmed`` or ``retracted``.

    ``finding`` is the rule's finding on the realized value as the alert now states it: the title
    starts with the verdict (``"confirmed by labels: ..."``) and ``evidence.metric`` holds the realized
    value, the ``estimate`` and band the alert was raised on, ``verdict`` and ``estimated_title``.
    The caller logs it as the window's verdict, so the lifecycle's reconcile keeps it.
    """

    alert_id: int
    verdict: str
    notified: bool
    finding: Finding


def settle_estimate(
    session: Session, rule: RuleConfig, run: RunInfo, results: RunResults, *, now: datetime
) -> Settlement | None:
    """Confirm or retract ``rule``'s alert raised on an estimate of ``run``'s window, now realized.

    Returns None when the run does not settle an estimated alert (the figure is still estimated, or
    no alert was raised on this window's estimate); the caller then evaluates the rule as usual.
    One notification per channel that heard of the alert says which way it went.

    An alert whose incident has other breaching windows is never retracted by this window's clean
    realized value: it still stands on those windows, so the lifecycle updates it instead (one
    ``alert.updated``), rather than a retraction followed by a reopening.
    """
    metrics = results.metrics
    if rule.metric is None or metrics.empty or "state" not in metrics:
        return None
    rows = metrics[(metrics["metric"] == rule.metric) & (metrics["state"] == "realized")]
    if rows.empty:
        return None
    raised = estimated_alert(session, rule=rule.name, model_version_id=run.model_version_id,
                             window_start=run.window_start, window_end=run.window_end)
    if raised is None:
        return None
    finding = CHECKS[rule.when](rule, run, results)
    if finding is None:
        return None
    if not finding.fired and raised.fire_count > 1:
        return None
    verdict = "confirmed" if finding.fired else "retracted"
    metric = {**finding.evidence.get("metric", {}), "state": "realized", "verdict": verdict,
              "estimate": raised.metric.get("value"), "band": raised.metric.get("band"),
              "estimated_title": raised.title}
    settled = replace(finding, title=f"{verdict} by labels: {finding.title}",
                      evidence={**finding.evidence, "metric": metric})
    ids = settle_estimated_alert(session, alert_id=raised.id, confirmed=finding.fired, metric=metric,
                                 title=settled.title, now=now)
    return Settlement(raised.id, verdict, bool(ids), settled)
