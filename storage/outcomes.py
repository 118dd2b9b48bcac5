"""Outcomes: business results of predictions (a click, a conversion, revenue) that arrive late.

Keyed by (model, prediction id, outcome name) and independent of predictions, like labels: an
outcome that arrives before its prediction is kept and joins when the prediction is stored. The
first value stated for a key wins (``ON CONFLICT DO NOTHING``), so re-reading a source, or the same
batch twice, stores each outcome exactly once.

Days rolled over to the archive are read back transparently: the outcomes of archived
predictions come from the archive files (:mod:`driftscope.storage.archive_reads`) and from the
store (an outcome that arrived after its prediction was archived).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from driftscope.storage.archive_reads import archived_outcomes, archived_prediction_ids
from driftscope.storage.bulk import insert_frame_ignoring
from driftscope.storage.models import Model, Outcome, Prediction

OUTCOME_COLUMNS = ("prediction_id", "outcome", "value", "ts")
WINDOW_COLUMNS = ("prediction_id", "outcome", "value", "outcome_ts")
_IN_SLICE = 5_000


@dataclass(frozen=True)
class OutcomeCounts:
    """Outcome of a write: values stored, values skipped (already stored or repeated), and which rows were new.

    ``new`` is aligned with the written frame: True where that row's value was stored.
    """

    stored: int
    duplicates: int
    new: np.ndarray


def write_outcomes(session: Session, *, model_id: int, frame: pd.DataFrame) -> OutcomeCounts:
    """Store new outcomes of one model; skip keys already stored. Flushes, never commits.

    ``frame`` is long: columns ``prediction_id`` (str), ``outcome`` (str), ``value`` (float; 0/1 for
    binary outcomes) and ``ts`` (datetime64, UTC). The stored keys are read first, so the caller
    learns which rows were new; ``ON CONFLICT DO NOTHING`` still guards the insert. Writers of one
    model's outcomes are serialised by a row lock on the model (``FOR NO KEY UPDATE`` on PostgreSQL).
    """
    if frame.empty:
        return OutcomeCounts(0, 0, np.zeros(0, dtype=bool))
    session.execute(select(Model.id).where(Model.id == model_id).with_for_update(key_share=True))
    keys = pd.MultiIndex.from_frame(frame[["prediction_id", "outcome"]].astype(str))
    known = _stored_keys(session, model_id, frame["prediction_id"].astype(str).unique().tolist())
    new = ~keys.duplicated(keep="first") & ~keys.isin(known)
    rows = frame.loc[new, list(OUTCOME_COLUMNS)]
    rows = rows.assign(value=rows["value"].astype("float64")).reset_index(drop=True)
    stored = insert_frame_ignoring(session, "outcomes", rows, ("model_id", "prediction_id", "outcome"),
                                   constants={"model_id": model_id})
    return OutcomeCounts(stored=stored, duplicates=len(frame) - stored, new=np.asarray(new, dtype=bool))


def _stored_keys(session: Session, model_id: int, prediction_ids: list[str]) -> pd.MultiIndex:
    """(prediction id, outcome) keys already stored for ``prediction_ids``, in slices under bind limits."""
    found: list[Any] = []
    for start in range(0, len(prediction_ids), _IN_SLICE):
        found += session.execute(select(Outcome.prediction_id, Outcome.outcome).where(
            Outcome.model_id == model_id, Outcome.prediction_id.in_(prediction_ids[start:start + _IN_SLICE]),
        )).all()
    return pd.MultiIndex.from_tuples(found, names=["prediction_id", "outcome"]) if found else pd.MultiIndex.from_arrays(
        [[], []], names=["prediction_id", "outcome"])


def outcomes_for_window(
    session: Session, *, model_id: int, model_version_id: int, start: datetime, end: datetime
) -> pd.DataFrame:
    """Outcomes of the version's predictions with ``start <= prediction ts < end``, archived days included.

    Columns: ``prediction_id``, ``outcome``, ``value`` (float), ``outcome_ts`` (UTC); one row per
    (prediction id, outcome), sorted by both, so figures that resample the values (bootstrap
    intervals) do not depend on the order the database returns rows in.
    """
    rows = session.execute(
        select(Outcome.prediction_id, Outcome.outcome, Outcome.value, Outcome.ts)
        .join(Prediction, (Prediction.prediction_id == Outcome.prediction_id)
              & (Prediction.model_version_id == model_version_id))
        .where(Outcome.model_id == model_id, Prediction.ts >= start, Prediction.ts < end)
    ).all()
    frame = pd.DataFrame(rows, columns=list(WINDOW_COLUMNS))
    ids = archived_prediction_ids(session, model_version_id=model_version_id, start=start, end=end)
    if ids is not None and len(ids):
        archived = archived_outcomes(session, ids=ids, model_version_id=model_version_id, start=start, end=end)
        late = _outcomes_of(session, model_id, ids["prediction_id"].tolist())
        parts = [part for part in (archived, frame, late) if len(part)]  # the archived value came first
        frame = pd.concat(parts, ignore_index=True) if parts else frame
        frame = frame.loc[~frame.duplicated(["prediction_id", "outcome"], keep="first").to_numpy()]
    frame = frame.assign(outcome_ts=pd.to_datetime(frame["outcome_ts"], utc=True).astype("datetime64[ns, UTC]"))
    return frame.sort_values(["prediction_id", "outcome"], kind="stable", ignore_index=True)


def _outcomes_of(session: Session, model_id: int, prediction_ids: list[str]) -> pd.DataFrame:
    """Stored outcomes of ``prediction_ids`` (of predictions archived before the outcome arrived)."""
    rows: list[Any] = []
    for start in range(0, len(prediction_ids), _IN_SLICE):
        rows += session.execute(select(Outcome.prediction_id, Outcome.outcome, Outcome.value, Outcome.ts).where(
            Outcome.model_id == model_id, Outcome.prediction_id.in_(prediction_ids[start:start + _IN_SLICE]))
        ).all()
    return pd.DataFrame(rows, columns=list(WINDOW_COLUMNS))
