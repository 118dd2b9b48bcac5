"""Models, versions, reference datasets and monitor definitions: register idempotently, look up.

Every ``ensure_*`` function returns what it did (``"created"``, ``"updated"`` or ``"unchanged"``),
so ``driftscope apply`` can report a second run as a no-op.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from driftscope.errors import NotFoundError, SchemaError
from driftscope.storage.arrow_frames import decode_frames, encode_frame
from driftscope.storage.calibration import delete_nulls
from driftscope.storage.models import Model, ModelVersion, MonitorDefinition, ReferenceDataset

Change = Literal["created", "updated", "unchanged"]
RESERVED_COLUMNS = frozenset({"prediction_id", "ts", "prediction", "probability", "label", "latency_ms", "status"})


@dataclass(frozen=True)
class VersionInfo:
    """A model version as the rest of driftscope sees it."""

    id: int
    model_id: int
    model: str
    task: str
    version: str
    status: str
    column_schema: dict[str, Any]

    @property
    def features(self) -> dict[str, str]:
        """Feature name -> type (numeric, categorical, binary)."""
        return dict(self.column_schema["features"])


@dataclass(frozen=True)
class MonitorInfo:
    """A registered monitor definition."""

    id: int
    name: str
    model_id: int
    kind: str
    schedule: str | None
    window_seconds: int
    settings: dict[str, Any]


def schema_hash(column_schema: dict[str, Any]) -> str:
    """SHA-256 of the schema's canonical JSON (sorted keys), so key order does not matter.

    Examples
    --------
    >>> schema_hash({"a": 1, "b": 2}) == schema_hash({"b": 2, "a": 1})
    True
    """
    return hashlib.sha256(json.dumps(column_schema, sort_keys=True, default=str).encode()).hexdigest()


def ensure_model(session: Session, *, name: str, task: str, retrain_webhook: str | None) -> tuple[int, Change]:
    """Register a model or update its retrain webhook; a changed task is refused."""
    model = session.execute(select(Model).where(Model.name == name)).scalar_one_or_none()
    if model is None:
        model = Model(name=name, task=task, retrain_webhook=retrain_webhook)
        session.add(model)
        session.flush()
        return model.id, "created"
    if model.task != task:
        raise SchemaError(
            f"model {name!r} is registered as {model.task}, the config says {task}; "
            "a model's task cannot change: register a new model name"
        )
    if model.retrain_webhook != retrain_webhook:
        model.retrain_webhook = retrain_webhook
        session.flush()
        return model.id, "updated"
    return model.id, "unchanged"


def ensure_version(
    session: Session, *, model_id: int, version: str, column_schema: dict[str, Any], status: str
) -> tuple[int, Change]:
    """Register a version; its schema is fixed once registered (a new version is the way to change it)."""
    clash = RESERVED_COLUMNS & set(column_schema.get("features", {}))
    if clash:
        raise SchemaError(f"version {version!r}: feature names {sorted(clash)} are reserved; rename them")
    digest = schema_hash(column_schema)
    row = session.execute(
        select(ModelVersion).where(ModelVersion.model_id == model_id, ModelVersion.version == version)
    ).scalar_one_or_none()
    if row is None:
        row = ModelVersion(
            model_id=model_id, version=version, column_schema=column_schema, schema_hash=digest, status=status
        )
        session.add(row)
        session.flush()
        return row.id, "created"
    if row.schema_hash != digest:
        raise SchemaError(
            f"version {version!r} is already registered with a different column schema "
            f"({_schema_diff(row.column_schema, column_schema)}); a registered version's schema cannot "
            "change: add a new version with the new schema"
        )
    if row.status != status:
        row.status = status
        session.flush()
        return row.id, "updated"
    return row.id, "unchanged"


def _schema_diff(old: dict[str, Any], new: dict[str, Any]) -> str:
    keys = sorted(set(old) | set(new))
    changed = [k for k in keys if old.get(k) != new.get(k)]
    if "features" in changed:
        of, nf = old.get("features", {}), new.get("features", {})
        parts = [f"+{k}" for k in nf if k not in of] + [f"-{k}" for k in of if k not in nf]
        parts += [f"{k}: {of[k]} -> {nf[k]}" for k in of if k in nf and of[k] != nf[k]]
        changed = [c for c in changed if c != "features"] + [f"features {', '.join(parts)}"]
    return "changed: " + "; ".join(changed)


def ensure_reference(
    session: Session, *, model_version_id: int, frame: pd.DataFrame, source: str, replace: bool = False
) -> Change:
    """Store the version's reference rows (canonical columns); identical content is a no-op.

    Different content for a version that already has a reference is refused unless ``replace``:
    results computed against the old reference would silently stop being comparable.
    """
    blob = encode_frame(frame)
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()
    row = session.execute(
        select(ReferenceDataset).where(ReferenceDataset.model_version_id == model_version_id)
    ).scalar_one_or_none()
    if row is None:
        session.add(
            ReferenceDataset(
                model_version_id=model_version_id, source=source, sha256=digest, n_rows=len(frame), data=blob
            )
        )
        session.flush()
        return "created"
    if row.sha256 == digest:
        return "unchanged"
    if not replace:
        raise SchemaError(
            f"the reference data at {source} differs from the one registered for this version "
            f"(from {row.source}); pass --replace-references to replace it"
        )
    row.source, row.sha256, row.n_rows, row.data = source, digest, len(frame), blob
    delete_nulls(session, model_version_id=model_version_id)
    session.flush()
    return "updated"


def load_reference(session: Session, *, model_version_id: int) -> pd.DataFrame:
    """The reference rows of a version in canonical columns."""
    blob = session.execute(
        select(ReferenceDataset.data).where(ReferenceDataset.model_version_id == model_version_id)
    ).scalar_one_or_none()
    if blob is None:
        raise NotFoundError(f"model version id {model_version_id} has no reference data; run `driftscope apply`")
    return decode_frames([blob])


def ensure_monitor(
    session: Session,
    *,
    name: str,
    model_id: int,
    kind: str,
    schedule: str | None,
    window_seconds: int,
    settings: dict[str, Any],
) -> tuple[int, Change]:
    """Register or update a monitor definition."""
    row = session.execute(select(MonitorDefinition).where(MonitorDefinition.name == name)).scalar_one_or_none()
    values = {
        "model_id": model_id, "kind": kind, "schedule": schedule,
        "window_seconds": window_seconds, "settings": settings,
    }
    if row is None:
        row = MonitorDefinition(name=name, **values)
        session.add(row)
        session.flush()
        return row.id, "created"
    if all(getattr(row, k) == v for k, v in values.items()):
        return row.id, "unchanged"
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = func.current_timestamp()
    session.flush()
    return row.id, "updated"


def get_monitor(session: Session, name: str) -> MonitorInfo:
    """The monitor named ``name``."""
    row = session.execute(select(MonitorDefinition).where(MonitorDefinition.name == name)).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"no monitor named {name!r} in the store; run `driftscope apply`")
    return MonitorInfo(row.id, row.name, row.model_id, row.kind, row.schedule, row.window_seconds, row.settings)


def get_model_id(session: Session, name: str) -> int:
    """Id of the model named ``name``."""
    model_id = session.execute(select(Model.id).where(Model.name == name)).scalar_one_or_none()
    if model_id is None:
        known = ", ".join(session.execute(select(Model.name).order_by(Model.name)).scalars()) or "none"
        raise NotFoundError(f"no model named {name!r} in the store (registered: {known}); run `driftscope apply`")
    return model_id


def get_version(session: Session, model: str, version: str) -> VersionInfo:
    """The version ``version`` of model ``model``."""
    for info in list_versions(session, model=model):
        if info.version == version:
            return info
    get_model_id(session, model)
    raise NotFoundError(f"model {model!r} has no version {version!r} in the store; run `driftscope apply`")


def get_version_by_id(session: Session, model_version_id: int) -> VersionInfo:
    """The version with database id ``model_version_id``."""
    for info in list_versions(session):
        if info.id == model_version_id:
            return info
    raise NotFoundError(f"no model version with id {model_version_id}")


def list_versions(session: Session, *, model: str | None = None) -> list[VersionInfo]:
    """Every registered version (optionally of one model), ordered by model name and version id."""
    query = select(ModelVersion, Model.name, Model.task).join(Model, Model.id == ModelVersion.model_id)
    if model is not None:
        query = query.where(Model.name == model)
    rows = session.execute(query.order_by(Model.name, ModelVersion.id)).all()
    return [
        VersionInfo(v.id, v.model_id, name, task, v.version, v.status, v.column_schema) for v, name, task in rows
    ]


def list_monitors(session: Session, *, model_id: int | None = None) -> list[MonitorInfo]:
    """Every registered monitor (optionally of one model), ordered by name."""
    query = select(MonitorDefinition)
    if model_id is not None:
        query = query.where(MonitorDefinition.model_id == model_id)
    return [
        MonitorInfo(r.id, r.name, r.model_id, r.kind, r.schedule, r.window_seconds, r.settings)
        for r in session.execute(query.order_by(MonitorDefinition.name)).scalars()
    ]


def monitor_kinds(session: Session, *, model_id: int) -> list[str]:
    """The kinds of the monitors registered for a model (``data_drift``, ``performance``...), sorted."""
    return sorted({m.kind for m in list_monitors(session, model_id=model_id)})
