"""Helpers over the raw rows the roll-over moves: Arrow tables with UTC times, ids another version still needs.

Shared by :mod:`driftscope.storage.archive` (labels, predictions) and
:mod:`driftscope.storage.archive_outcomes` (outcomes).
"""

from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from driftscope.storage.models import ModelVersion, Prediction

IN_SLICE = 5_000
"""Ids per ``IN (...)`` list: under SQLite's and PostgreSQL's bind-parameter limits."""


def utc_table(frame: pd.DataFrame) -> pa.Table:
    """``frame`` as an Arrow table without pandas metadata; its ``ts``, ``*_ts``, ``*_at`` columns as UTC µs."""
    for column in frame.columns:
        if column.endswith(("_ts", "_at")) or column == "ts":
            frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[us, UTC]")
    return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)


def held_elsewhere(session: Session, *, model_version_id: int, prediction_ids: list[str]) -> set[str]:
    """Those of ``prediction_ids`` that another version of the same model still has stored predictions for.

    Labels and outcomes are keyed by (model, prediction id), so a shadow version that scored the same
    request joins the same label or outcome: archiving one version's day must leave it in the store.
    """
    model_id = select(ModelVersion.model_id).where(ModelVersion.id == model_version_id).scalar_subquery()
    others = select(ModelVersion.id).where(ModelVersion.model_id == model_id, ModelVersion.id != model_version_id)
    found: list[Any] = []
    for start in range(0, len(prediction_ids), IN_SLICE):
        found += session.execute(select(Prediction.prediction_id).distinct().where(
            Prediction.model_version_id.in_(others),
            Prediction.prediction_id.in_(prediction_ids[start:start + IN_SLICE]))).scalars().all()
    return set(found)
