"""Keep label profiles exact as predictions and labels land. Flush, never commit.

A labelled row enters its version's hourly label profile (bucket of the *prediction's* timestamp,
the time windows are cut by) in the transaction that completes the pair:

* :func:`add_labelled_predictions`: the prediction writer, for newly stored predictions whose
  label was stored first (labels may arrive before their prediction);
* :func:`update_for_labels`: the label writer, for new labels (added) and corrected ones (the old
  label's row removed, the new one added) whose prediction is stored.

A label that lands after its prediction was archived joins the archived prediction
(:mod:`.labelled_archive`), so the profile gains what the rows path reads. Re-ingesting a batch
stores nothing new and changes no profile. Archiving moves rows, not profiles. Restoring archived
days writes predictions with ``count_volume=False`` and labels the store lacks directly (a label
stored after archiving stays and wins), so their profiles stay as they were.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from driftscope.modelspec import PROBABILITY_PREFIX
from driftscope.storage.arrow_frames import decode_table
from driftscope.storage.chunk_blobs import chunk_blob
from driftscope.storage.db import is_postgres
from driftscope.storage.models import (
    ColumnProfileRow,
    GroundTruth,
    LabelProfileRow,
    Model,
    ModelVersion,
    Prediction,
    PredictionChunk,
)
from driftscope.storage.profiles.compute import HOUR
from driftscope.storage.profiles.labelled import LabelledProfile, merge, merge_all, profiles_by_bucket
from driftscope.storage.profiles.labelled_archive import archived_matches
from driftscope.storage.profiles.rebuild import delete_rebuildable_hours

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = 1_000_000
_IN_SLICE = 5_000
FAILED_STATUSES = ("error", "timeout")
"""Serving statuses whose rows carry no model output (the runner leaves them out too)."""


def bucket_profiles(frame: pd.DataFrame, task: str, *, weight: int = 1, bucket_seconds: int = HOUR
                    ) -> dict[int, LabelledProfile]:
    """Label profiles of labelled rows per bucket of their ``ts``, keyed by bucket start (µs since the epoch)."""
    if "status" in frame:
        frame = frame.loc[~frame["status"].isin(FAILED_STATUSES).to_numpy()]
    if frame.empty:
        return {}
    ts = pd.to_datetime(frame["ts"], utc=True, cache=False).dt.tz_convert(None)  # a cache costs more than it saves
    step = bucket_seconds * _US
    starts = ts.to_numpy().astype("datetime64[us]").astype(np.int64) // step * step
    return profiles_by_bucket(frame, starts, task, weight=weight)


def add_labelled(session: Session, *, model_version_id: int, profiles: Mapping[int, LabelledProfile],
                 bucket_seconds: int = HOUR) -> None:
    """Merge ``profiles`` (by bucket start, µs) into the stored ones of the same buckets."""
    if not profiles:
        return
    stored = {_micros(row.bucket_start): row for row in session.execute(select(LabelProfileRow).where(
        LabelProfileRow.model_version_id == model_version_id, LabelProfileRow.bucket_seconds == bucket_seconds,
        LabelProfileRow.bucket_start.in_([_utc(s) for s in profiles]))).scalars()}
    fresh = []
    for start, profile in profiles.items():
        row = stored.get(start)
        if row is None:
            fresh.append(_values(model_version_id, start, bucket_seconds, profile))
            continue
        merged = merge(LabelledProfile.from_json(row.cells, row.moments), profile)
        row.cells, row.moments = merged.to_json()
        row.n_labelled = merged.n_labelled
    session.flush()
    if fresh:
        session.execute(insert(LabelProfileRow), fresh)


def replace_labelled(session: Session, *, model_version_id: int, starts: Sequence[int],
                     profiles: Mapping[int, LabelledProfile], bucket_seconds: int) -> None:
    """Clear the buckets starting at ``starts`` (µs) and store ``profiles`` there (a recomputed lake partition)."""
    cleared = sorted(set(starts) | set(profiles))
    if cleared:
        session.execute(delete(LabelProfileRow).where(
            LabelProfileRow.model_version_id == model_version_id, LabelProfileRow.bucket_seconds == bucket_seconds,
            LabelProfileRow.bucket_start.in_([_utc(s) for s in cleared])))
    if profiles:
        session.execute(insert(LabelProfileRow),
                        [_values(model_version_id, s, bucket_seconds, p) for s, p in profiles.items()])


def window_labelled(session: Session, *, model_version_id: int, start: datetime, end: datetime
                    ) -> LabelledProfile | None:
    """The merged label profile of the buckets lying wholly in ``[start, end)``; None when there is none."""
    rows = session.execute(select(LabelProfileRow).where(
        LabelProfileRow.model_version_id == model_version_id,
        LabelProfileRow.bucket_start >= start, LabelProfileRow.bucket_start < end,
    ).order_by(LabelProfileRow.bucket_start)).scalars().all()
    inside = [LabelledProfile.from_json(r.cells, r.moments) for r in rows
              if r.bucket_start + timedelta(seconds=r.bucket_seconds) <= end]
    return merge_all(inside) if inside else None


def window_predictions(session: Session, *, model_version_id: int, start: datetime, end: datetime) -> int:
    """Rows in the ``prediction`` column profiles of the buckets lying wholly in ``[start, end)``."""
    rows = session.execute(select(ColumnProfileRow.bucket_start, ColumnProfileRow.bucket_seconds,
                                  ColumnProfileRow.n_rows).where(
        ColumnProfileRow.model_version_id == model_version_id, ColumnProfileRow.column == "prediction",
        ColumnProfileRow.bucket_start >= start, ColumnProfileRow.bucket_start < end)).all()
    return int(sum(n for s, seconds, n in rows if s + timedelta(seconds=seconds) <= end))


def add_labelled_predictions(session: Session, *, model_version_id: int, tables: Sequence[pa.Table]) -> None:
    """Add the newly stored predictions (canonical Arrow tables) that already have a label.

    One query over the index on (version, ts): the labelled predictions of the version in the
    batch's time span, kept when their id is one of the batch's (a stored batch holds no id stored
    before), so a batch whose labels have not arrived costs one index range scan.
    """
    table = pa.concat_tables(tables, promote_options="default") if tables else None
    if table is None or table.num_rows == 0:
        return
    model_id, task = _model_of(session, model_version_id)
    span = pc.min_max(table.column("ts"))
    found = session.execute(
        select(Prediction.prediction_id, GroundTruth.label)
        .join(GroundTruth, (GroundTruth.model_id == model_id) & (GroundTruth.prediction_id == Prediction.prediction_id))
        .where(Prediction.model_version_id == model_version_id, Prediction.ts >= span["min"].as_py(),
               Prediction.ts <= span["max"].as_py())).all()
    if not found:
        return
    labels = pd.DataFrame(found, columns=["prediction_id", "label"])
    ids = table.column("prediction_id")
    if pa.types.is_dictionary(ids.type):
        ids = ids.cast(ids.type.value_type)
    labelled = table.filter(pc.is_in(ids, value_set=pa.array(labels["prediction_id"].tolist(), ids.type)))
    frame = labelled.to_pandas().merge(labels, on="prediction_id")
    add_labelled(session, model_version_id=model_version_id, profiles=bucket_profiles(frame, task))


def update_for_labels(session: Session, *, model_id: int, added: pd.DataFrame, removed: pd.DataFrame) -> None:
    """Add the rows of new or corrected labels (``prediction_id``, ``label``), remove those of replaced ones.

    A label whose prediction is in the store joins it there; one whose prediction is stored by no
    version is looked for in the archive (:mod:`.labelled_archive`: predictions archived before
    their label landed). A new label of an archived prediction that was archived with a label
    replaces that label, as reads do (the stored label wins), so the archived one is removed.
    """
    ids = pd.concat([added["prediction_id"], removed["prediction_id"]]).drop_duplicates()
    if ids.empty:
        return
    task = session.execute(select(Model.task).where(Model.id == model_id)).scalar_one()
    stored = []
    for version_id, predictions in _stored_predictions(session, model_id, ids.tolist()):
        stored.append(predictions["prediction_id"].astype(str))
        _update_version(session, version_id, predictions, task, added, removed)
    unstored = ids.loc[~ids.isin(pd.concat(stored)).to_numpy()] if stored else ids
    new = added.loc[~added["prediction_id"].isin(removed["prediction_id"]).to_numpy()]
    for match in archived_matches(session, model_id=model_id, prediction_ids=unstored.tolist()):
        replaced = match.labels.loc[match.labels["prediction_id"].isin(new["prediction_id"]).to_numpy()]
        _update_version(session, match.model_version_id, match.predictions, task, added,
                        pd.concat([removed[["prediction_id", "label"]], replaced], ignore_index=True))


def _update_version(session: Session, version_id: int, predictions: pd.DataFrame, task: str, added: pd.DataFrame,
                    removed: pd.DataFrame) -> None:
    """Remove the rows of ``removed`` labels and add those of ``added`` ones joined to ``predictions``."""
    profiles: dict[int, LabelledProfile] = {}
    for labels, weight in ((removed, -1), (added, 1)):
        frame = predictions.merge(labels[["prediction_id", "label"]], on="prediction_id")
        for start, profile in bucket_profiles(frame, task, weight=weight).items():
            profiles[start] = merge(profiles[start], profile) if start in profiles else profile
    add_labelled(session, model_version_id=version_id, profiles=profiles)


def backfill_labelled_version(session: Session, *, model_version_id: int) -> int:
    """Recompute the version's hourly label profiles from its stored chunks and labels; labelled rows counted.

    Buckets whose rows are not in the store (a lake's days, archived days:
    :mod:`~driftscope.storage.profiles.rebuild`) are left as they are.
    """
    delete_rebuildable_hours(session, LabelProfileRow, model_version_id=model_version_id)
    model_id, task = _model_of(session, model_version_id)
    chunk_ids = session.execute(select(PredictionChunk.id).where(PredictionChunk.model_version_id == model_version_id)
                                .order_by(PredictionChunk.id)).scalars().all()
    n_labelled = 0
    for chunk_id in chunk_ids:
        table = decode_table(session.execute(select(PredictionChunk.data)
                                             .where(PredictionChunk.id == chunk_id)).scalar_one())
        labels = _labels(session, model_id, table.column("prediction_id").to_pylist())
        if labels.empty:
            continue
        profiles = bucket_profiles(table.to_pandas().merge(labels, on="prediction_id"), task)
        add_labelled(session, model_version_id=model_version_id, profiles=profiles)
        n_labelled += sum(p.n_labelled for p in profiles.values())
    return n_labelled


def backfill_labelled_all(session: Session) -> dict[int, int]:
    """:func:`backfill_labelled_version` for every version; labelled rows profiled by version id."""
    ids = session.execute(select(ModelVersion.id).order_by(ModelVersion.id)).scalars().all()
    return {version_id: backfill_labelled_version(session, model_version_id=version_id) for version_id in ids}


def backfill_labelled_legacy(session: Session) -> dict[int, int]:
    """:func:`backfill_labelled_version` for the versions with an hourly label profile stored before the R²
    sums (regression) or the per-class scores (multiclass with ``probabilities``) existed; labelled rows by version id.
    """
    found = session.execute(select(ModelVersion.id, Model.task, ModelVersion.column_schema)
                            .join(Model, Model.id == ModelVersion.model_id).order_by(ModelVersion.id)).all()
    done = {}
    for version_id, task, schema in found:
        if task != "regression" and not (task == "multiclass_classification" and (schema or {}).get("probabilities")):
            continue
        rows = session.execute(select(LabelProfileRow.cells, LabelProfileRow.moments).where(
            LabelProfileRow.model_version_id == version_id, LabelProfileRow.bucket_seconds == HOUR)).all()
        profiles = [LabelledProfile.from_json(cells, moments) for cells, moments in rows]
        if any(not p.has_r2_sums or (p.cells and p.scores is None) for p in profiles):
            done[int(version_id)] = backfill_labelled_version(session, model_version_id=int(version_id))
    return done


def version_task(session: Session, *, model_version_id: int) -> str:
    """The task of the version's model (``binary_classification``, ``multiclass_classification``, ``regression``)."""
    return _model_of(session, model_version_id)[1]


