"""Conflicting duplicates: a prediction id stored before, arriving again with different content.

A re-read of the same rows (after a crash, a rewritten file) is a plain duplicate; the same id with
another timestamp, prediction or feature value is a *conflict*: the stored row stays (the first
wins) and the caller quarantines the newcomer, as an idempotency key reused with different
parameters is rejected, not ignored. Content is compared on every column the newcomer has, by
``pandas.util.hash_pandas_object`` of both sides (categorical and plain text hash alike, NaN
equals NaN, timestamps at the stored microsecond).
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.orm import Session

from driftscope.storage.arrow_frames import decode_table
from driftscope.storage.models import Prediction, PredictionChunk

_LOOKUP_IDS = 10_000


def differs_from_stored(session: Session, *, model_version_id: int, table: pa.Table, skip_chunk: int) -> np.ndarray:
    """Which rows of ``table`` (canonical columns, ids already stored) differ from the stored row of their id.

    ``skip_chunk`` is the chunk being written (its rows are the new ones). An id whose stored
    row cannot be found counts as equal (a plain duplicate).
    """
    if table.num_rows == 0:
        return np.zeros(0, dtype=bool)
    ids = table.column("prediction_id").to_pylist()
    chunk_of: dict[int, list[str]] = {}
    for start in range(0, len(ids), _LOOKUP_IDS):
        rows = session.execute(select(Prediction.prediction_id, Prediction.chunk_id).where(
            Prediction.model_version_id == model_version_id, Prediction.chunk_id != skip_chunk,
            Prediction.prediction_id.in_(ids[start:start + _LOOKUP_IDS]),
        )).all()
        for prediction_id, chunk_id in rows:
            chunk_of.setdefault(chunk_id, []).append(prediction_id)
    stored = _stored_rows(session, chunk_of)
    if stored is None:
        return np.zeros(table.num_rows, dtype=bool)
    new = table.to_pandas()
    if any(column not in stored.columns for column in new.columns):
        return new["prediction_id"].isin(stored["prediction_id"]).to_numpy()
    stored = stored[list(new.columns)]
    new_digest = pd.util.hash_pandas_object(new, index=False).to_numpy()
    old_digest = pd.util.hash_pandas_object(stored, index=False).to_numpy()
    where = pd.Index(stored["prediction_id"].astype(object)).get_indexer(new["prediction_id"].astype(object))
    return (where >= 0) & (old_digest[np.maximum(where, 0)] != new_digest)


def _stored_rows(session: Session, chunk_of: dict[int, list[str]]) -> pd.DataFrame | None:
    """The stored rows of the given ids, from their chunks (decoded once per chunk)."""
    if not chunk_of:
        return None
    blobs = session.execute(select(PredictionChunk.id, PredictionChunk.data)
                            .where(PredictionChunk.id.in_(list(chunk_of)))).all()
    tables = []
    for chunk_id, blob in blobs:
        table = decode_table(blob)
        keep = pc.is_in(table.column("prediction_id").cast(pa.string()), pa.array(chunk_of[chunk_id], pa.string()))
        tables.append(table.filter(keep))
    return pa.concat_tables(tables, promote_options="permissive").unify_dictionaries().to_pandas()
