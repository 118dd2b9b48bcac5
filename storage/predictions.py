"""Write and read logged predictions (see :mod:`driftscope.storage.models` for the columnar layout).

Frames here are *canonical*: columns ``prediction_id`` (str), ``ts`` (datetime64, UTC),
``prediction``, optional ``probability``, then the features under their schema names.
"""

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from driftscope.storage.archive_reads import archived_predictions
from driftscope.storage.arrow_frames import decode_frames, encode_table
from driftscope.storage.bulk import insert_frame_ignoring
from driftscope.storage.conflicts import differs_from_stored
from driftscope.storage.db import is_postgres
from driftscope.storage.models import ModelVersion, Prediction, PredictionChunk, PredictionVolume
from driftscope.storage.profiles import ColumnProfile, ColumnSpec
from driftscope.storage.profiles.compute import profile_table
from driftscope.storage.profiles.labelled_store import add_labelled_predictions
from driftscope.storage.profiles.store import BucketKey, add_stored_rows

CANONICAL_COLUMNS = ("prediction_id", "ts", "prediction", "probability")
_HOUR_US = 3_600_000_000
_DAY_US = 24 * _HOUR_US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LOOKUP_IDS = 10_000


@dataclass(frozen=True)
class WriteCounts:
    """Outcome of a write: rows stored, rows skipped as duplicates, and conflicting duplicates.

    ``conflict_rows`` are the positions (into the written frame) of rows whose id was stored before
    with different content (see :mod:`driftscope.storage.conflicts`); they are not stored, and
    ``stored + duplicates + len(conflict_rows)`` is the number of rows written.
    """

    stored: int
    duplicates: int
    conflict_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass(frozen=True)
class DayChunk:
    """One UTC day of a batch, deduplicated: its rows as Arrow, their timestamps and new-category flags, the chunk.

    ``table`` holds the canonical columns with ``ts`` as ``timestamp[us, UTC]``; ``micros`` is that
    ``ts`` as int64 microseconds since the Unix epoch; ``blob`` is ``table`` encoded by
    :func:`driftscope.storage.arrow_frames.encode_table`; ``rows`` are the positions of the
    day's rows in the frame given to :func:`encode_predictions`; ``profiles`` are the hourly
    profiles of ``table`` when they were computed ahead (see :class:`EncodedPredictions`).
    """

    table: pa.Table
    micros: np.ndarray
    new_categories: np.ndarray
    blob: bytes
    rows: np.ndarray
    profiles: Mapping[BucketKey, ColumnProfile] | None = None


@dataclass(frozen=True)
class EncodedPredictions:
    """A batch ready to write: its day chunks and how many rows it came from (repeats included).

    ``profile_specs`` are the specs the days' ``profiles`` were computed against (empty: none were).
    """

    days: list[DayChunk]
    n_rows: int
    profile_specs: Mapping[str, ColumnSpec] = field(default_factory=dict)


def encode_predictions(frame: pd.DataFrame, new_categories: np.ndarray | None = None, *,
                       profile_specs: Mapping[str, ColumnSpec] | None = None) -> EncodedPredictions:
    """The database-free part of :func:`write_predictions`: dedupe, split by UTC day, encode the chunks.

    Callers that prepare batches ahead of the writer (the collectors) run it off the writer's thread
    and pass the result to :func:`write_encoded`. ``new_categories`` is as in :func:`write_predictions`.
    With the version's ``profile_specs`` each day's hourly profiles are computed here too, so the
    writer's transaction only merges and stores them (it profiles the rows itself when some of a day
    were stored before, or when the version's specs changed since).
    The frame becomes one Arrow table once; deduplication, the split by day and the chunks work on
    that table (timestamps floored to the microsecond), so no pandas copy of the batch is made.

    Examples
    --------
    >>> frame = pd.DataFrame({"prediction_id": ["a", "a", "b"], "ts": pd.to_datetime(
    ...     ["2026-01-01 23:00", "2026-01-01 23:00", "2026-01-02 01:00"], utc=True), "prediction": [1, 1, 0]})
    >>> encoded = encode_predictions(frame)
    >>> encoded.n_rows, [day.table.num_rows for day in encoded.days]
    (3, [1, 1])
    """
    if frame.empty:
        return EncodedPredictions([], 0)
    flags = np.zeros(len(frame), dtype=bool) if new_categories is None else np.asarray(new_categories, dtype=bool)
    micros = _floor_micros(frame["ts"])
    table = pa.Table.from_pandas(frame.drop(columns=["ts"]), preserve_index=False).replace_schema_metadata(None)
    table = table.add_column(1, "ts", pa.array(micros, pa.int64()).cast(pa.timestamp("us", tz="UTC")))
    first = ~frame["prediction_id"].duplicated(keep="first").to_numpy()
    positions = np.arange(len(frame))
    if not first.all():
        table, flags, micros, positions = table.filter(pa.array(first)), flags[first], micros[first], positions[first]
    specs = dict(profile_specs or {})
    days = []
    for rows in _day_slices(micros):
        day_table = _take(table, rows)
        days.append(DayChunk(day_table, micros[rows], flags[rows], encode_table(day_table), positions[rows],
                             profile_table(day_table, specs) if specs else None))
    return EncodedPredictions(days, len(frame), specs)


