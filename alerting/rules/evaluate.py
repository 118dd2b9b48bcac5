"""Turn findings into alert changes: open or update alerts, count clean runs, notify, ask for retraining.

Policy (``alerts`` and ``retraining`` in the config):

* one active alert per (rule, model version); a firing updates it (see :mod:`driftscope.storage.alerts`);
* an ``open`` alert is (re-)notified when it opens and then at most once per ``alerts.cooldown``;
  an acknowledged alert is not re-notified;
* ``alerts.resolve_after`` clean evaluations in a row resolve it (its channels hear about it);
* a firing rule with ``retrain: true`` asks for retraining unless the version already has a request
  younger than ``retraining.min_interval``.

Every function works inside the caller's transaction.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from driftscope.alerting.config import AlertSettings, RuleConfig
from driftscope.alerting.rules.checks import CHECKS, Finding, RunResults, no_data_finding
from driftscope.alerting.rules.estimates import settle_estimate
from driftscope.storage.alerts import fire_alert, notify_alert, record_clean_run, version_activity
from driftscope.storage.registry import VersionInfo, get_version_by_id, list_versions
from driftscope.storage.results import RunInfo, detector_events, drift_results, metric_values
from driftscope.storage.retraining import last_request_at, request_retraining

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertChange:
    """What one evaluation did to an alert: ``opened``, ``fired``, ``resolved``, ``confirmed`` or ``retracted``."""

    alert_id: int
    rule: str
    model_version_id: int
    action: str
    notified: bool = False
    retraining_request_id: int | None = None


@dataclass(frozen=True)
class Window:
    """The time span a finding is about (UTC)."""

    start: datetime | None
    end: datetime | None


def evaluate_run(
    session: Session, config: AlertSettings, run: RunInfo, *, now: datetime | None = None
) -> list[AlertChange]:
    """Evaluate every rule on ``run``'s monitor against that run; return the alert changes."""
    rules = [r for r in config.alerts.rules if r.when != "no_data" and r.monitor == run.monitor]
    if not rules or run.status == "running":
        return []
    now = now or datetime.now(UTC)
    version = get_version_by_id(session, run.model_version_id)
    results = RunResults(
        drift_results(session, run_id=run.id), metric_values(session, run_id=run.id),
        detector_events(session, run_id=run.id),
    )
    context = {
        "monitor": run.monitor, "run_id": run.id, "run_status": run.status, "n_rows": run.n_rows,
        "n_reference": run.n_reference, "n_labels": run.n_labels,
    }
    window = Window(run.window_start, run.window_end)
    changes = []
    for rule in rules:
        if rule.model is not None and rule.model != version.model:
            continue
        settled = settle_estimate(session, rule, run, results, now=now)
        if settled is not None:
            changes.append(AlertChange(settled[0], rule.name, version.id, settled[1], settled[2]))
            continue
        finding = CHECKS[rule.when](rule, run, results)
        change = apply_finding(session, config, rule, version, finding, window=window, context=context, now=now)
        if change is not None:
            changes.append(change)
    return changes


def evaluate_no_data(
    session: Session, config: AlertSettings, *, now: datetime | None = None, replay: bool = False
) -> list[AlertChange]:
    """Evaluate every ``no_data`` rule for each active version of its model.

    With ``replay`` (a backfill walking through past hours), only predictions stamped at or before
    ``now`` count as signs of life, so past outages are found; a version with none yet is skipped.
    """
    now = now or datetime.now(UTC)
    changes = []
    for rule in (r for r in config.alerts.rules if r.when == "no_data"):
        model = rule.model or config.monitor(rule.monitor or "").model
        for version in list_versions(session, model=model):
            if version.status != "active":
                continue
            activity = version_activity(session, model_version_id=version.id, as_of=now if replay else None)
            seen = [t for t in activity.values() if t is not None]
            if not seen:
                continue
            last_seen = max(seen)
            finding = no_data_finding(rule, last_seen=last_seen, activity=activity, now=now)
            change = apply_finding(session, config, rule, version, finding, window=Window(last_seen, now), now=now)
            if change is not None:
                changes.append(change)
    return changes


def apply_finding(
    session: Session,
    config: AlertSettings,
    rule: RuleConfig,
    version: VersionInfo,
    finding: Finding | None,
    *,
    window: Window,
    now: datetime,
    context: dict[str, Any] | None = None,
) -> AlertChange | None:
    """Record ``finding`` for ``rule`` on ``version``: fire (and notify, retrain) or count a clean run."""
    if finding is None:
        return None
    if not finding.fired:
        resolved = record_clean_run(
            session, rule=rule.name, model_version_id=version.id, resolve_after=config.alerts.resolve_after, now=now
        )
        return None if resolved is None else AlertChange(resolved, rule.name, version.id, "resolved")
    evidence = {**(context or {}), **finding.evidence, "window": {"start": window.start, "end": window.end}}
    state = fire_alert(
        session, rule=rule.name, kind=rule.when, model_version_id=version.id, severity=rule.severity,
        title=finding.title, evidence=evidence, window_start=window.start, window_end=window.end, now=now,
    )
    cooled = state.last_notified_at is None or now - state.last_notified_at >= config.alerts.cooldown
    notify = bool(rule.channels) and (state.opened or (state.status == "open" and cooled))
    if notify:
        notify_alert(session, alert_id=state.id, channels=rule.channels, now=now)
    request_id = None
    if rule.retrain:
        request_id = _maybe_retrain(session, config, rule, version, state.id, finding, window, now)
    action = "opened" if state.opened else "fired"
    log.info("alert %s: rule=%s model=%s version=%s %s", action, rule.name, version.model, version.version,
             finding.title)
    return AlertChange(state.id, rule.name, version.id, action, notify, request_id)


def _maybe_retrain(
    session: Session,
    config: AlertSettings,
    rule: RuleConfig,
    version: VersionInfo,
    alert_id: int,
    finding: Finding,
    window: Window,
    now: datetime,
) -> int | None:
    last = last_request_at(session, model_version_id=version.id)
    if last is not None and now - last < config.retraining.min_interval:
        return None
    return request_retraining(
        session, model_version_id=version.id, trigger="alert", requested_by="driftscope",
        reason=f"rule {rule.name} ({rule.when}, {rule.severity}) fired: {finding.title}",
        evidence={"rule": rule.name, "window": {"start": window.start, "end": window.end}}, alert_id=alert_id,
        now=now,
    )
