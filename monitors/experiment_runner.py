"""Evaluate configured experiments over windows: query -> per-arm figures -> cumulative looks -> store.

Windows are tiles of the experiment's ``window`` (:mod:`driftscope.monitors.windows`), planned as
the monitors plan theirs: ``window_end`` the tile ending there, ``backfill_from`` every tile from
there up to one after the arms' last prediction (or ``backfill_until``), and by default every tile
from the experiment's newest stored look up to the latest complete one (only the latest before any
look is stored), so a missed run leaves no hole in the cumulative data. A scheduled run also evaluates
again the windows of the last :data:`EVIDENCE_LOOKBACK` whose arms gained an outcome the experiment
reads, or a label it needs, after their look was computed
(:func:`driftscope.storage.experiments.looks_with_new_evidence`): outcomes and labels arrive late.

For each planned window the arms' own figures are computed
(:mod:`driftscope.monitors.experiment_figures`) and merged with the figures of the windows stored
before; the whole sequence is evaluated again (:func:`driftscope.monitors.experiments.evaluate`) and
every look is written in one transaction. Looks that come out the same are not touched, so
evaluating unchanged data twice changes nothing. Outcomes and labels that arrive after a window was
evaluated count when that window is evaluated again: in the next scheduled run within the lookback,
or by ``--backfill``.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from driftscope.errors import NotFoundError
from driftscope.modelspec import ModelConfig, probability_columns
from driftscope.monitors.experiment_config import ExperimentConfig
from driftscope.monitors.experiment_figures import arm_figures, window_row
from driftscope.monitors.experiments import Look, evaluate
from driftscope.monitors.windows import (
    Window,
    align,
    attach_labels,
    latest_tile,
    next_boundary,
    tiles_between,
    window_ending,
)
from driftscope.storage.db import read_transaction, transaction
from driftscope.storage.experiments import last_look_end, looks_with_new_evidence, put_looks, stored_arms
from driftscope.storage.labels import labels_for_window
from driftscope.storage.outcomes import outcomes_for_window
from driftscope.storage.predictions import last_prediction_at, read_window
from driftscope.storage.registry import VersionInfo, list_versions

log = logging.getLogger(__name__)
EVIDENCE_LOOKBACK = timedelta(days=14)
"""How far back a scheduled run looks for windows whose outcomes or labels arrived after their look."""


class ExperimentSettings(Protocol):
    """What experiments read from the whole configuration (:class:`driftscope.config.Config` has it)."""

    @property
    def experiments(self) -> Sequence[ExperimentConfig]: ...

    def model(self, name: str) -> ModelConfig: ...


@dataclass(frozen=True)
class ExperimentRun:
    """What one evaluation of an experiment did: the windows computed, the looks written, the newest look."""

    experiment: str
    windows: tuple[Window, ...]
    changed: int
    latest: Look | None


def select_experiments(config: ExperimentSettings, *, model: str | None = None, version: str | None = None,
                       experiment: str | None = None) -> list[ExperimentConfig]:
    """The configured experiments named ``experiment``, of ``model``, comparing ``version`` (all when None)."""
    chosen = [e for e in config.experiments if experiment is None or e.name == experiment]
    if experiment is not None and not chosen:
        names = ", ".join(e.name for e in config.experiments) or "none configured"
        raise NotFoundError(f"no experiment named {experiment!r}; configured: {names}")
    return [e for e in chosen if (model is None or e.model == model)
            and (version is None or version in (e.control, e.treatment))]


def run_experiments(
    engine: Engine, config: ExperimentSettings, *, experiments: Sequence[ExperimentConfig] | None = None,
    window_end: datetime | None = None, backfill_from: datetime | None = None,
    backfill_until: datetime | None = None, now: datetime | None = None,
) -> list[ExperimentRun]:
    """Evaluate ``experiments`` (default all) for their windows and store the looks.

    An experiment whose versions are not in the store yet (``driftscope apply``) is skipped with a
    warning; a failure is logged and the next experiment still runs.
    """
    now = now or datetime.now(UTC)
    runs = []
    for experiment in config.experiments if experiments is None else experiments:
        try:
            run = _run_one(engine, config, experiment, window_end, backfill_from, backfill_until, now)
        except Exception:  # one broken experiment must not stop the others
            log.exception("evaluating experiment %r failed", experiment.name)
            continue
        if run is not None:
            runs.append(run)
    return runs


def _run_one(engine: Engine, config: ExperimentSettings, experiment: ExperimentConfig, window_end: datetime | None,
             backfill_from: datetime | None, backfill_until: datetime | None, now: datetime) -> ExperimentRun | None:
    read_at = datetime.now(UTC)  # wall clock, as received_at/updated_at are (``now`` may be simulated)
    with read_transaction(engine) as session:
        arms = _arms(session, experiment)
        if arms is None:
            return None
        control, treatment = arms
        windows = _plan(session, experiment, control, treatment, window_end, backfill_from, backfill_until, now)
        stale = [] if window_end is not None or backfill_from is not None else _stale(session, experiment, control,
                                                                                      treatment, now)
        windows = sorted({w.start: w for w in [*stale, *windows]}.values(), key=lambda w: w.start)
        stored = stored_arms(session, experiment=experiment.name, treatment_version_id=treatment.id,
                             control_version_id=control.id)
        model = config.model(experiment.model)
        fresh = {w.start: {"window_start": w.start, "window_end": w.end,
                           "arms": {"primary": experiment.primary.name,
                                    "control": _figures(session, experiment, model, control, w),
                                    "treatment": _figures(session, experiment, model, treatment, w)}}
                 for w in windows}
    figures: dict[pd.Timestamp, dict[str, Any]] = {
        pd.Timestamp(r["window_start"]): {str(k): v for k, v in r.items()} for r in stored.to_dict("records")}
    figures.update({pd.Timestamp(k): v for k, v in fresh.items()})
    ordered = [figures[k] for k in sorted(figures)]
    looks = evaluate_figures(experiment, ordered)
    records = [{"window_start": f["window_start"], "arms": f["arms"], **_look_fields(look)}
               for f, look in zip(ordered, looks, strict=True)]
    with transaction(engine) as session:
        changed = put_looks(session, experiment=experiment.name, control_version_id=control.id,
                            treatment_version_id=treatment.id, looks=records, read_at=read_at,
                            refreshed={w.start for w in stale})
    latest = looks[-1] if looks else None
    if latest is not None:
        log.info("experiment %s: %s after the window ending %s (%d looks changed)", experiment.name,
                 latest.verdict, latest.window_end, len(changed))
    return ExperimentRun(experiment.name, tuple(windows), len(changed), latest)


def evaluate_figures(experiment: ExperimentConfig, figures: Sequence[dict[str, Any]]) -> list[Look]:
    """The looks of a sequence of windows' per-arm figures (``window_start``, ``window_end``, ``arms``)."""
    if not figures:
        return []
    names = [g.name for g in experiment.guardrails]
    frame = pd.DataFrame([{"window_start": pd.Timestamp(f["window_start"]), "window_end": pd.Timestamp(f["window_end"]),
                           **window_row(f["arms"]["control"], f["arms"]["treatment"], names)} for f in figures])
    return evaluate(frame, direction=experiment.primary.direction, alpha=experiment.alpha,
                    minimum_effect=experiment.minimum_effect, guardrails=experiment.guardrail_rules())


