"""Experiment looks: one row per (experiment, treatment version, window), written and read by name.

A look keeps the window's own figures per arm (``arms``) and the cumulative verdict computed from
all windows so far (:mod:`driftscope.monitors.experiments`). Writing the same look again changes
nothing (:func:`put_looks` compares before it updates), so re-evaluating unchanged data neither
stamps ``computed_at`` nor lets a rule notify twice; the alert a decision raised is linked to its
look (:func:`link_alert`), which is how a rule knows the decision was already announced.

``computed_at`` is when the data of a look was read (see :func:`put_looks`): an outcome received or a
label written after it (:func:`looks_with_new_evidence`) means the window must be evaluated again.
"""

import math
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from driftscope.storage.models import ExperimentLook, GroundTruth, Model, ModelVersion, Outcome, Prediction

LOOK_FIELDS = ("window_end", "arms", "n_control", "n_treatment", "control_mean", "treatment_mean", "effect", "low",
               "high", "verdict", "decided", "decided_at", "reason", "breaches", "samples_needed")
"""Columns :func:`put_looks` writes (besides the key: experiment, versions, ``window_start``)."""
_FRAME = ("id", "experiment", "control_version_id", "treatment_version_id", "window_start", *LOOK_FIELDS,
          "alert_id", "computed_at")


def read_stamp(read_at: datetime) -> datetime:
    """The ``computed_at`` of looks computed from data read at ``read_at``: one second earlier, whole seconds.

    SQLite's ``CURRENT_TIMESTAMP`` (an outcome's ``received_at``, a label's ``updated_at``) has whole
    seconds and sorts below a bound datetime of the same second, so evidence that arrived while the data
    was read still counts as new; at worst a window is evaluated once more.
    """
    return read_at.replace(microsecond=0) - timedelta(seconds=1)


def put_looks(session: Session, *, experiment: str, control_version_id: int, treatment_version_id: int,
              looks: list[dict[str, Any]], read_at: datetime, refreshed: Collection[datetime] = ()) -> list[int]:
    """Insert or update the looks of one experiment (keys: ``window_start`` plus :data:`LOOK_FIELDS`).

    ``read_at`` is when the windows' data was read (before it was read); inserted and changed looks
    get ``computed_at`` = :func:`read_stamp` of it. A stored look whose fields all equal the new ones
    is left alone, unless its ``window_start`` is in ``refreshed`` (windows evaluated again because
    evidence arrived after their look): those only get the new ``computed_at``, so the same evidence
    does not send them back every run. Returns the ids of the looks inserted or changed. Flushes,
    never commits.
    """
    if not looks:
        return []
    stamp = read_stamp(read_at)
    stored = {row.window_start: row for row in session.scalars(select(ExperimentLook).where(
        ExperimentLook.experiment == experiment, ExperimentLook.treatment_version_id == treatment_version_id,
        ExperimentLook.window_start.in_([look["window_start"] for look in looks])))}
    touched: list[ExperimentLook] = []
    for look in looks:
        values = {k: _clean(look[k]) for k in LOOK_FIELDS}
        row = stored.get(look["window_start"])
        if row is None:
            row = ExperimentLook(experiment=experiment, control_version_id=control_version_id,
                                 treatment_version_id=treatment_version_id, window_start=look["window_start"],
                                 computed_at=stamp, **values)
            session.add(row)
        elif row.control_version_id == control_version_id and all(
                _same(getattr(row, k), v) for k, v in values.items()):
            if look["window_start"] in refreshed:
                row.computed_at = max(row.computed_at, stamp)
            continue
        else:
            row.control_version_id = control_version_id
            for key, value in values.items():
                setattr(row, key, value)
            row.computed_at = stamp
        touched.append(row)
    session.flush()
    return [row.id for row in touched]


def stored_arms(session: Session, *, experiment: str, treatment_version_id: int, control_version_id: int
                ) -> pd.DataFrame:
    """The stored windows of an experiment with their per-arm figures: ``window_start``, ``window_end``, ``arms``."""
    rows = session.execute(select(ExperimentLook.window_start, ExperimentLook.window_end, ExperimentLook.arms).where(
        ExperimentLook.experiment == experiment, ExperimentLook.treatment_version_id == treatment_version_id,
        ExperimentLook.control_version_id == control_version_id).order_by(ExperimentLook.window_end)).all()
    return pd.DataFrame(rows, columns=["window_start", "window_end", "arms"])


def looks_with_new_evidence(
    session: Session, *, experiment: str, model_id: int, control_version_id: int, treatment_version_id: int,
    since: datetime, outcomes: Sequence[str], labels: bool,
) -> list[tuple[datetime, datetime]]:
    """``(window_start, window_end)`` of the looks with ``window_end >= since`` whose data changed after them.

    A look's data changed when a prediction of either arm in its window gained one of ``outcomes``
    (``received_at >= computed_at``; outcomes arrive late and the first value stays) or, with
    ``labels``, a label written after it (``updated_at >= computed_at``: late labels and corrections).
    Oldest window first.
    """
    def in_window(model: type[Outcome] | type[GroundTruth]) -> Any:
        return (select(model.id)
                .join(Prediction, (Prediction.prediction_id == model.prediction_id)
                      & Prediction.model_version_id.in_([control_version_id, treatment_version_id]))
                .where(model.model_id == model_id, Prediction.ts >= ExperimentLook.window_start,
                       Prediction.ts < ExperimentLook.window_end))

    changed = [in_window(Outcome).where(Outcome.outcome.in_(list(outcomes)),
                                        Outcome.received_at >= ExperimentLook.computed_at).exists()] if outcomes else []
    if labels:
        changed.append(in_window(GroundTruth).where(GroundTruth.updated_at >= ExperimentLook.computed_at).exists())
    rows = session.execute(
        select(ExperimentLook.window_start, ExperimentLook.window_end)
        .where(ExperimentLook.experiment == experiment, ExperimentLook.treatment_version_id == treatment_version_id,
               ExperimentLook.window_end >= since, or_(false(), *changed))
        .order_by(ExperimentLook.window_start)
    ).all()
    return [(row.window_start, row.window_end) for row in rows]


