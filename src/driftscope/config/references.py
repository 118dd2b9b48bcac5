"""Checks across sections: every name a section refers to must exist elsewhere in the file."""

from driftscope.config.schema import Config, ModelConfig, MonitorConfig, RuleConfig
from driftscope.monitors.config import operational_metric_names
from driftscope.monitors.metrics import METRICS


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
        model = models.get(source.model)
        if model is None:
            errors.append(f"sources[{i}].model: no model named {source.model!r}")
        elif source.version is not None and source.version not in {v.version for v in model.versions}:
            errors.append(f"sources[{i}].version: model {model.name!r} has no version {source.version!r}")
    for i, monitor in enumerate(config.monitors):
        model = models.get(monitor.model)
        if model is None:
            errors.append(f"monitors[{i}].model: no model named {monitor.model!r}")
            continue
        known = {v.version for v in model.versions}
        for version in monitor.versions or []:
            if version not in known:
                errors.append(f"monitors[{i}].versions: model {model.name!r} has no version {version!r}")
        features = set(model.schema_.features)
        for column in monitor.tests or {}:
            if column not in features:
                errors.append(f"monitors[{i}].tests.{column}: not a feature of model {model.name!r}")
        for metric in monitor.metrics or []:
            if model.task not in METRICS[metric].tasks:
                errors.append(f"monitors[{i}].metrics: {metric!r} does not apply to a {model.task} model")
        if monitor.kind in ("performance", "concept_drift") and model.schema_.target is None:
            errors.append(f"monitors[{i}].kind: {monitor.kind} needs schema.target on model {model.name!r}")
        if monitor.latency_percentiles and model.schema_.latency is None:
            errors.append(f"monitors[{i}].latency_percentiles: model {model.name!r} logs no latency; set "
                          "schema.latency (the column of the serving time in ms) or drop the percentiles")
    for i, rule in enumerate(config.alerts.rules):
        where = f"alerts.rules[{i}]"
        if rule.monitor is not None and rule.monitor not in monitors:
            errors.append(f"{where}.monitor: no monitor named {rule.monitor!r}")
        if rule.model is not None and rule.model not in models:
            errors.append(f"{where}.model: no model named {rule.model!r}")
        for channel in rule.channels:
            if channel not in channels:
                errors.append(f"{where}.channels: no channel named {channel!r}")
        monitor = monitors.get(rule.monitor or "")
        kinds = _RULE_MONITOR_KINDS.get(rule.when)
        if monitor is not None and kinds is not None and monitor.kind not in kinds:
            errors.append(f"{where}.when: a {rule.when} rule needs a {' or '.join(kinds)} "
                          f"monitor; {monitor.name!r} is {monitor.kind}")
        performance = monitor is not None and monitor.kind == "performance"
        if performance and rule.metric is not None and rule.metric not in (monitor.metrics or []):
            errors.append(f"{where}.metric: monitor {monitor.name!r} does not compute {rule.metric!r}")
        if monitor is not None and monitor.kind == "operational" and monitor.model in models:
            errors += _serving_rule_errors(where, rule, monitor, models[monitor.model])
        ageless = rule.model in models and all(v.trained_at is None for v in models[rule.model or ""].versions)
        if rule.when == "model_age_above" and ageless:
            errors.append(f"{where}.model: no version of model {rule.model!r} has 'trained_at'; a "
                          "model_age_above rule needs it")
    return errors


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
    "metric_below": ("performance", "operational"),
    "metric_drop": ("performance", "operational"),
    "latency_above": ("operational",),
    "error_rate_above": ("operational",),
    "detector_fired": ("concept_drift",),
}


def _duplicates(where: str, names: list[str]) -> list[str]:
    return [f"{where}: name {n!r} used twice" for n in sorted({n for n in names if names.count(n) > 1})]