def _look_fields(look: Look) -> dict[str, Any]:
    return {"window_end": look.window_end.to_pydatetime(), "n_control": look.n_control,
            "n_treatment": look.n_treatment, "control_mean": look.control_mean,
            "treatment_mean": look.treatment_mean, "effect": look.effect, "low": look.low, "high": look.high,
            "verdict": look.verdict, "decided": look.decided,
            "decided_at": None if look.decided_at is None else look.decided_at.to_pydatetime(),
            "reason": look.reason, "breaches": list(look.breaches), "samples_needed": look.samples_needed}


def _arms(session: Session, experiment: ExperimentConfig) -> tuple[VersionInfo, VersionInfo] | None:
    versions = {v.version: v for v in list_versions(session, model=experiment.model)}
    missing = [v for v in (experiment.control, experiment.treatment) if v not in versions]
    if missing:
        log.warning("experiment %r: model %r has no version %s in the store yet; run `driftscope apply`",
                    experiment.name, experiment.model, ", ".join(repr(v) for v in missing))
        return None
    return versions[experiment.control], versions[experiment.treatment]


def _plan(session: Session, experiment: ExperimentConfig, control: VersionInfo, treatment: VersionInfo,
          window_end: datetime | None, backfill_from: datetime | None, backfill_until: datetime | None,
          now: datetime) -> list[Window]:
    width = experiment.window
    if window_end is not None:
        return [window_ending(window_end, width)]
    if backfill_from is not None:
        return tiles_between(backfill_from, _backfill_end(session, (control, treatment), experiment, backfill_until,
                                                          now), width)
    latest = latest_tile(now, width)
    last = last_look_end(session, experiment=experiment.name, treatment_version_id=treatment.id)
    if last is None or last >= latest.end:
        return [latest]
    return tiles_between(last, latest.end, width)


