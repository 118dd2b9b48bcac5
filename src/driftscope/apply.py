"""``driftscope apply``: register models, versions, reference data and monitors from the config.

Idempotent: a second run reports every item ``unchanged``. A changed schema for a registered
version is refused (a new version is the way).
"""

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine

from driftscope.collectors.coerce import as_binary, as_float, as_text
from driftscope.config import Config, ModelConfig, MonitorConfig, SchemaConfig
from driftscope.errors import SchemaError
from driftscope.modelspec import probability_column
from driftscope.storage.db import transaction
from driftscope.storage.profiles.backfill import backfill_version
from driftscope.storage.profiles.store import load_specs
from driftscope.storage.registry import Change, ensure_model, ensure_monitor, ensure_reference, ensure_version
from driftscope.tabular import read_table


@dataclass(frozen=True)
class Applied:
    """One registered item and what applying did to it."""

    kind: str
    name: str
    change: Change


SERVING_ROLES = ("latency", "status", "outcomes")

def apply_config(config: Config, engine: Engine, *, replace_references: bool = False) -> list[Applied]:
    """Register everything the config declares, in one transaction (all or nothing)."""
    references = {
        (m.name, v.version): canonical_reference(v.reference, m.schema_for(v.version))
        for m in config.models for v in m.versions
    }
    done: list[Applied] = []
    with transaction(engine) as session:
        model_ids: dict[str, int] = {}
        for model in config.models:
            model_id, change = ensure_model(
                session, name=model.name, task=model.task, retrain_webhook=model.retrain_webhook
            )
            model_ids[model.name] = model_id
            done.append(Applied("model", model.name, change))
            for version in model.versions:
                schema = model.schema_for(version.version)
                version_id, change = ensure_version(
                    session, model_id=model_id, version=version.version,
                    column_schema=schema_document(schema), status=version.status,
                )
                label = f"{model.name} {version.version}"
                done.append(Applied("version", label, change))
                frame = references[(model.name, version.version)]
                change = ensure_reference(
                    session, model_version_id=version_id, frame=frame, source=version.reference,
                    replace=replace_references,
                )
                done.append(Applied("reference", label, change))
                if change != "unchanged" or not load_specs(session, model_version_id=version_id):
                    backfill_version(session, model_version_id=version_id)
        for monitor in config.monitors:
            _, change = ensure_monitor(
                session, name=monitor.name, model_id=model_ids[monitor.model], kind=monitor.kind,
                schedule=monitor.schedule, window_seconds=int(monitor.window.total_seconds()),
                settings=monitor_settings(monitor, config.model(monitor.model)),
            )
            done.append(Applied("monitor", monitor.name, change))
    return done


def schema_document(schema: SchemaConfig) -> dict:
    """The schema as stored with a version (JSON-safe, role names as in the config).

    ``probabilities`` and the serving roles (``latency``, ``status``, ``outcomes``) appear only when
    set, so versions registered before they existed keep their schema hash.
    """
    unset = {role for role in ("probabilities", *SERVING_ROLES) if not getattr(schema, role)}
    return schema.model_dump(mode="json", by_alias=True, exclude=unset)


def monitor_settings(monitor: MonitorConfig, model: ModelConfig) -> dict:
    """The monitor's kind-specific settings as stored with its definition."""
    settings = monitor.model_dump(
        mode="json", exclude={"name", "model", "kind", "schedule", "window"}, exclude_none=True
    )
    settings["versions"] = monitor.versions or [v.version for v in model.versions]
    return settings


def canonical_reference(path: str, schema: SchemaConfig) -> pd.DataFrame:
    """Read a reference file and rename its columns to canonical names.

    Features are required and converted exactly as the collectors convert logged rows (numeric:
    float64; binary: 0.0 / 1.0; categorical: text), so the reference and every window compare like
    with like. ``prediction``, ``probability`` and ``label`` (the target) are kept when present.
    Raises :class:`SchemaError` naming the file, the columns and the offending values.
    """
    frame = read_table(path)
    missing = [c for c in schema.features if c not in frame.columns]
    if missing:
        raise SchemaError(f"{path}: reference data lacks feature columns {missing}; it has {list(frame.columns)}")
    roles = {schema.prediction: "prediction", schema.probability: "probability", schema.target: "label"}
    roles |= {column: probability_column(cls) for cls, column in (schema.probabilities or {}).items()}
    out = pd.DataFrame({canonical: frame[source] for source, canonical in roles.items()
                        if source is not None and source in frame.columns})
    problems = []
    for feature, kind in schema.features.items():
        coerced = _FEATURE_COERCION[kind](frame[feature])
        if coerced.invalid.any():
            bad = frame[feature][coerced.invalid]
            problems.append(f"{feature} ({kind}): {int(coerced.invalid.sum())} invalid values, e.g. "
                            f"{bad.head(3).tolist()} at rows {bad.head(3).index.tolist()}")
        out[feature] = coerced.values.to_numpy()
    if problems:
        raise SchemaError(f"{path}: reference values do not fit the schema: " + "; ".join(problems))
    return out.reset_index(drop=True)


_FEATURE_COERCION = {"numeric": as_float, "binary": as_binary, "categorical": as_text}
