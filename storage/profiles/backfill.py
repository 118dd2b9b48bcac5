"""Rebuild profiles from what the store holds: specs from the reference, profiles from the chunks.

Run by migration 0008 for existing stores and by ``driftscope profiles backfill``; days moved to
the archive have no chunks in the store and are not profiled (restore them first).
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from driftscope.storage.arrow_frames import decode_frames, decode_table
from driftscope.storage.models import ColumnProfileRow, Model, ModelVersion, PredictionChunk, ReferenceDataset
from driftscope.storage.profiles.compute import profile_table
from driftscope.storage.profiles.days import mark_version
from driftscope.storage.profiles.rebuild import delete_rebuildable_hours
from driftscope.storage.profiles.spec import build_specs
from driftscope.storage.profiles.store import add_profiles, save_specs


def profiled_types(column_schema: dict[str, Any], task: str) -> dict[str, str]:
    """The columns a version profiles and their types: features, ``prediction`` and ``probability``."""
    output = {"regression": "numeric", "binary_classification": "binary"}.get(task, "categorical")
    types = {**dict(column_schema.get("features", {})), "prediction": output}
    if column_schema.get("probability") is not None:
        types["probability"] = "numeric"
    return types


def backfill_version(session: Session, *, model_version_id: int) -> int:
    """Recompute the specs and hourly profiles of one version; returns the rows profiled (0: no reference).

    Buckets whose rows are not in the store (a lake's days, archived days:
    :mod:`~driftscope.storage.profiles.rebuild`) are left as they are; the specs rebuilt from the
    same reference are the ones they were computed with.
    """
    found = session.execute(
        select(ReferenceDataset.data, ModelVersion.column_schema, Model.task)
        .join(ModelVersion, ModelVersion.id == ReferenceDataset.model_version_id)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(ReferenceDataset.model_version_id == model_version_id)
    ).one_or_none()
    if found is None:
        return 0
    blob, column_schema, task = found
    specs = build_specs(decode_frames([blob]), profiled_types(column_schema, task))
    save_specs(session, model_version_id=model_version_id, specs=specs)
    delete_rebuildable_hours(session, ColumnProfileRow, model_version_id=model_version_id)
    mark_version(session, model_version_id=model_version_id)
    chunk_ids = session.execute(select(PredictionChunk.id).where(PredictionChunk.model_version_id == model_version_id)
                                .order_by(PredictionChunk.id)).scalars().all()
    n_rows = 0
    for chunk_id in chunk_ids:
        data = session.execute(select(PredictionChunk.data).where(PredictionChunk.id == chunk_id)).scalar_one()
        table = decode_table(data)
        add_profiles(session, model_version_id=model_version_id, profiles=profile_table(table, specs))
        n_rows += table.num_rows
    return n_rows


def backfill_all(session: Session) -> dict[int, int]:
    """:func:`backfill_version` for every version with a reference; rows profiled by version id."""
    ids = session.execute(select(ReferenceDataset.model_version_id).order_by(ReferenceDataset.model_version_id))
    return {version_id: backfill_version(session, model_version_id=version_id) for version_id in ids.scalars().all()}