def _model_of(session: Session, model_version_id: int) -> tuple[int, str]:
    model_id, task = session.execute(select(Model.id, Model.task).join(ModelVersion, ModelVersion.model_id == Model.id)
                                     .where(ModelVersion.id == model_version_id)).one()
    return int(model_id), str(task)


def _labels(session: Session, model_id: int, prediction_ids: list[str]) -> pd.DataFrame:
    """Stored labels of ``prediction_ids``: ``prediction_id``, ``label``."""
    rows: list[Any] = []
    for start in range(0, len(prediction_ids), _IN_SLICE):
        rows += session.execute(select(GroundTruth.prediction_id, GroundTruth.label).where(
            GroundTruth.model_id == model_id,
            GroundTruth.prediction_id.in_(prediction_ids[start:start + _IN_SLICE]))).all()
    return pd.DataFrame(rows, columns=["prediction_id", "label"])


def _stored_predictions(session: Session, model_id: int, prediction_ids: list[str]
                        ) -> Iterable[tuple[int, pd.DataFrame]]:
    """Per version of the model, the stored predictions among ``prediction_ids`` (read from their chunks).

    Only the columns the profiles read (:func:`_profiled`) are decoded, and ``prediction_id``
    comes back as plain text (a categorical of 50 000 ids costs more to concatenate and merge).
    """
    ids = [str(v) for v in pd.unique(np.asarray(prediction_ids, dtype=object))]
    versions = session.execute(select(ModelVersion.id).where(ModelVersion.model_id == model_id)).scalars().all()
    for version_id in versions:
        parts = []
        for chunk_id, wanted in _ids_by_chunk(session, int(version_id), ids):
            table = decode_table(chunk_blob(session, chunk_id), _profiled)
            column = table.column("prediction_id")
            if pa.types.is_dictionary(column.type):
                column = column.cast(column.type.value_type)
                table = table.set_column(table.column_names.index("prediction_id"), "prediction_id", column)
            parts.append(table.filter(pc.is_in(column, value_set=pa.array(wanted, pa.string()))).to_pandas())
        if parts:
            yield int(version_id), pd.concat(parts, ignore_index=True)


