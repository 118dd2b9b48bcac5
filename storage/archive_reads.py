"""Transparent reads of archived days: the part of a window that :mod:`driftscope.storage.archive` moved to Parquet.

:mod:`driftscope.storage.predictions`, :mod:`driftscope.storage.labels` and
:mod:`driftscope.storage.outcomes` add what these functions return to what the store still holds,
so a window reads the same rows before and after its days were archived. Only segments not
restored are read (a restored day is in the store again), and every file is verified against its
recorded checksum and row count before it is used.
"""

from datetime import datetime

import pandas as pd
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from driftscope.storage.archive import day_start
from driftscope.storage.archive_files import Part, read_part
from driftscope.storage.models import ArchiveSegment


def segments(session: Session, *, model_version_id: int, start: datetime, end: datetime,
             kind: str = "predictions") -> list[Part]:
    """Archived, not restored parts of one version with a day overlapping ``[start, end)``."""
    rows = session.execute(
        select(ArchiveSegment.path, ArchiveSegment.kind, ArchiveSegment.n_rows, ArchiveSegment.sha256).where(
            ArchiveSegment.model_version_id == model_version_id, ArchiveSegment.kind == kind,
            ArchiveSegment.day >= day_start(start), ArchiveSegment.day < end, ArchiveSegment.restored_at.is_(None))
        .order_by(ArchiveSegment.day, ArchiveSegment.id)
    ).all()
    return [Part(path, k, int(n), sha) for path, k, n, sha in rows]


def archived_predictions(session: Session, *, model_version_id: int, start: datetime, end: datetime) -> list[pa.Table]:
    """The archived prediction tables of the days overlapping ``[start, end)`` (unfiltered within a day)."""
    return [read_part(part) for part in segments(session, model_version_id=model_version_id, start=start, end=end)]


def archived_prediction_ids(session: Session, *, model_version_id: int, start: datetime,
                            end: datetime) -> pd.DataFrame | None:
    """Ids of the version's archived predictions with ``start <= ts < end`` (column ``prediction_id``).

    None when no day of ``[start, end)`` is archived.
    """
    predictions = archived_predictions(session, model_version_id=model_version_id, start=start, end=end)
    if not predictions:
        return None
    ids = pa.concat_tables([t.select(["prediction_id", "ts"]).cast(pa.schema(
        [("prediction_id", pa.string()), ("ts", pa.timestamp("us", tz="UTC"))])) for t in predictions]).to_pandas()
    inside = (ids["ts"] >= pd.Timestamp(start)) & (ids["ts"] < pd.Timestamp(end))
    return ids.loc[inside.to_numpy(), ["prediction_id"]].reset_index(drop=True)


def _archived_kind(session: Session, model_version_id: int, start: datetime, end: datetime, kind: str,
                   columns: list[str]) -> pd.DataFrame:
    tables = [read_part(p) for p in segments(session, model_version_id=model_version_id, start=start, end=end,
                                              kind=kind)]
    if not tables:
        return pd.DataFrame(columns=columns)
    return pa.concat_tables(tables, promote_options="permissive").to_pandas()[columns]


def archived_labels(session: Session, *, model_version_id: int, start: datetime, end: datetime) -> pd.DataFrame:
    """Archived predictions of the version with ``start <= ts < end`` and their archived labels.

    Columns as :func:`driftscope.storage.labels.labels_for_window` (``prediction_id``, ``label``,
    ``label_ts``); ``label`` is missing for predictions archived without one (its label may have
    reached the store later).
    """
    ids = archived_prediction_ids(session, model_version_id=model_version_id, start=start, end=end)
    if ids is None:
        return pd.DataFrame(columns=["prediction_id", "label", "label_ts"])
    labels = _archived_kind(session, model_version_id, start, end, "labels", ["prediction_id", "label", "ts"])
    return ids.merge(labels, on="prediction_id", how="left").rename(columns={"ts": "label_ts"})


def archived_outcomes(session: Session, *, ids: pd.DataFrame, model_version_id: int, start: datetime,
                      end: datetime) -> pd.DataFrame:
    """The archived outcomes of the archived predictions ``ids`` (from :func:`archived_prediction_ids`).

    Columns as :func:`driftscope.storage.outcomes.outcomes_for_window` (``prediction_id``,
    ``outcome``, ``value``, ``outcome_ts`` in UTC).
    """
    outcomes = _archived_kind(session, model_version_id, start, end, "outcomes",
                              ["prediction_id", "outcome", "value", "ts"])
    outcomes = outcomes.loc[outcomes["prediction_id"].isin(ids["prediction_id"]).to_numpy()]
    return outcomes.rename(columns={"ts": "outcome_ts"}).reset_index(drop=True)
