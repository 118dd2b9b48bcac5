"""Reconcile a rule's stored alerts with the incidents its verdict log implies (one rule, one version).

An incident keeps the alert its windows were linked to before (the verdict log remembers the
alert of each breaching window), so recomputing windows updates that alert and never resolves
and re-opens it. See :mod:`driftscope.alerting.rules.evaluate` for the notification policy.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from driftscope.alerting.config import AlertSettings, RuleConfig
from driftscope.alerting.rules.checks import Finding
from driftscope.alerting.rules.lifecycle import Incident, Verdict, incidents, severity_for
from driftscope.storage.alerts import (
    ACTIVE_STATUSES,
    IncidentFacts,
    IncidentRecord,
    incident_alerts,
    notify_alert,
    open_incident,
    reopen_incident,
    resolve_incident,
    update_incident,
)
from driftscope.storage.registry import VersionInfo
from driftscope.storage.results import RunInfo
from driftscope.storage.retraining import last_request_at, request_retraining
from driftscope.storage.rule_verdicts import LoggedVerdict, link_alert, verdict_log

log = logging.getLogger(__name__)
Key = tuple[datetime, datetime]


@dataclass(frozen=True)
class Judged:
    """A rule's fresh verdict on one run's window, and what the log held for it before."""

    run: RunInfo
    finding: Finding | None
    verdict: str
    previous: str | None
    previous_alert: int | None


def run_context(run: RunInfo) -> dict[str, Any]:
    """The run's figures every alert's evidence carries."""
    return {
        "monitor": run.monitor, "run_id": run.id, "run_status": run.status, "n_rows": run.n_rows,
        "n_reference": run.n_reference, "n_labels": run.n_labels,
    }


@dataclass(frozen=True)
class Walk:
    """The verdict log of one rule and version, the incidents it implies, and this evaluation's news."""

    log: list[LoggedVerdict]
    fresh: dict[Key, Judged]
    stored: dict[int, IncidentRecord]

    def key(self, index: int) -> Key:
        """The (start, end) of the index-th logged window."""
        return (self.log[index].window_start, self.log[index].window_end)


def reconcile(
    session: Session, config: AlertSettings, rule: RuleConfig, version: VersionInfo, judged: list[Judged],
    *, now: datetime,
) -> list[dict[str, Any]]:
    """Bring the rule's alerts on ``version`` in line with its verdict log; return the changes made."""
    stored = {a.id: a for a in incident_alerts(session, rule=rule.name, model_version_id=version.id)}
    walk = Walk(verdict_log(session, rule=rule.name, model_version_id=version.id),
                {(j.run.window_start, j.run.window_end): j for j in judged}, stored)
    k, n = rule.persistence
    resets = [a.resolved_window_end for a in stored.values() if a.by_hand and a.resolved_window_end is not None]
    derived = incidents(
        [Verdict(v.window_start, v.window_end, v.verdict, v.clearance, v.effect) for v in walk.log],
        k=k, n=n, resolve_after=config.alerts.resolve_after, hysteresis=config.alerts.hysteresis_of(rule),
        resets=resets,
    )
    linked = {v.alert_id for v in walk.log if v.alert_id is not None}
    changes: list[dict[str, Any]] = []
    claimed: set[int] = set()
    for incident in derived:
        alert_id = _match(incident, walk, claimed, linked)
        change = _apply(session, config, rule, version, walk, incident, alert_id, now)
        claimed.add(change["alert_id"])
        if change["action"] is not None:
            changes.append(change)
    for alert in stored.values():
        if alert.id not in claimed and alert.id in linked and alert.status in ACTIVE_STATUSES:
            window_end = max(v.window_end for v in walk.log)
            resolve_incident(session, alert_id=alert.id, window_end=window_end, now=now,
                             note="recomputed windows no longer breach")
            changes.append(_change(alert.id, rule, version, "resolved"))
    return changes


def _match(incident: Incident, walk: Walk, claimed: set[int], linked: set[int]) -> int | None:
    """The stored alert of ``incident``: the one its windows were linked to, else an unlinked active one."""
    candidates = sorted({
        alert_id for alert_id in (walk.log[i].alert_id for i in incident.breaches)
        if alert_id is not None and alert_id in walk.stored and alert_id not in claimed
    })
    if candidates:
        return candidates[0]
    if incident.is_open:
        for alert in walk.stored.values():
            if alert.status in ACTIVE_STATUSES and alert.id not in linked and alert.id not in claimed:
                return alert.id
    return None