def _stale(session: Session, experiment: ExperimentConfig, control: VersionInfo, treatment: VersionInfo,
           now: datetime) -> list[Window]:
    """Stored windows of the last :data:`EVIDENCE_LOOKBACK` whose outcomes or labels arrived after their look."""
    outcomes = [name.removeprefix("outcome:") for name in (experiment.primary.name, *(g.name for g in
                experiment.guardrails)) if name.startswith("outcome:")]
    found = looks_with_new_evidence(session, experiment=experiment.name, model_id=treatment.model_id,
                                    control_version_id=control.id, treatment_version_id=treatment.id,
                                    since=now - EVIDENCE_LOOKBACK, outcomes=outcomes, labels=_needs_labels(experiment))
    return [Window(start, end) for start, end in found]


def _backfill_end(session: Session, arms: tuple[VersionInfo, ...], experiment: ExperimentConfig,
                  until: datetime | None, now: datetime) -> datetime:
    if until is not None:
        return min(until, now)
    seen = [t for t in (last_prediction_at(session, model_version_id=v.id) for v in arms) if t is not None]
    if not seen:
        return now
    width = experiment.window
    return min(now, next_boundary(next_boundary(align(max(seen), width), width), width))


def _figures(session: Session, experiment: ExperimentConfig, model: ModelConfig, version: VersionInfo,
             window: Window) -> dict[str, float | None]:
    requests = read_window(session, model_version_id=version.id, start=window.start, end=window.end)
    if requests.empty:
        requests = pd.DataFrame({"prediction_id": pd.Series(dtype=object), "prediction": pd.Series(dtype=float)})
    outcomes = outcomes_for_window(session, model_id=version.model_id, model_version_id=version.id,
                                   start=window.start, end=window.end)
    if _needs_labels(experiment):
        labels = labels_for_window(session, model_id=version.model_id, model_version_id=version.id,
                                   start=window.start, end=window.end)
        requests = attach_labels(requests, labels, requests["prediction"])
    return arm_figures(requests, outcomes, experiment=experiment, task=model.task,
                       seconds=(window.end - window.start).total_seconds(),
                       positive_label=version.column_schema.get("positive_label", 1),
                       probability_columns=probability_columns(version.column_schema))


def _needs_labels(experiment: ExperimentConfig) -> bool:
    return experiment.primary.metric is not None or any(g.metric is not None for g in experiment.guardrails)