def write_predictions(
    session: Session,
    *,
    model_version_id: int,
    frame: pd.DataFrame,
    source: str,
    new_categories: np.ndarray | None = None,
    count_volume: bool = True,
) -> WriteCounts:
    """Store new predictions of one model version; skip ids already stored. Flushes, never commits.

    Rows are deduplicated on ``prediction_id`` within the batch (first wins) and against the store,
    then written as one Arrow chunk per UTC day plus one narrow index row each, and the hourly
    volume and the hourly profiles (:mod:`driftscope.storage.profiles`) of the stored rows are
    updated, and the label profiles of stored rows whose label came first. Run it inside the
    caller's transaction together with the watermark update.

    Parameters
    ----------
    new_categories : numpy.ndarray of bool, optional
        Aligned with ``frame``: True where a row holds a category value the version's reference
        never saw. Stored rows add to ``PredictionVolume.n_new_categories`` of their hour.
    count_volume : bool
        False when the rows were counted before (restored from the archive): the volume stays.
    """
    return write_encoded(session, model_version_id=model_version_id,
                         encoded=encode_predictions(frame, new_categories), source=source, count_volume=count_volume)


def write_encoded(session: Session, *, model_version_id: int, encoded: EncodedPredictions, source: str,
                  count_volume: bool = True) -> WriteCounts:
    """Store a batch from :func:`encode_predictions` (see :func:`write_predictions`). Flushes, never commits.

    Writers of the same version are serialised by a row lock on the version (``FOR NO KEY
    UPDATE`` on PostgreSQL; SQLite's write lock already serialises), so two collectors never race
    on the same prediction id. Index rows go in with ``ON CONFLICT DO NOTHING``; only when some
    were already stored is a chunk re-encoded without them, so a first-time batch costs one bulk
    insert and no existence check.
    """
    if not encoded.days:
        return WriteCounts(0, encoded.n_rows)
    _lock_version(session, model_version_id)
    written = [_write_day(session, model_version_id, day, source) for day in encoded.days]
    stored = [day for day, _ in written]
    conflicts = np.concatenate([rows for _, rows in written]).astype(np.int64)
    n_stored = sum(day.table.num_rows for day in stored)
    if n_stored and count_volume:
        _add_volume(session, model_version_id, np.concatenate([day.micros for day in stored]),
                    np.concatenate([day.new_categories for day in stored]))
        kept = [day for day in stored if day.table.num_rows]
        add_stored_rows(session, model_version_id=model_version_id, tables=[day.table for day in kept],
                        computed=[day.profiles for day in kept], computed_specs=encoded.profile_specs)
        add_labelled_predictions(session, model_version_id=model_version_id, tables=[day.table for day in kept])
    return WriteCounts(stored=n_stored, duplicates=encoded.n_rows - n_stored - len(conflicts),
                       conflict_rows=np.sort(conflicts))