def _apply(
    session: Session, config: AlertSettings, rule: RuleConfig, version: VersionInfo, walk: Walk,
    incident: Incident, alert_id: int | None, now: datetime,
) -> dict[str, Any]:
    facts = _facts(rule, walk, incident)
    new_breach = any(walk.key(i) in walk.fresh and walk.fresh[walk.key(i)].previous is None
                     for i in incident.breaches)
    changed = _verdict_changed(walk, incident, alert_id)
    if alert_id is None:
        alert_id = open_incident(session, rule=rule.name, kind=rule.when, model_version_id=version.id, facts=facts,
                                 now=now)
        _link(session, rule, version, walk, incident, alert_id)
        notified = _notify(session, rule, alert_id, "alert.fired", now)
        log.info("alert opened: rule=%s model=%s version=%s %s", rule.name, version.model, version.version,
                 facts.title)
        if incident.resolved_at is not None:
            _resolve(session, config, walk, incident, alert_id, now)
        request = _retrain(session, config, rule, version, walk, incident, alert_id, new_breach, now)
        return _change(alert_id, rule, version, "opened", notified, request)
    record = walk.stored[alert_id]
    _link(session, rule, version, walk, incident, alert_id)
    action = "fired" if new_breach else "updated" if changed else None
    update_incident(session, alert_id=alert_id, facts=facts, now=now, action=action,
                    note=facts.title if action == "fired" else "a recomputed window changed its verdict"
                    if action else None)
    if record.status in ACTIVE_STATUSES and incident.resolved_at is not None:
        _resolve(session, config, walk, incident, alert_id, now)
        return _change(alert_id, rule, version, "resolved")
    if record.status == "resolved" and not record.by_hand and incident.is_open:
        reopen_incident(session, alert_id=alert_id, now=now, note="a recomputed window undid the resolution")
        return _change(alert_id, rule, version, "updated", _notify(session, rule, alert_id, "alert.updated", now))
    if action == "updated" and not record.by_hand:
        return _change(alert_id, rule, version, action, _notify(session, rule, alert_id, "alert.updated", now))
    if action == "fired" and record.status in ACTIVE_STATUSES:
        cooled = record.last_notified_at is None or now - record.last_notified_at >= config.alerts.cooldown
        notified = record.status == "open" and cooled and _notify(session, rule, alert_id, "alert.fired", now)
        request = _retrain(session, config, rule, version, walk, incident, alert_id, new_breach, now)
        return _change(alert_id, rule, version, "fired", notified, request)
    return _change(alert_id, rule, version, None)


def _facts(rule: RuleConfig, walk: Walk, incident: Incident) -> IncidentFacts:
    first, last = walk.log[incident.breaches[0]], walk.log[incident.breaches[-1]]
    effects = [e for e in (walk.log[i].effect for i in incident.breaches) if e is not None]
    judged = walk.fresh.get(walk.key(incident.breaches[-1]))
    evidence: dict[str, Any] | None = None
    if judged is not None and judged.finding is not None:
        evidence = {**run_context(judged.run), **judged.finding.evidence,
                    "window": {"start": last.window_start, "end": last.window_end}}
    escalate = {str(level): floor for level, floor in rule.escalate.items()}
    return IncidentFacts(
        severity=severity_for(rule.severity, escalate, max(effects) if effects else None),
        title=last.title, evidence=evidence, data_start=first.window_start, data_end=last.window_end,
        window_start=last.window_start, window_end=last.window_end, fire_count=len(incident.breaches),
        clean_runs=incident.clean_streak,
    )


def _verdict_changed(walk: Walk, incident: Incident, alert_id: int | None) -> bool:
    """True when a recomputed window changed its verdict inside the incident or the alert's old span."""
    start = walk.log[incident.breaches[0]].window_start
    end_index = incident.resolved_at if incident.resolved_at is not None else len(walk.log) - 1
    end = walk.log[end_index].window_end
    for (w_start, w_end), judged in walk.fresh.items():
        if judged.previous is None or judged.previous == judged.verdict:
            continue
        if judged.previous_alert is not None and judged.previous_alert == alert_id:
            return True
        if start <= w_start and w_end <= end:
            return True
    return False


def _link(session: Session, rule: RuleConfig, version: VersionInfo, walk: Walk, incident: Incident,
          alert_id: int) -> None:
    link_alert(session, rule=rule.name, model_version_id=version.id,
               windows=[walk.key(i) for i in incident.breaches], alert_id=alert_id)


def _resolve(session: Session, config: AlertSettings, walk: Walk, incident: Incident, alert_id: int,
             now: datetime) -> None:
    assert incident.resolved_at is not None
    window_end = walk.log[incident.resolved_at].window_end
    note = f"condition clear for {config.alerts.resolve_after} consecutive windows with a verdict"
    resolve_incident(session, alert_id=alert_id, window_end=window_end, note=note, now=now)


def _notify(session: Session, rule: RuleConfig, alert_id: int, event_type: str, now: datetime) -> bool:
    if not rule.channels:
        return False
    notify_alert(session, alert_id=alert_id, channels=rule.channels, now=now, event_type=event_type)
    return True


def _retrain(
    session: Session, config: AlertSettings, rule: RuleConfig, version: VersionInfo, walk: Walk,
    incident: Incident, alert_id: int, new_breach: bool, now: datetime,
) -> int | None:
    """Ask for retraining when a persistent incident (``rule.retrain_after`` breaching windows) grew now."""
    if not (rule.retrain and new_breach and incident.is_open and len(incident.breaches) >= rule.retrain_after):
        return None
    previous = last_request_at(session, model_version_id=version.id)
    if previous is not None and now - previous < config.retraining.min_interval:
        return None
    first, last = walk.log[incident.breaches[0]], walk.log[incident.breaches[-1]]
    return request_retraining(
        session, model_version_id=version.id, trigger="alert", requested_by="driftscope",
        reason=f"rule {rule.name} ({rule.when}, {rule.severity}) breached in {len(incident.breaches)} windows "
               f"since {first.window_start:%Y-%m-%d %H:%M} UTC: {last.title}",
        evidence={"rule": rule.name, "window": {"start": first.window_start, "end": last.window_end},
                  "breaching_windows": len(incident.breaches)},
        alert_id=alert_id, now=now,
    )


def _change(alert_id: int, rule: RuleConfig, version: VersionInfo, action: str | None, notified: bool = False,
            request_id: int | None = None) -> dict[str, Any]:
    return {"alert_id": alert_id, "rule": rule.name, "model_version_id": version.id, "action": action,
            "notified": bool(notified), "retraining_request_id": request_id}
