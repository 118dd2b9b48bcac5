"""``experiment_decided``: one alert and one notification when an experiment reaches its verdict.

Judged from the stored looks (:mod:`driftscope.storage.experiments`), not from monitor runs: the
deciding look is the first window whose verdict is ``better`` or ``worse`` (a guardrail breach
decides ``worse`` in its window). The alert belongs to the treatment version; its data window is
the deciding window, and its evidence holds the effect with its confidence sequence bounds, each
arm's units, the guardrails that breached and the samples that were still needed. The look is
linked to the alert, so judging again (or re-evaluating unchanged data) opens nothing and notifies
no one. A rule with ``retrain: true`` also calls the model's ``retrain_webhook`` (a rollback or a
promotion hook: the verdict is in the request's reason and evidence).
"""

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from driftscope.alerting.config import AlertSettings, RuleConfig
from driftscope.alerting.rules.evaluate import AlertChange
from driftscope.alerting.rules.figures import number
from driftscope.storage.alerts import IncidentFacts, notify_alert, open_incident
from driftscope.storage.experiments import deciding_look, link_alert
from driftscope.storage.registry import list_versions
from driftscope.storage.retraining import request_retraining

log = logging.getLogger(__name__)


class ExperimentArms(Protocol):
    """What a rule reads of a configured experiment (``driftscope.monitors.experiment_config.ExperimentConfig``)."""

    @property
    def name(self) -> str: ...

    @property
    def model(self) -> str: ...

    @property
    def control(self) -> str: ...

    @property
    def treatment(self) -> str: ...

    @property
    def alpha(self) -> float: ...


def evaluate_experiments(session: Session, config: AlertSettings, experiments: Mapping[str, ExperimentArms], *,
                         now: datetime | None = None) -> list[AlertChange]:
    """Judge every ``experiment_decided`` rule; ``experiments`` maps a name to its configuration."""
    now = now or datetime.now(UTC)
    changes = []
    for rule in (r for r in config.alerts.rules if r.when == "experiment_decided"):
        experiment = experiments[rule.experiment or ""]
        versions = {v.version: v for v in list_versions(session, model=experiment.model)}
        treatment = versions.get(experiment.treatment)
        if treatment is None:
            continue
        look = deciding_look(session, experiment=experiment.name, treatment_version_id=treatment.id)
        if look is None or look["alert_id"] is not None:
            continue
        changes.append(_announce(session, config, rule, experiment, treatment.id, look, now))
    return changes


def experiment_evidence(experiment: ExperimentArms, look: dict[str, Any]) -> dict[str, Any]:
    """What the alert and its notification carry about the decision."""
    return {
        "experiment": experiment.name, "control": experiment.control, "treatment": experiment.treatment,
        "verdict": look["verdict"], "reason": look["reason"], "effect": look["effect"],
        "confidence_sequence": {"low": look["low"], "high": look["high"], "alpha": experiment.alpha},
        "n": {"control": look["n_control"], "treatment": look["n_treatment"]},
        "means": {"control": look["control_mean"], "treatment": look["treatment_mean"]},
        "guardrails_breached": list(look["breaches"] or []), "samples_needed": look["samples_needed"],
        "window": {"start": look["window_start"], "end": look["window_end"]},
    }


def _announce(session: Session, config: AlertSettings, rule: RuleConfig, experiment: ExperimentArms,
              treatment_version_id: int, look: dict[str, Any], now: datetime) -> AlertChange:
    start, end = look["window_start"], look["window_end"]
    title = (f"experiment {experiment.name} decided {look['verdict']} in the window ending {end:%Y-%m-%d %H:%M} UTC: "
             f"{look['reason']}; effect {number(look['effect'])} "
             f"(CS {number(look['low'])} to {number(look['high'])})")
    facts = IncidentFacts(severity=rule.severity, title=title, evidence=experiment_evidence(experiment, look),
                          data_start=start, data_end=end, window_start=start, window_end=end, fire_count=1,
                          clean_runs=0)
    alert_id = open_incident(session, rule=rule.name, kind=rule.when, model_version_id=treatment_version_id,
                             facts=facts, now=now)
    link_alert(session, look_id=int(look["id"]), alert_id=alert_id)
    if rule.channels:
        notify_alert(session, alert_id=alert_id, channels=rule.channels, now=now)
    request_id = None
    if rule.retrain:
        request_id = request_retraining(
            session, model_version_id=treatment_version_id, trigger="alert", requested_by="driftscope",
            reason=f"experiment {experiment.name} decided {look['verdict']}: {look['reason']}",
            evidence=experiment_evidence(experiment, look), alert_id=alert_id, now=now)
    log.info("alert opened: rule=%s experiment=%s %s", rule.name, experiment.name, title)
    return AlertChange(alert_id, rule.name, treatment_version_id, "opened", bool(rule.channels), request_id)
