"""Write and read logged predictions (see :mod:`storage.models` for the columnar layout).

Frames here are *canonical*: columns ``prediction_id`` (str), ``ts`` (datetime64, UTC),
``prediction``, optional ``probability``, then the features under their schema names.
"""

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.arrow_frames import decode_frames, encode_frame
from storage.bulk import existing_values, insert_frame
from storage.db import is_postgres
from storage.models import Prediction, PredictionChunk, PredictionVolume

CANONICAL_COLUMNS = ("prediction_id", "ts", "prediction", "probability")


@dataclass(frozen=True)
class WriteCounts:
    """Outcome of a write: rows stored and rows skipped as duplicates (already stored or repeated)."""

    stored: int
    duplicates: int


def write_predictions(
    session: Session, *, model_version_id: int, frame: pd.DataFrame, source: str
) -> WriteCounts:
    """Store new predictions of one model version; skip ids already stored. Flushes, never commits.

    Rows are deduplicated on ``prediction_id`` within the batch (first wins) and against the store,
    then written as one Arrow chunk per UTC day plus one narrow index row each, and the hourly
    volume is updated. Run it inside the caller's transaction together with the watermark update.
    """
    if frame.empty:
        return WriteCounts(0, 0)
    unique = frame.drop_duplicates("prediction_id", keep="first")
    if unique["ts"].dtype != "datetime64[us, UTC]":
        unique = unique.assign(ts=unique["ts"].dt.floor("us").astype("datetime64[us, UTC]"))
    known = existing_values(
        session, "predictions", "prediction_id", unique["prediction_id"],
        {"model_version_id": model_version_id},
    )
    new = unique[~unique["prediction_id"].isin(known)] if len(known) else unique
    for day_rows in _split_by_day(new):
        chunk = PredictionChunk(
            model_version_id=model_version_id,
            min_ts=day_rows["ts"].min().to_pydatetime(),
            max_ts=day_rows["ts"].max().to_pydatetime(),
            n_rows=len(day_rows),
            source=source,
            data=encode_frame(day_rows),
        )
        session.add(chunk)
        session.flush()
        index = pd.DataFrame({
            "model_version_id": model_version_id,
            "prediction_id": day_rows["prediction_id"].to_numpy(),
            "ts": day_rows["ts"].to_numpy(),
            "chunk_id": chunk.id,
        })
        insert_frame(session, "predictions", index)
    _add_volume(session, model_version_id, new)
    return WriteCounts(stored=len(new), duplicates=len(frame) - len(new))


def read_window(
    session: Session, *, model_version_id: int, start: datetime, end: datetime
) -> pd.DataFrame:
    """Return the canonical frame of predictions with ``start <= ts < end`` (UTC), sorted by ts."""
    blobs = session.execute(
        select(PredictionChunk.data).where(
            PredictionChunk.model_version_id == model_version_id,
            PredictionChunk.min_ts < end,
            PredictionChunk.max_ts >= start,
        )
    ).scalars().all()
    frame = decode_frames(list(blobs))
    if frame.empty:
        return frame
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
    """Predictions per UTC hour: columns ``hour`` (datetime, UTC) and ``n_rows``."""
    query = select(PredictionVolume.hour, PredictionVolume.n_rows).where(
        PredictionVolume.model_version_id == model_version_id
    )
    if start is not None:
        query = query.where(PredictionVolume.hour >= start)
    if end is not None:
        query = query.where(PredictionVolume.hour < end)
    rows = session.execute(query.order_by(PredictionVolume.hour)).all()
    return pd.DataFrame(rows, columns=["hour", "n_rows"])


def delete_predictions(session: Session, *, model_version_id: int) -> None:
    """Remove every stored prediction of a version (chunks, index rows and volume)."""
    session.execute(delete(PredictionVolume).where(PredictionVolume.model_version_id == model_version_id))
    session.execute(delete(PredictionChunk).where(PredictionChunk.model_version_id == model_version_id))


def _split_by_day(frame: pd.DataFrame) -> list[pd.DataFrame]:
    if frame.empty:
        return []
    day = frame["ts"].dt.floor("D")
    if day.nunique() == 1:
        return [frame]
    return [group for _, group in frame.groupby(day.to_numpy(), sort=True)]


def _add_volume(session: Session, model_version_id: int, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    counts = frame["ts"].dt.floor("h").value_counts()
    rows = [
        {"model_version_id": model_version_id, "hour": hour.to_pydatetime(), "n_rows": int(n)}
        for hour, n in counts.items()
    ]
    dialect_insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = dialect_insert(PredictionVolume)
    stmt = stmt.on_conflict_do_update(
        index_elements=["model_version_id", "hour"],
        set_={"n_rows": PredictionVolume.n_rows + stmt.excluded.n_rows},
    )
    session.execute(stmt, rows)

