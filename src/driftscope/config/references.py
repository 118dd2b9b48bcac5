"""Checks across sections: every name a section refers to must exist elsewhere in the file."""

from driftscope.alerting.config import RuleConfig
from driftscope.config.experiment_references import experiment_errors
from driftscope.config.schema import Config
from driftscope.modelspec import ModelConfig
from driftscope.monitors.config import MonitorConfig, operational_metric_names
from driftscope.monitors.estimation import registry as estimation
from driftscope.monitors.metric_registry import SPECS

LABELLED = ("performance", "concept_drift", "estimated_performance")


def reference_errors(config: Config) -> list[str]:
    """Return ``"key.path: message"`` for every dangling or contradictory reference."""
    errors: list[str] = []
    models = {m.name: m for m in config.models}
    channels = {c.name: c for c in config.channels}
    monitors = {m.name: m for m in config.monitors}
    errors += _duplicates("models", [m.name for m in config.models])
    errors += _duplicates("sources", [s.name for s in config.sources])
    errors += _duplicates("monitors", [m.name for m in config.monitors])
    errors += _duplicates("channels", [c.name for c in config.channels])
    errors += _duplicates("alerts.rules", [r.name for r in config.alerts.rules])
    for i, model in enumerate(config.models):
        if model.retrain_webhook is not None:
            channel = channels.get(model.retrain_webhook)
            if channel is None or channel.kind != "webhook":
                errors.append(f"models[{i}].retrain_webhook: no webhook channel named {model.retrain_webhook!r}")
    for i, source in enumerate(config.sources):
        owner = models.get(source.model)
        if owner is None:
            errors.append(f"sources[{i}].model: no model named {source.model!r}")
        elif source.version is not None and source.version not in {v.version for v in owner.versions}:
            errors.append(f"sources[{i}].version: model {owner.name!r} has no version {source.version!r}")
    for i, monitor in enumerate(config.monitors):
        owner = models.get(monitor.model)
        if owner is None:
            errors.append(f"monitors[{i}].model: no model named {monitor.model!r}")
            continue
        known = {v.version for v in owner.versions}
        for version in monitor.versions or []:
            if version not in known:
                errors.append(f"monitors[{i}].versions: model {owner.name!r} has no version {version!r}")
        features = set(owner.schema_.features)
        for column in monitor.tests or {}:
            if column not in features:
                errors.append(f"monitors[{i}].tests.{column}: not a feature of model {owner.name!r}")
        errors += _metric_errors(i, monitor, owner)
        if monitor.kind in LABELLED and owner.schema_.target is None:
            errors.append(f"monitors[{i}].kind: {monitor.kind} needs schema.target on model {owner.name!r}")
        if monitor.latency_percentiles and owner.schema_.latency is None:
            errors.append(f"monitors[{i}].latency_percentiles: model {owner.name!r} logs no latency; set "
                          "schema.latency (the column of the serving time in ms) or drop the percentiles")
    for i, rule in enumerate(config.alerts.rules):
        where = f"alerts.rules[{i}]"
        if rule.monitor is not None and rule.monitor not in monitors:
            errors.append(f"{where}.monitor: no monitor named {rule.monitor!r}")
        if rule.model is not None and rule.model not in models:
            errors.append(f"{where}.model: no model named {rule.model!r}")
        source_kinds = {s.name: s.kind for s in config.sources}
        if rule.source is not None and source_kinds.get(rule.source) != "kafka":
            errors.append(f"{where}.source: no kafka source named {rule.source!r}"
                          + (f" ({rule.source!r} is a {source_kinds[rule.source]} source)"
                             if rule.source in source_kinds else ""))
        for name in rule.channels:
            if name not in channels:
                errors.append(f"{where}.channels: no channel named {name!r}")
        watched = monitors.get(rule.monitor or "")
        kinds = _RULE_MONITOR_KINDS.get(rule.when)
        if watched is not None and kinds is not None and watched.kind not in kinds:
            errors.append(f"{where}.when: a {rule.when} rule needs a {' or '.join(kinds)} "
                          f"monitor; {watched.name!r} is {watched.kind}")
        computes = watched.metrics or [] if watched is not None else []
        performance = watched is not None and watched.kind in ("performance", "estimated_performance")
        if watched is not None and performance and rule.metric is not None and rule.metric not in computes:
            errors.append(f"{where}.metric: monitor {watched.name!r} does not compute {rule.metric!r}")
        if watched is not None and watched.kind == "operational" and watched.model in models:
            errors += _serving_rule_errors(where, rule, watched, models[watched.model])
        ageless = rule.model in models and all(v.trained_at is None for v in models[rule.model or ""].versions)
        if rule.when == "model_age_above" and ageless:
            errors.append(f"{where}.model: no version of model {rule.model!r} has 'trained_at'; a "
                          "model_age_above rule needs it")
    return errors + experiment_errors(config.experiments, models, config.alerts.rules)


def _serving_rule_errors(where: str, rule: RuleConfig, monitor: MonitorConfig, model: ModelConfig) -> list[str]:
    """A rule on an operational monitor reads a metric it computes, a percentile it keeps, a status it logs."""
    errors = []
    percentiles = monitor.effective_latency_percentiles
    names = operational_metric_names(percentiles, list(model.schema_.outcomes))
    if rule.when == "latency_above" and rule.percentile not in percentiles:
        shown = ", ".join(f"{p:g}" for p in percentiles)
        errors.append(f"{where}.percentile: monitor {monitor.name!r} computes the latency percentiles {shown}; "
                      "add it to its latency_percentiles")
    if rule.when == "error_rate_above" and model.schema_.status is None:
        errors.append(f"{where}.when: model {model.name!r} logs no status; set schema.status for error_rate_above")
    if rule.metric is not None and rule.metric not in names:
        errors.append(f"{where}.metric: monitor {monitor.name!r} does not compute {rule.metric!r}; valid: "
                      f"{', '.join(names)}")
    return errors


_RULE_MONITOR_KINDS = {
    "dataset_drift": ("data_drift",),
    "feature_drift": ("data_drift",),
    "missing_values": ("data_drift",),
    "metric_below": ("performance", "estimated_performance", "operational"),
    "metric_drop": ("performance", "operational"),
    "latency_above": ("operational",),
    "error_rate_above": ("operational",),
    "detector_fired": ("concept_drift",),
}


def _metric_errors(i: int, monitor: MonitorConfig, model: ModelConfig) -> list[str]:
    """A monitor's metrics that do not fit its model's task or logged columns."""
    errors = []
    schema = model.schema_
    if monitor.kind == "estimated_performance":
        valid = estimation.metrics(model.task)
        errors += [f"monitors[{i}].metrics: {m!r} cannot be estimated for a {model.task} model; valid: "
                   f"{', '.join(valid)}" for m in monitor.metrics or [] if m not in valid]
        if model.task == "binary_classification" and schema.probability is None:
            errors.append(f"monitors[{i}].kind: CBPE needs schema.probability on model {model.name!r}")
        if model.task == "multiclass_classification" and not schema.probabilities:
            errors.append(f"monitors[{i}].kind: CBPE needs schema.probabilities on model {model.name!r}")
        return errors
    for metric in monitor.metrics or []:
        if model.task not in SPECS[metric].tasks:
            errors.append(f"monitors[{i}].metrics: {metric!r} does not apply to a {model.task} model")
    return errors


def _duplicates(where: str, names: list[str]) -> list[str]:
    return [f"{where}: name {n!r} used twice" for n in sorted({n for n in names if names.count(n) > 1})]
