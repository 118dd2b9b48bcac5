"""Apply the rules to stored runs: log each window's verdict, derive incidents, reconcile the alerts.

Policy (``alerts`` and ``retraining`` in the config):

* every finished run waits in the outbox (:func:`driftscope.storage.results.pending_runs`) until
  :func:`evaluate_pending` judges it, in the transaction that also takes it out, so a crash never
  loses an alert and any later cycle catches up;
* a rule's verdict on each window goes to the verdict log; the rule's incidents are a function of
  that log in window order (:mod:`driftscope.alerting.rules.lifecycle`): persistence, hysteresis and
  ``resolve_after`` count windows *with a verdict* only;
* one alert per incident; its data time is the incident's first and newest breaching windows;
* notifications: ``alert.fired`` when an incident opens, again for a newly breaching window at most
  once per ``alerts.cooldown`` (never while acknowledged); ``alert.resolved`` when it resolves;
  ``alert.updated`` once when a recomputed window changed a verdict the alert covers. Judging the
  same results again changes nothing and sends nothing;
* a rule with ``retrain: true`` asks for retraining once an incident has ``max(2, K)`` breaching
  windows (never after one), unless the version has a request younger than
  ``retraining.min_interval``.

``no_data`` rules judge wall-clock silence instead (:func:`evaluate_no_data`). Every function works
inside the caller's transaction.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from driftscope.alerting.config import AlertSettings, RuleConfig
from driftscope.alerting.rules.checks import CHECKS, Finding, RunResults, no_data_finding
from driftscope.alerting.rules.estimates import settle_estimate
from driftscope.alerting.rules.incidents import Judged, reconcile
from driftscope.storage.alerts import fire_alert, notify_alert, record_clean_run, version_activity
from driftscope.storage.registry import VersionInfo, get_version_by_id, list_versions
from driftscope.storage.results import RunInfo, claim_runs, detector_events, drift_results, metric_values, pending_runs
from driftscope.storage.rule_verdicts import record_verdict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertChange:
    """What one evaluation did to an alert: ``opened``, ``fired``, ``updated``, ``resolved``, ``confirmed`` or
    ``retracted`` (an alert raised on an estimate, once the window's labels landed)."""

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


def evaluate_pending(
    session: Session,
    config: AlertSettings,
    *,
    now: datetime | None = None,
    until: datetime | None = None,
    monitor_id: int | None = None,
    model_version_id: int | None = None,
) -> list[AlertChange]:
    """Judge every run in the outbox (windows ending at or before ``until``), oldest window first."""
    now = now or datetime.now(UTC)
    runs = pending_runs(session, until=until, monitor_id=monitor_id, model_version_id=model_version_id)
    claimed = claim_runs(session, run_ids=[r.id for r in runs], now=now)
    groups: dict[tuple[str, int], list[RunInfo]] = defaultdict(list)
    for run in runs:
        if run.id in claimed:
            groups[(run.monitor, run.model_version_id)].append(run)
    changes: list[AlertChange] = []
    for (monitor, version_id), group in groups.items():
        rules = [r for r in config.alerts.rules if r.when != "no_data" and _judges(config, r, monitor)]
        if rules:
            changes += _evaluate_group(session, config, rules, get_version_by_id(session, version_id), group, now)
    return changes


def _judges(config: AlertSettings, rule: RuleConfig, monitor: str) -> bool:
    """Whether ``rule`` judges the runs of ``monitor``: its own monitor's, or (model_age_above) any operational
    monitor of its model."""
    if rule.when != "model_age_above":
        return rule.monitor == monitor
    watched = config.monitor(monitor)
    return watched.kind == "operational" and watched.model == rule.model


def evaluate_run(
    session: Session, config: AlertSettings, run: RunInfo, *, now: datetime | None = None
) -> list[AlertChange]:
    """Judge ``run`` and the runs of its monitor and version still waiting before it (see :func:`evaluate_pending`)."""
    return evaluate_pending(session, config, now=now, until=run.window_end, monitor_id=run.monitor_id,
                            model_version_id=run.model_version_id)


def _evaluate_group(
    session: Session, config: AlertSettings, rules: list[RuleConfig], version: VersionInfo, runs: list[RunInfo],
    now: datetime,
) -> list[AlertChange]:
    results = {
        run.id: RunResults(drift_results(session, run_id=run.id), metric_values(session, run_id=run.id),
                           detector_events(session, run_id=run.id))
        for run in runs
    }
    changes: list[AlertChange] = []
    for rule in rules:
        if rule.model is not None and rule.model != version.model:
            continue
        settled: dict[int, Finding] = {}
        for run in runs:
            settlement = settle_estimate(session, rule, run, results[run.id], now=now)
            if settlement is not None:
                settled[run.id] = settlement.finding
                changes.append(AlertChange(settlement.alert_id, rule.name, version.id, settlement.verdict,
                                           settlement.notified))
        judged = [_judge(session, rule, version, run, results[run.id], now, settled.get(run.id)) for run in runs]
        for change in reconcile(session, config, rule, version, judged, now=now):
            changes.append(AlertChange(**change))
    return changes


def _judge(
    session: Session, rule: RuleConfig, version: VersionInfo, run: RunInfo, results: RunResults, now: datetime,
    settled: Finding | None = None,
) -> Judged:
    """Log the rule's verdict on ``run``'s window; ``settled``, when given, is that finding as an estimated
    alert's settlement worded it (so reconcile writes the settled title and figure back, not the raw check's)."""
    finding = settled if settled is not None else CHECKS[rule.when](rule, run, results)
    verdict = "none" if finding is None else "breach" if finding.fired else "clean"
    before = record_verdict(
        session, rule=rule.name, model_version_id=version.id, window_start=run.window_start,
        window_end=run.window_end, verdict=verdict, run_id=run.id,
        clearance=None if finding is None else finding.clearance, effect=None if finding is None else finding.effect,
        title="" if finding is None else finding.title, now=now,
    )
    return Judged(run, finding, verdict, None if before is None else before.verdict,
                  None if before is None else before.alert_id)


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
    """Record a wall-clock ``finding`` (``no_data``) for ``rule`` on ``version``: fire and notify, or count it clean."""
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
    action = "opened" if state.opened else "fired"
    log.info("alert %s: rule=%s model=%s version=%s %s", action, rule.name, version.model, version.version,
             finding.title)
    return AlertChange(state.id, rule.name, version.id, action, notify)