def _lock_version(session: Session, model_version_id: int) -> None:
    session.execute(
        select(ModelVersion.id).where(ModelVersion.id == model_version_id).with_for_update(key_share=True)
    )


def _write_day(session: Session, model_version_id: int, day: DayChunk, source: str) -> tuple[DayChunk, np.ndarray]:
    """Write one UTC day as a chunk plus index rows; return the part of the day that was new.

    Also returns the rows (positions, as ``day.rows``) whose id was stored before with different
    content: conflicting duplicates, compared only when some ids were stored already.
    """
    micros = day.micros
    chunk = PredictionChunk(
        model_version_id=model_version_id, min_ts=_utc(micros.min()), max_ts=_utc(micros.max()),
        n_rows=day.table.num_rows, source=source, data=day.blob,
    )
    session.add(chunk)
    session.flush()
    ids = pd.Series(pd.arrays.ArrowExtensionArray(day.table.column("prediction_id")))
    index = pd.DataFrame({"prediction_id": ids, "ts": pd.Series(micros.astype("datetime64[us]")).dt.tz_localize(UTC)})
    inserted = insert_frame_ignoring(session, "predictions", index, ("model_version_id", "prediction_id"),
                                     constants={"model_version_id": model_version_id, "chunk_id": chunk.id})
    if inserted == day.table.num_rows:
        return day, day.rows[:0]
    if inserted == 0:
        session.delete(chunk)
        session.flush()
        differs = differs_from_stored(session, model_version_id=model_version_id, table=day.table, skip_chunk=-1)
        empty = DayChunk(day.table.slice(0, 0), micros[:0], day.new_categories[:0], b"", day.rows[:0])
        return empty, day.rows[differs]
    new = ids.isin(_ids_of_chunk(session, model_version_id, chunk.id, ids)).to_numpy()
    old = np.flatnonzero(~new)
    differs = differs_from_stored(session, model_version_id=model_version_id, table=day.table.take(pa.array(old)),
                                  skip_chunk=chunk.id)
    table, micros = day.table.filter(pa.array(new)), micros[new]
    day_new = DayChunk(table, micros, day.new_categories[new], encode_table(table), day.rows[new])
    chunk.min_ts, chunk.max_ts, chunk.n_rows, chunk.data = (_utc(micros.min()), _utc(micros.max()), len(micros),
                                                            day_new.blob)
    session.flush()
    return day_new, day.rows[old[differs]]


def _ids_of_chunk(session: Session, model_version_id: int, chunk_id: int, ids: pd.Series) -> set[str]:
    """Which of ``ids`` went into the index under ``chunk_id``: primary-key lookups, ``_LOOKUP_IDS`` per query.

    Only a batch that was partly stored already needs this (a re-read after a crash, a rewritten
    file), so ``predictions`` carries no index on ``chunk_id`` that every insert would pay for.
    """
    values = ids.tolist()
    found: set[str] = set()
    for start in range(0, len(values), _LOOKUP_IDS):
        found.update(session.execute(select(Prediction.prediction_id).where(
            Prediction.model_version_id == model_version_id, Prediction.chunk_id == chunk_id,
            Prediction.prediction_id.in_(values[start:start + _LOOKUP_IDS]),
        )).scalars())
    return found


def read_window(
    session: Session, *, model_version_id: int, start: datetime, end: datetime
) -> pd.DataFrame:
    """Return the canonical frame of predictions with ``start <= ts < end`` (UTC), sorted by ts.

    Days rolled over to the archive (:mod:`driftscope.storage.archive_reads`) are read from their verified
    Parquet files, so a window reads the same rows before and after its days were archived; a
    prediction both archived and stored again (restored, or logged anew) appears once.
    """
    blobs = session.execute(
        select(PredictionChunk.data).where(
            PredictionChunk.model_version_id == model_version_id,
            PredictionChunk.min_ts < end,
            PredictionChunk.max_ts >= start,
        )
    ).scalars().all()
    archived = archived_predictions(session, model_version_id=model_version_id, start=start, end=end)
    frame = decode_frames(list(blobs), archived)
    if frame.empty:
        return frame
    if archived:
        frame = frame.loc[~frame["prediction_id"].duplicated(keep="first").to_numpy()]
    ts = frame["ts"]
    mask = (ts >= pd.Timestamp(start)) & (ts < pd.Timestamp(end))
    return frame.loc[mask.to_numpy()].sort_values("ts", kind="stable").reset_index(drop=True)


