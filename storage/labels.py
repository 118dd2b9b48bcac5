"""Ground-truth labels: late arrival, corrections with history, joins to predictions.

Labels are keyed by (model, prediction id), independent of predictions, so a label that arrives
before its prediction is kept and joins when the prediction is stored. Labels are stored as text
(``str(value)``; floats via ``repr`` so they round-trip) and converted back by the reader.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from driftscope.storage.archive_reads import archived_labels
from driftscope.storage.bulk import existing_values, insert_frame
from driftscope.storage.clock import db_now
from driftscope.storage.models import GroundTruth, LabelRevision, Model, Prediction
from driftscope.storage.profiles.labelled_store import update_for_labels

_IN_SLICE = 5_000


@dataclass(frozen=True)
class LabelCounts:
    """Outcome of a label write: new labels, corrected labels, and unchanged repeats (duplicates)."""

    inserted: int
    corrected: int
    unchanged: int

    @property
    def stored(self) -> int:
        """Rows that changed the store (new or corrected)."""
        return self.inserted + self.corrected


def write_labels(session: Session, *, model_id: int, frame: pd.DataFrame, source: str) -> LabelCounts:
    """Insert new labels and correct changed ones; record each correction. Flushes, never commits.

    ``frame`` has columns ``prediction_id`` (str), ``label`` (str) and ``ts`` (datetime64, UTC).
    Within the batch the first row per prediction id wins (callers quarantine later rows that
    contradict it as conflicting duplicates; exact repeats count as unchanged).
    Writers of one model's labels are serialised by a row lock on the model (``FOR NO KEY UPDATE``
    on PostgreSQL), so two of them never race to insert the same prediction id. The label profiles
    of the stored predictions concerned are updated in the same transaction
    (:func:`driftscope.storage.profiles.labelled_store.update_for_labels`).
    """
    if frame.empty:
        return LabelCounts(0, 0, 0)
    session.execute(select(Model.id).where(Model.id == model_id).with_for_update(key_share=True))
    batch = frame.drop_duplicates("prediction_id", keep="first")
    repeats_in_batch = len(frame) - len(batch)
    known_ids = existing_values(
        session, "ground_truth", "prediction_id", batch["prediction_id"], {"model_id": model_id}
    )
    is_known = batch["prediction_id"].isin(known_ids)
    new = batch[~is_known]
    insert_frame(session, "ground_truth", pd.DataFrame({
        "model_id": model_id,
        "prediction_id": new["prediction_id"].to_numpy(),
        "label": new["label"].to_numpy(),
        "ts": new["ts"].array,
        "revision": 1,
    }))
    changed = _apply_corrections(session, model_id, batch[is_known], source)
    update_for_labels(session, model_id=model_id,
                      added=pd.concat([new[["prediction_id", "label"]], changed[["prediction_id", "label"]]]),
                      removed=changed[["prediction_id", "old_label"]].rename(columns={"old_label": "label"}))
    corrected = len(changed)
    unchanged = int(is_known.sum()) - corrected + repeats_in_batch
    return LabelCounts(inserted=len(new), corrected=corrected, unchanged=unchanged)


def _apply_corrections(session: Session, model_id: int, known: pd.DataFrame, source: str) -> pd.DataFrame:
    """Correct the changed labels among ``known``; return them (``prediction_id``, ``label``, ``old_label``...)."""
    none = pd.DataFrame(columns=["prediction_id", "label", "old_label"])
    if known.empty:
        return none
    current = _current_labels(session, model_id, known["prediction_id"].tolist())
    merged = known.merge(current, on="prediction_id")
    changed = merged[merged["label"] != merged["old_label"]]
    if changed.empty:
        return none
    now = db_now(session)  # the store's clock, as the stale-window checks compare with it
    records = changed.to_dict("records")
    session.execute(
        update(GroundTruth),
        [
            {"id": int(r["gt_id"]), "label": r["label"], "ts": r["ts"].to_pydatetime(),
             "revision": int(r["revision"]) + 1, "updated_at": now}
            for r in records
        ],
    )
    session.execute(
        insert(LabelRevision),
        [
            {"ground_truth_id": int(r["gt_id"]), "old_label": r["old_label"], "new_label": r["label"],
             "source": source}
            for r in records
        ],
    )
    return changed


def _current_labels(session: Session, model_id: int, prediction_ids: list[str]) -> pd.DataFrame:
    """Stored labels of ``prediction_ids``, fetched in slices that stay under bind-parameter limits."""
    rows: list[Sequence[Any]] = []
    for start in range(0, len(prediction_ids), _IN_SLICE):
        rows += session.execute(
            select(GroundTruth.id, GroundTruth.prediction_id, GroundTruth.label, GroundTruth.revision).where(
                GroundTruth.model_id == model_id,
                GroundTruth.prediction_id.in_(prediction_ids[start : start + _IN_SLICE]),
            )
        ).all()
    return pd.DataFrame(rows, columns=["gt_id", "prediction_id", "old_label", "revision"])


def labels_for_window(
    session: Session, *, model_id: int, model_version_id: int, start: datetime, end: datetime
) -> pd.DataFrame:
    """Labels of the version's predictions with ``start <= prediction ts < end``.

    Columns: ``prediction_id``, ``label`` (text as stored), ``label_ts`` (UTC).
    """
    rows = session.execute(
        select(GroundTruth.prediction_id, GroundTruth.label, GroundTruth.ts)
        .join(
            Prediction,
            (Prediction.prediction_id == GroundTruth.prediction_id)
            & (Prediction.model_version_id == model_version_id),
        )
        .where(GroundTruth.model_id == model_id, Prediction.ts >= start, Prediction.ts < end)
    ).all()
    frame = pd.DataFrame(rows, columns=["prediction_id", "label", "label_ts"])
    archived = archived_labels(session, model_version_id=model_version_id, start=start, end=end)
    if archived.empty:
        return frame
    late = _store_labels(session, model_id, archived["prediction_id"].tolist())  # corrected or late labels win
    parts = [part for part in (frame, late, archived.dropna(subset=["label"])) if len(part)]
    if not parts:
        return frame
    merged = pd.concat(parts, ignore_index=True)
    return merged.loc[~merged["prediction_id"].duplicated(keep="first").to_numpy()].reset_index(drop=True)


def _store_labels(session: Session, model_id: int, prediction_ids: list[str]) -> pd.DataFrame:
    """Stored labels of the given prediction ids (predictions archived before their label arrived)."""
    rows: list[Any] = []
    for start in range(0, len(prediction_ids), _IN_SLICE):
        rows += session.execute(
            select(GroundTruth.prediction_id, GroundTruth.label, GroundTruth.ts).where(
                GroundTruth.model_id == model_id,
                GroundTruth.prediction_id.in_(prediction_ids[start : start + _IN_SLICE]))
        ).all()
    return pd.DataFrame(rows, columns=["prediction_id", "label", "label_ts"])


def label_history(session: Session, *, model_id: int, prediction_id: str) -> pd.DataFrame:
    """Corrections of one label, oldest first: ``old_label``, ``new_label``, ``source``, ``changed_at``."""
    rows = session.execute(
        select(LabelRevision.old_label, LabelRevision.new_label, LabelRevision.source, LabelRevision.changed_at)
        .join(GroundTruth, GroundTruth.id == LabelRevision.ground_truth_id)
        .where(GroundTruth.model_id == model_id, GroundTruth.prediction_id == prediction_id)
        .order_by(LabelRevision.id)
    ).all()
    return pd.DataFrame(rows, columns=["old_label", "new_label", "source", "changed_at"])
