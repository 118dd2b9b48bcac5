"""Retention roll-over: raw rows older than ``retention.raw`` move to verified Parquet files, never lost.

One model version's UTC day at a time: its prediction chunks, the labels of those predictions with
their revisions, and their outcomes are written to the archive (:mod:`driftscope.storage.archive_files`),
read back and verified, listed in the day's manifest, and only then deleted from the store, in the
transaction that records the :class:`~driftscope.storage.models.ArchiveSegment` rows. A kill at any
point leaves each row in the store, in a verified file, or both (an unrecorded file is an orphan the
next run does not read). Aggregates stay: monitor results, hourly volume, alerts, runs, references.

Labels and outcomes are keyed by (model, prediction id), not by version or day, and are only ever
read joined to a prediction's timestamp, so they go with the day of the prediction they belong to.
A label or outcome whose prediction is not stored (it arrived first) stays in the store to join
later; one whose prediction id another version of the model still holds in the store (a shadow
version scoring the same request) is archived with this day and also stays, so the other version
reads and later archives it too.

Reads are transparent: :mod:`driftscope.storage.archive_reads` hands predictions, labels and
outcomes the archived part of a window. Beside each predictions part goes a Bloom filter of its ids
(kind ``id_filter``, :mod:`driftscope.storage.archive_ids`): a label that lands later looks for its
prediction only in the days that can hold it.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from driftscope.storage.archive_files import add_to_manifest, check_writable, day_folder, write_part
from driftscope.storage.archive_ids import KIND as ID_FILTER
from driftscope.storage.archive_ids import build_filter
from driftscope.storage.archive_outcomes import day_outcomes, delete_outcomes
from driftscope.storage.archive_rows import IN_SLICE, held_elsewhere, utc_table
from driftscope.storage.arrow_frames import decode_table
from driftscope.storage.config import RetentionConfig
from driftscope.storage.db import read_transaction, transaction
from driftscope.storage.models import (
    ArchiveSegment,
    GroundTruth,
    LabelRevision,
    Model,
    ModelVersion,
    Prediction,
    PredictionChunk,
)

log = logging.getLogger(__name__)
LABEL_COLUMNS = ("prediction_id", "prediction_ts", "label", "ts", "revision", "received_at", "updated_at")
REVISION_COLUMNS = ("prediction_id", "old_label", "new_label", "source", "changed_at")


@dataclass(frozen=True)
class ArchivedDay:
    """What one roll-over did for one version's UTC day."""

    model: str
    version: str
    day: datetime
    predictions: int
    labels: int
    outcomes: int


def as_utc(ts: datetime) -> datetime:
    """``ts`` in UTC (a naive time is taken as UTC)."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def day_start(ts: datetime) -> datetime:
    """The UTC midnight at or before ``ts`` (a naive time is taken as UTC)."""
    ts = as_utc(ts)
    return datetime(ts.year, ts.month, ts.day, tzinfo=UTC)


def run_archive(engine: Engine, retention: RetentionConfig, *, now: datetime | None = None) -> list[ArchivedDay]:
    """Archive every version's UTC days that ended before ``now - retention.raw``; return what moved.

    Raises
    ------
    ArchiveError
        The archive is not writable or a file does not verify: the job stops, the current day's rows stay.
    """
    cutoff = day_start((now or datetime.now(UTC)) - retention.raw)
    check_writable(retention.archive)
    with read_transaction(engine) as session:
        due = days_due(session, cutoff=cutoff)
    done = []
    for model, version, version_id, day in due:
        done.append(archive_day(engine, retention.archive, model=model, version=version, version_id=version_id,
                                day=day))
        log.info("archived %s %s %s: %d predictions, %d labels, %d outcomes", model, version, f"{day:%Y-%m-%d}",
                 done[-1].predictions, done[-1].labels, done[-1].outcomes)
    return done


def days_due(session: Session, *, cutoff: datetime) -> list[tuple[str, str, int, datetime]]:
    """(model, version, version id, day) of the stored prediction days that end at or before ``cutoff``."""
    rows = session.execute(
        select(Model.name, ModelVersion.version, PredictionChunk.model_version_id, PredictionChunk.min_ts)
        .join(ModelVersion, ModelVersion.id == PredictionChunk.model_version_id)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(PredictionChunk.max_ts < cutoff)
    ).all()
    return sorted({(m, v, int(i), day_start(ts)) for m, v, i, ts in rows}, key=lambda r: (r[2], r[3]))


def archive_day(engine: Engine, root: str, *, model: str, version: str, version_id: int,
                day: datetime) -> ArchivedDay:
    """Write, verify and record one version's day, deleting its rows in the recording transaction."""
    with read_transaction(engine) as session:
        chunk_ids, predictions = _day_chunks(session, version_id, day)
        labels, revisions = _day_labels(session, version_id, chunk_ids)
        outcome_ids, outcomes = day_outcomes(session, version_id, chunk_ids)
    folder = day_folder(root, model, version, day)
    tables = {"predictions": predictions, "labels": labels, "label_revisions": revisions, "outcomes": outcomes}
    if predictions.num_rows:
        tables[ID_FILTER] = build_filter(predictions.column("prediction_id"))
    parts = [write_part(folder, kind, table) for kind, table in tables.items() if table.num_rows]
    add_to_manifest(folder, parts)
    with transaction(engine) as session:
        _delete_day(session, version_id, chunk_ids, labels)
        delete_outcomes(session, version_id, outcome_ids, outcomes)
        session.add_all([ArchiveSegment(model_version_id=version_id, kind=p.kind, day=day, path=p.path,
                                        n_rows=p.n_rows, sha256=p.sha256) for p in parts])
    return ArchivedDay(model, version, day, predictions.num_rows, labels.num_rows, outcomes.num_rows)


