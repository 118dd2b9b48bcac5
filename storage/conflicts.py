"""Conflicting duplicates: a prediction id stored before, arriving again with different content.

A re-read of the same rows (after a crash, a rewritten file) is a plain duplicate; the same id with
another timestamp, prediction or feature value is a *conflict*: the stored row stays (the first
wins) and the caller quarantines the newcomer, as an idempotency key reused with different
parameters is rejected, not ignored.

Only ids already stored are compared, and only when a batch holds some. Their stored rows are
looked for first in the chunks whose time range overlaps the batch's (one query; a re-read finds
every row there), then by primary key for the ids still missing (a conflict that moved the
timestamp). Each id is matched to its stored row by one Arrow hash lookup and the two sides are
compared column by column, on every column the newcomer has: equal values, both null, or both
NaN are the same content; categories compare as their text; timestamps at the stored microsecond.
"""

from collections.abc import Sequence

import numpy as np
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
    ids = table.column("prediction_id").cast(pa.string())
    bounds = pc.min_max(table.column("ts"))
    overlapping = session.execute(select(PredictionChunk.data).where(
        PredictionChunk.model_version_id == model_version_id, PredictionChunk.id != skip_chunk,
        PredictionChunk.min_ts <= bounds["max"].as_py(), PredictionChunk.max_ts >= bounds["min"].as_py(),
    )).scalars().all()
    found = _rows_of(overlapping, ids)
    missing = pc.invert(pc.is_in(ids, found.column("prediction_id"))) if found.num_rows else None
    rest = ids if missing is None else ids.filter(missing)
    if len(rest):
        found = pa.concat_tables([found, _rows_of(_chunks_holding(session, model_version_id, skip_chunk, rest), rest)],
                                 promote_options="permissive")
    return _differs(table, found)


def _chunks_holding(session: Session, model_version_id: int, skip_chunk: int, ids: pa.ChunkedArray) -> list[bytes]:
    """Blobs of the chunks that hold any of ``ids`` (primary-key lookups, ``_LOOKUP_IDS`` per query)."""
    values = ids.to_pylist()
    chunk_ids: set[int] = set()
    for start in range(0, len(values), _LOOKUP_IDS):
        chunk_ids.update(session.execute(select(Prediction.chunk_id).where(
            Prediction.model_version_id == model_version_id, Prediction.chunk_id != skip_chunk,
            Prediction.prediction_id.in_(values[start:start + _LOOKUP_IDS]),
        )).scalars())
    if not chunk_ids:
        return []
    return list(session.execute(select(PredictionChunk.data).where(PredictionChunk.id.in_(chunk_ids))).scalars())


def _rows_of(blobs: Sequence[bytes], ids: pa.ChunkedArray) -> pa.Table:
    """The rows of the decoded ``blobs`` whose id is in ``ids``, dictionaries decoded to plain values."""
    tables = []
    for blob in blobs:
        table = _plain(decode_table(blob))
        tables.append(table.filter(pc.is_in(table.column("prediction_id"), ids)))
    if not tables:
        return pa.table({"prediction_id": pa.array([], pa.string())})
    return pa.concat_tables(tables, promote_options="permissive")


def _plain(table: pa.Table) -> pa.Table:
    """``table`` with dictionary columns cast to their values (so they join and compare as text)."""
    columns = [column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
               for column in table.columns]
    return pa.Table.from_arrays(columns, names=table.column_names)


def _differs(table: pa.Table, stored: pa.Table) -> np.ndarray:
    """Match ``table``'s ids in ``stored`` (one hash lookup, no join) and compare every column of ``table``."""
    out = np.zeros(table.num_rows, dtype=bool)
    if stored.num_rows == 0:
        return out
    new = _plain(table)
    where = pc.index_in(new.column("prediction_id"), value_set=stored.column("prediction_id").combine_chunks())
    found = pc.is_valid(where)
    rows = np.flatnonzero(found.to_numpy(zero_copy_only=False))
    old_rows = pa.array(where.filter(found).to_numpy(zero_copy_only=False))
    differs = np.zeros(len(rows), dtype=bool)
    for name in table.column_names:
        if name == "prediction_id":
            continue
        if name not in stored.column_names:
            differs[:] = True
            break
        differs |= ~_same(new.column(name).take(pa.array(rows)), stored.column(name).take(old_rows))
    out[rows] = differs
    return out


def _same(a: pa.ChunkedArray, b: pa.ChunkedArray) -> np.ndarray:
    """Equal values, both null, or both NaN (element-wise)."""
    if a.type != b.type:
        try:
            b = b.cast(a.type)
        except pa.ArrowInvalid:
            return np.zeros(len(a), dtype=bool)
    same = pc.fill_null(pc.equal(a, b), False)
    same = pc.or_(same, pc.and_(pc.is_null(a), pc.is_null(b)))
    if pa.types.is_floating(a.type):
        same = pc.or_(same, pc.fill_null(pc.and_(pc.is_nan(a), pc.is_nan(b)), False))
    return np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)
