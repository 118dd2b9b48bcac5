"""Inspect, verify and restore the archive: ``driftscope archive list | verify | restore``.

Restore puts a version's archived days back into the store, one day per transaction: predictions
are written without adding to the hourly volume (which never lost them), labels only where the
store has none for that prediction (a newer label wins), revisions with the labels they belong to,
outcomes replacing any later value of the same key (the first value wins).
Its segments are then marked restored, so reads take the store again. Restoring twice changes
nothing the second time. The archive files stay where they are.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.orm import Session

from driftscope.storage.archive import day_start, label_ids
from driftscope.storage.archive_files import ArchiveError, Part, read_part, verify_part
from driftscope.storage.archive_ids import KIND as ID_FILTER
from driftscope.storage.archive_outcomes import restore_outcomes
from driftscope.storage.db import is_postgres, read_transaction, transaction
from driftscope.storage.models import ArchiveSegment, GroundTruth, LabelRevision, Model, ModelVersion
from driftscope.storage.predictions import write_predictions

LIST_COLUMNS = ("model", "version", "kind", "first_day", "last_day", "days", "rows", "restored_days")


@dataclass(frozen=True)
class Restored:
    """What one restore did: days put back, prediction rows stored, labels stored, outcomes the store lacked."""

    days: int
    predictions: int
    labels: int
    outcomes: int


def list_archive(session: Session) -> pd.DataFrame:
    """Archived spans per model version and kind of rows (columns :data:`LIST_COLUMNS`; id filters left out)."""
    rows = session.execute(
        select(Model.name, ModelVersion.version, ArchiveSegment.kind, func.min(ArchiveSegment.day),
               func.max(ArchiveSegment.day), func.count(func.distinct(ArchiveSegment.day)),
               func.sum(ArchiveSegment.n_rows),
               func.count(func.distinct(ArchiveSegment.day)).filter(ArchiveSegment.restored_at.is_not(None)))
        .join(ModelVersion, ModelVersion.id == ArchiveSegment.model_version_id)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(ArchiveSegment.kind != ID_FILTER)
        .group_by(Model.name, ModelVersion.version, ArchiveSegment.kind)
        .order_by(Model.name, ModelVersion.version, ArchiveSegment.kind)
    ).all()
    return pd.DataFrame(rows, columns=list(LIST_COLUMNS))


def verify_archive(engine: Engine) -> list[str]:
    """Read back every recorded archive file; return the problems found (empty: every file verified)."""
    with read_transaction(engine) as session:
        parts = session.execute(select(ArchiveSegment.path, ArchiveSegment.kind, ArchiveSegment.n_rows,
                                       ArchiveSegment.sha256).order_by(ArchiveSegment.id)).all()
    problems = []
    for path, kind, n_rows, sha in parts:
        try:
            verify_part(Part(path, kind, int(n_rows), sha))
        except ArchiveError as exc:
            problems.append(str(exc))
    return problems


def restore(engine: Engine, *, model: str, version: str, start: datetime, end: datetime) -> Restored:
    """Put the archived days of ``model`` ``version`` with ``start <= day < end`` back into the store."""
    with read_transaction(engine) as session:
        version_id, model_id = session.execute(
            select(ModelVersion.id, ModelVersion.model_id).join(Model, Model.id == ModelVersion.model_id)
            .where(Model.name == model, ModelVersion.version == version)).one()
        days = sorted(set(session.execute(select(ArchiveSegment.day).where(
            ArchiveSegment.model_version_id == version_id, ArchiveSegment.day >= day_start(start),
            ArchiveSegment.day < end, ArchiveSegment.restored_at.is_(None))).scalars()))
    totals = [_restore_day(engine, version_id, model_id, day) for day in days]
    return Restored(len(days), sum(t[0] for t in totals), sum(t[1] for t in totals), sum(t[2] for t in totals))


def _restore_day(engine: Engine, version_id: int, model_id: int, day: datetime) -> tuple[int, int, int]:
    with transaction(engine) as session:
        parts = session.execute(
            select(ArchiveSegment.id, ArchiveSegment.path, ArchiveSegment.kind, ArchiveSegment.n_rows,
                   ArchiveSegment.sha256)
            .where(ArchiveSegment.model_version_id == version_id, ArchiveSegment.day == day,
                   ArchiveSegment.restored_at.is_(None)).with_for_update()).all()
        tables: dict[str, list[pa.Table]] = {}
        for _, path, kind, n_rows, sha in parts:
            tables.setdefault(kind, []).append(read_part(Part(path, kind, int(n_rows), sha)))
        stored = 0
        for table in tables.get("predictions", []):
            frame = table.to_pandas()
            stored += write_predictions(session, model_version_id=version_id, frame=frame, source="archive",
                                        count_volume=False).stored
        labels = _restore_labels(session, model_id, tables.get("labels", []), tables.get("label_revisions", []))
        outcomes = restore_outcomes(session, model_id, tables.get("outcomes", []))
        session.execute(update(ArchiveSegment).where(ArchiveSegment.id.in_([p[0] for p in parts]))
                        .values(restored_at=datetime.now(UTC)))
    return stored, labels, outcomes


def _restore_labels(session: Session, model_id: int, labels: list[pa.Table], revisions: list[pa.Table]) -> int:
    """Insert archived labels the store lacks, with their revision numbers, times and revisions."""
    if not labels:
        return 0
    frame = pa.concat_tables(labels, promote_options="permissive").to_pandas()
    present = label_ids(session, model_id, frame["prediction_id"].tolist())["prediction_id"]
    frame = frame.loc[~frame["prediction_id"].isin(present).to_numpy()]
    if frame.empty:
        return 0
    session.execute(insert(GroundTruth), [
        {"model_id": model_id, "prediction_id": r.prediction_id, "label": r.label, "ts": r.ts.to_pydatetime(),
         "revision": int(r.revision), "received_at": r.received_at.to_pydatetime(),
         "updated_at": r.updated_at.to_pydatetime()} for r in frame.itertuples(index=False)])
    ids = dict(zip(*label_ids(session, model_id, frame["prediction_id"].tolist())[["prediction_id", "id"]]
                   .to_dict("list").values(), strict=True))
    if revisions:
        history = pa.concat_tables(revisions, promote_options="permissive").to_pandas()
        history = history.loc[history["prediction_id"].isin(list(ids)).to_numpy()]
        if len(history):
            session.execute(insert(LabelRevision), [
                {"ground_truth_id": ids[r.prediction_id], "old_label": r.old_label, "new_label": r.new_label,
                 "source": r.source, "changed_at": r.changed_at.to_pydatetime()}
                for r in history.itertuples(index=False)])
    session.flush()
    return len(frame)


def store_size(session: Session) -> int:
    """Bytes the store's data occupies: PostgreSQL's database size, SQLite's used pages."""
    if is_postgres(session):
        return int(session.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    pages = session.execute(text("PRAGMA page_count")).scalar_one()
    free = session.execute(text("PRAGMA freelist_count")).scalar_one()
    size = session.execute(text("PRAGMA page_size")).scalar_one()
    return int((pages - free) * size)


def storage_overview(session: Session) -> tuple[int, pd.DataFrame]:
    """The store's size in bytes and the archived span of each version, for the Overview.

    The span's columns: model, version, first and last day, days, restored days, and the archived
    rows of each kind (predictions, labels, outcomes).
    """
    spans = list_archive(session)
    kinds = ["predictions", "labels", "outcomes"]
    span = spans.loc[spans["kind"] == "predictions", ["model", "version", "first_day", "last_day", "days",
                                                       "restored_days"]]
    if spans.empty:
        return store_size(session), span.assign(**{k: pd.Series(dtype="int64") for k in kinds})
    rows = (spans.pivot(index=["model", "version"], columns="kind", values="rows").reindex(columns=kinds)
            .fillna(0).astype("int64").reset_index())
    return store_size(session), span.merge(rows, on=["model", "version"]).reset_index(drop=True)