def last_look_end(session: Session, *, experiment: str, treatment_version_id: int) -> datetime | None:
    """End of the experiment's newest stored window, or None."""
    return session.scalar(select(ExperimentLook.window_end).where(
        ExperimentLook.experiment == experiment, ExperimentLook.treatment_version_id == treatment_version_id,
    ).order_by(ExperimentLook.window_end.desc()).limit(1))


def experiment_looks(session: Session, *, experiment: str, treatment_version_id: int | None = None) -> pd.DataFrame:
    """Every stored look of ``experiment`` in window order (all :data:`LOOK_FIELDS`, ids and ``alert_id``)."""
    query = select(*(getattr(ExperimentLook, c) for c in _FRAME)).where(ExperimentLook.experiment == experiment)
    if treatment_version_id is not None:
        query = query.where(ExperimentLook.treatment_version_id == treatment_version_id)
    rows = session.execute(query.order_by(ExperimentLook.window_end)).all()
    return pd.DataFrame(rows, columns=list(_FRAME))


def deciding_look(session: Session, *, experiment: str, treatment_version_id: int) -> dict[str, Any] | None:
    """The look in whose window the experiment was decided (the first decided one), or None."""
    row = session.execute(
        select(*(getattr(ExperimentLook, c) for c in _FRAME)).where(
            ExperimentLook.experiment == experiment, ExperimentLook.treatment_version_id == treatment_version_id,
            ExperimentLook.decided.is_(True)).order_by(ExperimentLook.window_end).limit(1)
    ).one_or_none()
    return None if row is None else dict(zip(_FRAME, row, strict=True))


def link_alert(session: Session, *, look_id: int, alert_id: int) -> None:
    """Record that the decision of look ``look_id`` was announced by alert ``alert_id``. Flushes."""
    row = session.get(ExperimentLook, look_id)
    if row is not None:
        row.alert_id = alert_id
        session.flush()


def _clean(value: Any) -> Any:
    """NaN (no value yet) is stored as NULL; numpy scalars as Python numbers; timestamps as datetimes."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (list, dict)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, float) and isinstance(new, float):
        return math.isclose(old, new, rel_tol=1e-12, abs_tol=1e-15)
    return bool(old == new)


def experiments_between(session: Session, *, version_ids: list[int]) -> pd.DataFrame:
    """Experiments with stored looks comparing two of ``version_ids``: ``experiment``, ``control_version_id``,
    ``treatment_version_id``, ``last_window_end``; newest first."""
    rows = session.execute(
        select(ExperimentLook.experiment, ExperimentLook.control_version_id, ExperimentLook.treatment_version_id,
               func.max(ExperimentLook.window_end))
        .where(ExperimentLook.control_version_id.in_(version_ids), ExperimentLook.treatment_version_id.in_(version_ids))
        .group_by(ExperimentLook.experiment, ExperimentLook.control_version_id, ExperimentLook.treatment_version_id)
        .order_by(func.max(ExperimentLook.window_end).desc())
    ).all()
    return pd.DataFrame(rows, columns=["experiment", "control_version_id", "treatment_version_id", "last_window_end"])


LATEST_LOOK_COLUMNS = ["experiment", "model", "control", "treatment", "window_end", "effect", "low", "high", "verdict",
                       "decided", "samples_needed"]


def latest_looks(session: Session) -> pd.DataFrame:
    """The newest look of every (experiment, treatment version) with the model's and both versions' names.

    Columns :data:`LATEST_LOOK_COLUMNS` (``control`` and ``treatment`` are version names); one query,
    what a metrics scrape exports.
    """
    newest = (select(ExperimentLook.experiment, ExperimentLook.treatment_version_id,
                     func.max(ExperimentLook.window_end).label("end"))
              .group_by(ExperimentLook.experiment, ExperimentLook.treatment_version_id).subquery())
    control, treatment = aliased(ModelVersion), aliased(ModelVersion)
    rows = session.execute(
        select(ExperimentLook.experiment, Model.name, control.version, treatment.version, ExperimentLook.window_end,
               ExperimentLook.effect, ExperimentLook.low, ExperimentLook.high, ExperimentLook.verdict,
               ExperimentLook.decided, ExperimentLook.samples_needed)
        .join(newest, and_(newest.c.experiment == ExperimentLook.experiment,
                           newest.c.treatment_version_id == ExperimentLook.treatment_version_id,
                           newest.c.end == ExperimentLook.window_end))
        .join(treatment, treatment.id == ExperimentLook.treatment_version_id)
        .join(control, control.id == ExperimentLook.control_version_id)
        .join(Model, Model.id == treatment.model_id)
        .order_by(ExperimentLook.experiment, treatment.version)
    ).all()
    return pd.DataFrame(rows, columns=LATEST_LOOK_COLUMNS)