def _profiled(column: str) -> bool:
    """Whether a prediction chunk's ``column`` is read by :func:`bucket_profiles` (or is the id joined on)."""
    return column in ("prediction_id", "ts", "status", "prediction", "probability") or column.startswith(
        PROBABILITY_PREFIX)


def _ids_by_chunk(session: Session, version_id: int, ids: list[str]) -> list[tuple[int, list[str]]]:
    """The version's stored predictions among ``ids`` grouped by chunk: ``(chunk_id, its ids)``, by chunk id.

    One query: the ids travel as one JSON text parameter and are joined to the index by primary
    key, so the query costs no bind parameter per id; each chunk's ids come back as one JSON text,
    one row per chunk, not one per id. JSON both ways is about twice as fast on PostgreSQL as a
    text array (psycopg adapts and parses arrays element by element). SQLite's ``CROSS JOIN``
    keeps the ids as the outer loop (with a plain join the planner scanned the version's index
    once per id).
    """
    if is_postgres(session):
        sql = ('SELECT p.chunk_id, CAST(json_agg(p.prediction_id) AS text) '
               'FROM json_array_elements_text(CAST(:ids AS json)) AS j(v) '
               'JOIN predictions p ON p.model_version_id = :version AND p.prediction_id = j.v COLLATE "C" '
               'GROUP BY p.chunk_id ORDER BY p.chunk_id')
    else:
        sql = ("SELECT p.chunk_id, json_group_array(p.prediction_id) FROM json_each(:ids) AS j "
               "CROSS JOIN predictions p "  # ids outer
               "ON p.model_version_id = :version AND p.prediction_id = j.value GROUP BY p.chunk_id ORDER BY p.chunk_id")
    rows = session.execute(text(sql), {"ids": json.dumps(ids), "version": version_id}).all()
    return [(int(chunk_id), json.loads(found)) for chunk_id, found in rows]


def _values(model_version_id: int, start: int, bucket_seconds: int, profile: LabelledProfile) -> dict[str, Any]:
    cells, moments = profile.to_json()
    return {"model_version_id": model_version_id, "bucket_start": _utc(start), "bucket_seconds": bucket_seconds,
            "n_labelled": profile.n_labelled, "cells": cells, "moments": moments}


def _utc(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(micros))


def _micros(ts: datetime) -> int:
    return (ts - _EPOCH) // timedelta(microseconds=1)