def count_predictions(session: Session, *, model_version_id: int, start: datetime, end: datetime) -> int:
    """Number of stored predictions with ``start <= ts < end``."""
    return session.execute(
        select(func.count()).select_from(Prediction).where(
            Prediction.model_version_id == model_version_id, Prediction.ts >= start, Prediction.ts < end
        )
    ).scalar_one()


def last_prediction_at(session: Session, *, model_version_id: int) -> datetime | None:
    """Timestamp of the newest stored prediction, or None."""
    return session.execute(
        select(func.max(Prediction.ts)).where(Prediction.model_version_id == model_version_id)
    ).scalar_one()


def hourly_volume(
    session: Session, *, model_version_id: int, start: datetime | None = None, end: datetime | None = None
) -> pd.DataFrame:
    """Predictions per UTC hour: columns ``hour`` (datetime, UTC), ``n_rows`` and ``n_new_categories``.

    ``n_new_categories`` counts the hour's rows holding a category value unseen in the reference.
    """
    query = select(PredictionVolume.hour, PredictionVolume.n_rows, PredictionVolume.n_new_categories).where(
        PredictionVolume.model_version_id == model_version_id
    )
    if start is not None:
        query = query.where(PredictionVolume.hour >= start)
    if end is not None:
        query = query.where(PredictionVolume.hour < end)
    rows = session.execute(query.order_by(PredictionVolume.hour)).all()
    return pd.DataFrame(rows, columns=["hour", "n_rows", "n_new_categories"])


def _floor_micros(ts: pd.Series) -> np.ndarray:
    """Timestamps (UTC when timezone-aware, taken as UTC when naive) as int64 microseconds since the epoch, floored."""
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_convert(UTC).dt.tz_localize(None)
    return ts.to_numpy().astype("datetime64[us]").astype(np.int64)


def _utc(micros: np.int64) -> datetime:
    return _EPOCH + timedelta(microseconds=int(micros))


def _day_slices(micros: np.ndarray) -> list[slice] | list[np.ndarray]:
    """Rows of each UTC day, in day order: slices when the rows come in day order, else positions."""
    day = micros // _DAY_US
    steps = np.diff(day)
    if (steps >= 0).all():
        bounds = [0, *(np.flatnonzero(steps) + 1).tolist(), len(day)]
        return [slice(a, b) for a, b in itertools.pairwise(bounds)]
    order = np.argsort(day, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(day[order])) + 1)


def _take(table: pa.Table, rows: slice | np.ndarray) -> pa.Table:
    if isinstance(rows, slice):
        return table.slice(rows.start, rows.stop - rows.start)
    return table.take(pa.array(rows))


def _add_volume(session: Session, model_version_id: int, micros: np.ndarray, new_categories: np.ndarray) -> None:
    """Add stored rows (their ``ts`` in microseconds and new-category flags) to the hourly volume."""
    hours, inverse, counts = np.unique(micros // _HOUR_US, return_inverse=True, return_counts=True)
    new = np.bincount(inverse, weights=new_categories.astype(np.float64), minlength=len(hours))
    rows = [
        {"model_version_id": model_version_id, "hour": _EPOCH + timedelta(hours=int(hour)), "n_rows": int(n),
         "n_new_categories": int(n_new)}
        for hour, n, n_new in zip(hours.tolist(), counts.tolist(), new.tolist(), strict=True)
    ]
    dialect_insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = dialect_insert(PredictionVolume)
    stmt = stmt.on_conflict_do_update(
        index_elements=["model_version_id", "hour"],
        set_={
            "n_rows": PredictionVolume.n_rows + stmt.excluded.n_rows,
            "n_new_categories": PredictionVolume.n_new_categories + stmt.excluded.n_new_categories,
        },
    )
    session.execute(stmt, rows)

