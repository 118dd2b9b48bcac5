"""Checks of the ``experiments`` section against the models it compares and the rules that watch it."""

from collections.abc import Mapping

from driftscope.alerting.config import RuleConfig
from driftscope.modelspec import ModelConfig
from driftscope.monitors.experiment_config import ExperimentConfig
from driftscope.monitors.metric_registry import SPECS


def experiment_errors(experiments: list[ExperimentConfig], models: Mapping[str, ModelConfig],
                      rules: list[RuleConfig]) -> list[str]:
    """``"key.path: message"`` for every experiment whose model, versions or KPIs do not exist, and every
    experiment_decided rule naming an unknown experiment."""
    errors: list[str] = []
    names = [e.name for e in experiments]
    errors += [f"experiments: name {n!r} used twice" for n in sorted({n for n in names if names.count(n) > 1})]
    for i, experiment in enumerate(experiments):
        model = models.get(experiment.model)
        if model is None:
            errors.append(f"experiments[{i}].model: no model named {experiment.model!r}")
            continue
        errors += _arm_errors(f"experiments[{i}]", experiment, model)
    for i, rule in enumerate(rules):
        if rule.experiment is not None and rule.experiment not in names:
            errors.append(f"alerts.rules[{i}].experiment: no experiment named {rule.experiment!r}; configured: "
                          f"{', '.join(names) or 'none'}")
    return errors


def _arm_errors(where: str, experiment: ExperimentConfig, model: ModelConfig) -> list[str]:
    errors = []
    known = [v.version for v in model.versions]
    for arm in ("control", "treatment"):
        version = getattr(experiment, arm)
        if version not in known:
            errors.append(f"{where}.{arm}: model {model.name!r} has no version {version!r} (has: {', '.join(known)})")
    schema = model.schema_
    primary = experiment.primary
    if primary.outcome is not None and primary.outcome not in schema.outcomes:
        errors.append(f"{where}.primary.outcome: model {model.name!r} declares no outcome {primary.outcome!r}; "
                      f"declare it under schema.outcomes (declared: {', '.join(schema.outcomes) or 'none'})")
    if primary.metric is not None:
        errors += _metric_errors(f"{where}.primary.metric", primary.metric, model)
    for j, guard in enumerate(experiment.guardrails):
        at = f"{where}.guardrails[{j}]"
        if guard.metric is not None:
            errors += _metric_errors(f"{at}.metric", guard.metric, model)
            continue
        name = guard.name
        if name.startswith("latency_p") and schema.latency is None:
            errors.append(f"{at}.operational: model {model.name!r} logs no latency; set schema.latency")
        if name in ("error_rate", "timeout_rate") and schema.status is None:
            errors.append(f"{at}.operational: model {model.name!r} logs no status; set schema.status for {name}")
        if name.startswith("outcome:") and name[len("outcome:"):] not in schema.outcomes:
            errors.append(f"{at}.operational: model {model.name!r} declares no outcome {name[len('outcome:'):]!r}")
    return errors


def _metric_errors(where: str, metric: str, model: ModelConfig) -> list[str]:
    errors = []
    if model.task not in SPECS[metric].tasks:
        errors.append(f"{where}: {metric!r} does not apply to a {model.task} model")
    if model.schema_.target is None:
        errors.append(f"{where}: {metric!r} needs schema.target (the labels) on model {model.name!r}")
    if SPECS[metric].needs_probability and model.schema_.probability is None and not model.schema_.probabilities:
        errors.append(f"{where}: {metric!r} needs schema.probability on model {model.name!r}")
    return errors
