"""Checks across sections: every name a section refers to must exist elsewhere in the file."""

from driftscope.config.schema import Config
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
        for metric in monitor.metrics or []:
            if owner.task not in METRICS[metric].tasks:
                errors.append(f"monitors[{i}].metrics: {metric!r} does not apply to a {owner.task} model")
        if monitor.kind in ("performance", "concept_drift") and owner.schema_.target is None:
            errors.append(f"monitors[{i}].kind: {monitor.kind} needs schema.target on model {owner.name!r}")
    for i, rule in enumerate(config.alerts.rules):
        where = f"alerts.rules[{i}]"
        if rule.monitor is not None and rule.monitor not in monitors:
            errors.append(f"{where}.monitor: no monitor named {rule.monitor!r}")
        if rule.model is not None and rule.model not in models:
            errors.append(f"{where}.model: no model named {rule.model!r}")
        for name in rule.channels:
            if name not in channels:
                errors.append(f"{where}.channels: no channel named {name!r}")
        watched = monitors.get(rule.monitor or "")
        kinds = _RULE_MONITOR_KINDS.get(rule.when)
        if watched is not None and kinds is not None and watched.kind not in kinds:
            errors.append(f"{where}.when: a {rule.when} rule needs a {' or '.join(kinds)} "
                          f"monitor; {watched.name!r} is {watched.kind}")
        if watched is not None and watched.kind == "performance" and rule.metric is not None \
                and rule.metric not in (watched.metrics or []):
            errors.append(f"{where}.metric: monitor {watched.name!r} does not compute {rule.metric!r}")
    return errors


_RULE_MONITOR_KINDS = {
    "dataset_drift": ("data_drift",),
    "feature_drift": ("data_drift",),
    "missing_values": ("data_drift",),
    "metric_below": ("performance",),
    "metric_drop": ("performance",),
    "detector_fired": ("concept_drift",),
}


def _duplicates(where: str, names: list[str]) -> list[str]:
    return [f"{where}: name {n!r} used twice" for n in sorted({n for n in names if names.count(n) > 1})]
