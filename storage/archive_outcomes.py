"""Outcomes in the retention roll-over: archived with their prediction's day, deleted, restored.

An outcome (:mod:`driftscope.storage.outcomes`) is keyed by (model, prediction id, outcome name)
and read only joined to a stored prediction's timestamp, so it belongs to the day of its
prediction: the roll-over of a version's day takes the outcomes of that day's predictions. An
outcome whose prediction is not stored yet stays in the store (it contributes to no window until
the prediction arrives). The first value of a key wins; an outcome stored after its key was
archived is a later duplicate, so reads and restores put the archived value first.
"""

import pandas as pd
import pyarrow as pa
from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.orm import Session

from driftscope.storage.archive_rows import IN_SLICE, held_elsewhere, utc_table
from driftscope.storage.db import rowcount
from driftscope.storage.models import Model, ModelVersion, Outcome, Prediction

ARCHIVED_COLUMNS = ("prediction_id", "outcome", "value", "ts", "received_at")
"""The columns of an archived ``outcomes`` part."""


def day_outcomes(session: Session, version_id: int, chunk_ids: list[int]) -> tuple[list[int], pa.Table]:
    """Store ids and table (:data:`ARCHIVED_COLUMNS`) of the outcomes of the predictions in ``chunk_ids``."""
    rows = session.execute(
        select(Outcome.id, Outcome.prediction_id, Outcome.outcome, Outcome.value, Outcome.ts, Outcome.received_at)
        .join(Prediction, (Prediction.prediction_id == Outcome.prediction_id)
              & (Prediction.model_version_id == version_id))
        .join(ModelVersion, ModelVersion.id == version_id)
        .where(Outcome.model_id == ModelVersion.model_id, Prediction.chunk_id.in_(chunk_ids))
        .order_by(Outcome.prediction_id, Outcome.outcome)
    ).all()
    frame = pd.DataFrame([r[1:] for r in rows], columns=list(ARCHIVED_COLUMNS))
    return [int(r[0]) for r in rows], utc_table(frame.astype({"value": "float64"}))


def delete_outcomes(session: Session, version_id: int, ids: list[int], outcomes: pa.Table) -> None:
    """Delete the archived outcomes ``ids``, except those another version's stored predictions still join."""
    keep = held_elsewhere(session, model_version_id=version_id,
                          prediction_ids=sorted(set(outcomes.column("prediction_id").to_pylist())))
    gone = [i for i, p in zip(ids, outcomes.column("prediction_id").to_pylist(), strict=True) if p not in keep]
    for start in range(0, len(gone), IN_SLICE):
        session.execute(delete(Outcome).where(Outcome.id.in_(gone[start:start + IN_SLICE])))
    session.flush()


def restore_outcomes(session: Session, model_id: int, tables: list[pa.Table]) -> int:
    """Put archived outcomes back; return how many keys the store lacked. Flushes, never commits.

    A stored value of an archived key arrived after the archived one, so the archived value replaces it
    (the first value wins, as it did for reads while the day was archived). Writers of the model's
    outcomes are held off by the same row lock :func:`~driftscope.storage.outcomes.write_outcomes` takes.
    """
    if not tables:
        return 0
    session.execute(select(Model.id).where(Model.id == model_id).with_for_update(key_share=True))
    frame = pa.concat_tables(tables, promote_options="permissive").to_pandas()
    keys = list(zip(frame["prediction_id"], frame["outcome"], strict=True))
    replaced = 0
    for start in range(0, len(keys), IN_SLICE):
        replaced += rowcount(session.execute(delete(Outcome).where(
            Outcome.model_id == model_id,
            tuple_(Outcome.prediction_id, Outcome.outcome).in_(keys[start:start + IN_SLICE]))))
    session.execute(insert(Outcome), [
        {"model_id": model_id, "prediction_id": r.prediction_id, "outcome": r.outcome, "value": float(r.value),
         "ts": r.ts.to_pydatetime(), "received_at": r.received_at.to_pydatetime()}
        for r in frame.itertuples(index=False)])
    session.flush()
    return len(frame) - replaced