def _day_chunks(session: Session, version_id: int, day: datetime) -> tuple[list[int], pa.Table]:
    rows = session.execute(
        select(PredictionChunk.id, PredictionChunk.data).where(
            PredictionChunk.model_version_id == version_id, PredictionChunk.min_ts >= day,
            PredictionChunk.min_ts < day + timedelta(days=1))
        .order_by(PredictionChunk.id)
    ).all()
    tables = [decode_table(blob) for _, blob in rows]
    table = pa.concat_tables(tables, promote_options="permissive").unify_dictionaries().combine_chunks()
    return [int(i) for i, _ in rows], table


def _day_labels(session: Session, version_id: int, chunk_ids: list[int]) -> tuple[pa.Table, pa.Table]:
    """Labels of the predictions in ``chunk_ids`` (with the prediction's ts), and their revisions."""
    labels = pd.DataFrame(session.execute(
        select(GroundTruth.prediction_id, Prediction.ts, GroundTruth.label, GroundTruth.ts, GroundTruth.revision,
               GroundTruth.received_at, GroundTruth.updated_at)
        .join(Prediction, (Prediction.prediction_id == GroundTruth.prediction_id)
              & (Prediction.model_version_id == version_id))
        .join(ModelVersion, ModelVersion.id == version_id)
        .where(GroundTruth.model_id == ModelVersion.model_id, Prediction.chunk_id.in_(chunk_ids))
        .order_by(GroundTruth.prediction_id)
    ).all(), columns=list(LABEL_COLUMNS))
    revisions = pd.DataFrame(session.execute(
        select(GroundTruth.prediction_id, LabelRevision.old_label, LabelRevision.new_label, LabelRevision.source,
               LabelRevision.changed_at)
        .join(GroundTruth, GroundTruth.id == LabelRevision.ground_truth_id)
        .join(Prediction, (Prediction.prediction_id == GroundTruth.prediction_id)
              & (Prediction.model_version_id == version_id))
        .join(ModelVersion, ModelVersion.id == version_id)
        .where(GroundTruth.model_id == ModelVersion.model_id, Prediction.chunk_id.in_(chunk_ids))
        .order_by(LabelRevision.id)
    ).all(), columns=list(REVISION_COLUMNS))
    return utc_table(labels), utc_table(revisions)


def _delete_day(session: Session, version_id: int, chunk_ids: list[int], labels: pa.Table) -> None:
    """Delete the archived rows: the chunks and index rows; labels unchanged since they were read, with their
    revisions, unless another version's stored predictions still join them."""
    model_id = session.execute(select(ModelVersion.model_id).where(ModelVersion.id == version_id)).scalar_one()
    archived = labels.select(["prediction_id", "revision"]).to_pandas()
    current = label_ids(session, model_id, archived["prediction_id"].tolist())
    same = current.merge(archived, on=["prediction_id", "revision"])  # a label corrected since stays in the store
    keep = held_elsewhere(session, model_version_id=version_id, prediction_ids=same["prediction_id"].tolist())
    gone = [int(i) for i in same.loc[~same["prediction_id"].isin(keep).to_numpy(), "id"]]
    for start in range(0, len(gone), IN_SLICE):
        ids = gone[start:start + IN_SLICE]
        session.execute(delete(LabelRevision).where(LabelRevision.ground_truth_id.in_(ids)))
        session.execute(delete(GroundTruth).where(GroundTruth.id.in_(ids)))
    session.execute(delete(Prediction).where(Prediction.model_version_id == version_id,
                                             Prediction.chunk_id.in_(chunk_ids)))
    session.execute(delete(PredictionChunk).where(PredictionChunk.id.in_(chunk_ids)))
    session.flush()


def label_ids(session: Session, model_id: int, prediction_ids: list[str]) -> pd.DataFrame:
    """Stored labels of ``prediction_ids``: columns ``prediction_id``, ``id``, ``revision``."""
    rows: list[Any] = []
    for start in range(0, len(prediction_ids), IN_SLICE):
        rows += session.execute(select(GroundTruth.prediction_id, GroundTruth.id, GroundTruth.revision).where(
            GroundTruth.model_id == model_id, GroundTruth.prediction_id.in_(prediction_ids[start:start + IN_SLICE]))
        ).all()
    return pd.DataFrame(rows, columns=["prediction_id", "id", "revision"])
