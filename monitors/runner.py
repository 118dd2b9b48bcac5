"""Compute configured monitors over windows: query -> compute -> store (orchestration only).

For each selected monitor and model version the reference is loaded and the monitor fitted once,
then every planned window is read, evaluated and stored. A window is read in one short
transaction and computed outside any transaction, so collectors are not held up by computation
(SQLite takes its writer lock for every transaction); each (monitor, version, window) is written
in one transaction, replacing an earlier run of the same window. A failure (reference, data or
computation) records a ``failed`` run with the error and the loop continues with the next window
and monitor.

Windows (:mod:`driftscope.monitors.windows`): ``window_end`` computes the tile ending there,
``backfill_from`` every tile from the one containing it up to ``now``, and by default the latest
complete tile before ``now``. Performance, concept-drift and estimated-performance monitors also
recompute earlier runs whose window ended in the last :data:`LABEL_LOOKBACK` (14 days;
:data:`ESTIMATE_LOOKBACK`, 90 days, for estimates waiting for their labels; at least one window)
and whose labels changed since they ran (``driftscope.storage.results.runs_with_new_labels``): labels arrive days
late. A failed run in that span whose window has labels counts as changed (it stored none), so
it is retried. Operational monitors likewise recompute the runs of that span whose predictions
gained an outcome since they ran (``driftscope.storage.results.runs_with_new_outcomes``), and
data-drift and performance monitors those whose window holds a profile written since they ran (a
new or rewritten lake partition: ``driftscope.storage.results.runs_with_new_profiles``), so the
next scheduled run recomputes each such window once. "Since" counts from the store's clock taken
before a window's reads (the run's ``read_at``), so evidence landing while it computes is not lost.
"""

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from driftscope.errors import ConfigError, NotFoundError
from driftscope.modelspec import probability_columns
from driftscope.monitors.bootstrap import DEFAULT_RESAMPLES
from driftscope.monitors.calibrated_drift import Calibration
from driftscope.monitors.calibration.null import NullDistribution
from driftscope.monitors.concept_drift import ConceptDriftMonitor, ConceptDriftResult
from driftscope.monitors.config import MonitorConfig, MonitorSettings
from driftscope.monitors.data_drift import DataDriftMonitor, DataDriftResult
from driftscope.monitors.estimation.monitor import EstimatedPerformanceMonitor, EstimationResult
from driftscope.monitors.operational import BASELINE_WINDOWS, OperationalResult, baseline_of, evaluate_operational
from driftscope.monitors.performance import PerformanceMonitor, PerformanceResult
from driftscope.monitors.profile_path import ProfileEvaluator, prefers_profiles, profile_evaluator
from driftscope.monitors.profiles.performance import ProfilePerformanceMonitor
from driftscope.monitors.windows import (
    LABEL_COLUMN,
    Width,
    Window,
    align,
    attach_labels,
    latest_tile,
    next_boundary,
    nominal_seconds,
    tiles_between,
    window_ending,
)
from driftscope.storage.calibration import StoredNull, get_null, put_null
from driftscope.storage.clock import db_now
from driftscope.storage.db import read_transaction, transaction
from driftscope.storage.estimates import concept_drift_fired
from driftscope.storage.labels import labels_for_window
from driftscope.storage.outcomes import outcomes_for_window
from driftscope.storage.predictions import last_prediction_at, read_window
from driftscope.storage.registry import VersionInfo, get_monitor, list_versions, load_reference
from driftscope.storage.result_series import metric_series
from driftscope.storage.results import (
    RunInfo,
    add_detector_events,
    add_drift_results,
    add_metric_values,
    finish_run,
    get_run,
    runs_with_new_labels,
    runs_with_new_outcomes,
    runs_with_new_profiles,
    start_run,
)

log = logging.getLogger(__name__)

LABEL_LOOKBACK = timedelta(days=14)
ESTIMATE_LOOKBACK = timedelta(days=90)
LABELLED_KINDS = frozenset({"performance", "concept_drift", "estimated_performance"})
PROFILE_KINDS = frozenset({"data_drift", "performance"})
"""Kinds that can compute a window from stored profiles (:mod:`driftscope.monitors.profile_path`)."""
LIVE_STATUSES = frozenset({"active", "shadow"})
Fitted = DataDriftMonitor | PerformanceMonitor | ConceptDriftMonitor | EstimatedPerformanceMonitor
Result = DataDriftResult | PerformanceResult | ConceptDriftResult | EstimationResult | OperationalResult
FAILED_STATUSES = ("error", "timeout")


@dataclass(frozen=True)
class Target:
    """One monitor on one model version and the windows to compute."""

    monitor: MonitorConfig
    monitor_id: int
    version: VersionInfo
    windows: tuple[Window, ...]
    trained_at: datetime | None = None

    def where(self, window: Window | None = None) -> str:
        """Where a message is about: monitor, model, version (and window)."""
        text = f"monitor {self.monitor.name!r}, model {self.version.model!r} version {self.version.version!r}"
        return text if window is None else f"{text}, window {window}"


def run_monitors(
    engine: Engine,
    config: MonitorSettings,
    *,
    monitor: str | None = None,
    model: str | None = None,
    version: str | None = None,
    window_end: datetime | None = None,
    backfill_from: datetime | None = None,
    backfill_until: datetime | None = None,
    now: datetime | None = None,
) -> list[RunInfo]:
    """Compute the configured monitors for their windows and store the results; return the runs.

    Parameters
    ----------
    engine : Engine
        The store (migrated, with ``driftscope apply`` done).
    config : Config
        The configuration; monitors are selected by ``monitor`` and ``model`` (default all).
    version : str, optional
        One version of ``model`` (or of the monitor's model), computed whatever its status.
        Default: the monitor's ``versions`` setting, else every version with status active or shadow.
    window_end, backfill_from : datetime, optional
        The window ending exactly at ``window_end`` (a boundary, else ConfigError naming the nearest
        ones), or every window since ``backfill_from``; not both.
    backfill_until : datetime, optional
        Last end of a backfill; default one window after the version's last stored prediction
        (at most ``now``): empty windows between data are computed, empty ones after it are not.
    now : datetime, optional
        The current time (UTC); default the clock.

    Raises
    ------
    ConfigError
        Contradictory arguments.
    NotFoundError
        An unknown monitor, model or version, or a monitor not registered in the store.
    """
    if window_end is not None and backfill_from is not None:
        raise ConfigError("a window end and a backfill start exclude each other: pass one of them")
    if backfill_until is not None and backfill_from is None:
        raise ConfigError("--until ends a backfill: pass --backfill FROM with it")
    if version is not None and monitor is None and model is None:
        raise ConfigError("a version needs a model or a monitor: versions are named per model")
    now = now or datetime.now(UTC)
    for moment in (now, window_end, backfill_from, backfill_until):
        if moment is not None and moment.tzinfo is None:
            raise ValueError(f"naive datetime {moment!r}: pass a timezone-aware (UTC) timestamp")
    selected = select_monitors(config, monitor=monitor, model=model)
    with transaction(engine) as session:
        targets = [
            target for m in selected
            for target in plan(session, m, version=version, window_end=window_end, backfill_from=backfill_from,
                               backfill_until=backfill_until, now=now)
        ]
    runs: list[RunInfo] = []
    for target in targets:
        runs.extend(run_target(engine, _with_age(config, target)))
    return runs


def _with_age(config: MonitorSettings, target: Target) -> Target:
    """``target`` with its version's ``trained_at`` from the config (operational monitors report the age)."""
    model = config.model(target.monitor.model)
    trained = next((v.trained_at for v in model.versions if v.version == target.version.version), None)
    return dataclasses.replace(target, trained_at=trained)


def select_monitors(config: MonitorSettings, *, monitor: str | None, model: str | None) -> list[MonitorConfig]:
    """The configured monitors named ``monitor`` and/or of ``model`` (all when both are None)."""
    if monitor is not None:
        chosen = [config.monitor(monitor)]
        if model is not None and chosen[0].model != model:
            raise NotFoundError(f"monitor {monitor!r} watches model {chosen[0].model!r}, not {model!r}")
        return chosen
    if model is not None:
        config.model(model)
        chosen = [m for m in config.monitors if m.model == model]
        if not chosen:
            raise NotFoundError(f"no monitor is configured for model {model!r}; add one under 'monitors'")
        return chosen
    return list(config.monitors)


def plan(
    session: Session, monitor: MonitorConfig, *, version: str | None, window_end: datetime | None,
    backfill_from: datetime | None, now: datetime, backfill_until: datetime | None = None,
) -> list[Target]:
    """The (version, windows) targets of one monitor."""
    monitor_id = get_monitor(session, monitor.name).id
    versions = list_versions(session, model=monitor.model)
    if version is not None:
        chosen = [v for v in versions if v.version == version]
        if not chosen:
            known = ", ".join(v.version for v in versions) or "none"
            raise NotFoundError(f"model {monitor.model!r} has no version {version!r} in the store (has: {known})")
    elif monitor.versions:
        chosen = [v for v in versions if v.version in monitor.versions]
    else:
        chosen = [v for v in versions if v.status in LIVE_STATUSES]
    width = monitor.window
    targets = []
    for info in chosen:
        if window_end is not None:
            windows = [window_ending(window_end, width)]
        elif backfill_from is not None:
            windows = tiles_between(backfill_from, _backfill_end(session, info, width, backfill_until, now), width)
        else:
            windows = _latest_and_stale(session, monitor, monitor_id, info, now)
        targets.append(Target(monitor, monitor_id, info, tuple(windows)))
    return targets


def _backfill_end(session: Session, info: VersionInfo, width: Width, until: datetime | None, now: datetime) -> datetime:
    """``until``, else the end of the window after the one holding the version's last prediction (at most ``now``)."""
    if until is not None:
        return min(until, now)
    last = last_prediction_at(session, model_version_id=info.id)
    if last is None:
        return now
    holding_last = next_boundary(align(last, width), width)
    return min(now, next_boundary(holding_last, width))


def _latest_and_stale(
    session: Session, monitor: MonitorConfig, monitor_id: int, info: VersionInfo, now: datetime
) -> list[Window]:
    """The latest tile, after the earlier windows in the lookback whose inputs changed since they ran."""
    latest = latest_tile(now, monitor.window)
    lookback = ESTIMATE_LOOKBACK if monitor.kind == "estimated_performance" else LABEL_LOOKBACK
    since = latest.end - timedelta(seconds=max(lookback.total_seconds(), nominal_seconds(monitor.window)))
    span: dict[str, Any] = {"monitor_id": monitor_id, "model_version_id": info.id, "since": since, "before": latest.end}
    stale: list[RunInfo] = []
    if monitor.kind == "operational":
        stale += runs_with_new_outcomes(session, model_id=info.model_id, **span)
    if monitor.kind in LABELLED_KINDS:
        stale += runs_with_new_labels(session, model_id=info.model_id, **span)
    if monitor.kind in PROFILE_KINDS:
        stale += runs_with_new_profiles(session, labelled=monitor.kind in LABELLED_KINDS, **span)
    windows = sorted({(run.window_start, run.window_end) for run in stale})
    return [Window(start, end) for start, end in windows] + [latest]


class StoreNullCache:
    """Calibrated nulls of one model version, read from and written to the store (own transactions)."""

    def __init__(self, engine: Engine, model_version_id: int, calibration: Calibration) -> None:
        self.engine = engine
        self.model_version_id = model_version_id
        self.calibration = calibration

    def get(self, column: str, method: str, band: int) -> NullDistribution | None:
        """The stored null, or None."""
        c = self.calibration
        with read_transaction(self.engine) as session:
            stored = get_null(session, model_version_id=self.model_version_id, feature=column, method=method,
                              size_band=band, n_draws=c.n_draws, seed=c.seed)
        if stored is None:
            return None
        return NullDistribution(method, band, stored.n_window, stored.n_reference, stored.draws)

    def put(self, column: str, null: NullDistribution) -> None:
        """Store a newly drawn null."""
        with transaction(self.engine) as session:
            put_null(session, model_version_id=self.model_version_id, seed=self.calibration.seed, null=StoredNull(
                column, null.method, null.band, null.n_window, null.n_reference, null.draws))


def build_monitor(monitor: MonitorConfig, version: VersionInfo, engine: Engine | None = None) -> Fitted:
    """The unfitted monitor of ``monitor.kind`` for a version's schema and task.

    With ``engine``, calibrated nulls are kept in the store (computed once per reference and size band).
    """
    schema, task = version.column_schema, version.task
    has_probability = schema.get("probability") is not None
    if monitor.kind == "data_drift":
        outputs = {"prediction": _output_type(task)} | ({"probability": "numeric"} if has_probability else {})
        tests = monitor.tests or {}
        return DataDriftMonitor(
            version.features, prediction_types=outputs, methods={c: t.method for c, t in tests.items()},
            thresholds={c: t.threshold for c, t in tests.items() if t.threshold is not None},
            drift_share=monitor.effective_drift_share, threshold_mode=monitor.effective_thresholds,
            false_alarm_rate=monitor.effective_false_alarm_rate, fdr=monitor.fdr,
            null_cache=None if engine is None else StoreNullCache(
                engine, version.id, Calibration(monitor.effective_false_alarm_rate)),
        )
    if monitor.kind == "performance":
        return ProfilePerformanceMonitor(
            task, metrics=monitor.metrics, has_probability=has_probability or bool(schema.get("probabilities")),
            probability_classes=list(probability_columns(schema)) or None,
            positive_label=schema.get("positive_label", 1), min_labels=monitor.effective_min_labels,
            n_bootstrap=monitor.n_bootstrap or DEFAULT_RESAMPLES, thresholds=monitor.effective_thresholds,
            false_alarm_rate=monitor.effective_false_alarm_rate,
            null_cache=None if engine is None or monitor.effective_thresholds != "calibrated" else StoreNullCache(
                engine, version.id,
                Calibration(monitor.effective_false_alarm_rate, n_draws=monitor.n_bootstrap or DEFAULT_RESAMPLES)),
        )
    if monitor.kind == "estimated_performance":
        return EstimatedPerformanceMonitor(
            task, version.features, metrics=monitor.metrics, positive_label=schema.get("positive_label", 1),
            probability_classes=list(probability_columns(schema)) or None, min_labels=monitor.effective_min_labels,
        )
    return ConceptDriftMonitor(
        task, version.features, detectors=monitor.detectors, has_probability=has_probability,
        min_labels=monitor.effective_min_labels,
    )


def _output_type(task: str) -> str:
    return {"regression": "numeric", "binary_classification": "binary"}.get(task, "categorical")


def run_target(engine: Engine, target: Target) -> list[RunInfo]:
    """Fit once on the version's reference, then compute and store every window of ``target``.

    An operational monitor has no reference: each window is compared with the version's own
    recent windows (:mod:`driftscope.monitors.operational`).
    """
    if target.monitor.kind == "operational":
        return [_run_operational(engine, target, window) for window in target.windows]
    fitted: Fitted | None = None
    reference: pd.DataFrame | None = None
    fit_error = None
    try:
        with read_transaction(engine) as session:
            reference = load_reference(session, model_version_id=target.version.id)
        fitted = build_monitor(target.monitor, target.version, engine).fit(reference)
    except Exception as exc:
        log.exception("fitting %s failed", target.where())
        fit_error = f"fit on the reference failed: {type(exc).__name__}: {exc}"
    n_reference = 0 if reference is None else len(reference)
    like = None if reference is None or LABEL_COLUMN not in reference else reference[LABEL_COLUMN]
    by_profile = None
    if fitted is not None and reference is not None and target.monitor.kind in ("data_drift", "performance"):
        outputs = {"prediction": _output_type(target.version.task)} | (
            {"probability": "numeric"} if target.version.column_schema.get("probability") is not None else {})
        by_profile = profile_evaluator(engine, target.monitor, target.version, fitted, reference, outputs)
    return [_run_window(engine, target, window, fitted, fit_error, n_reference, like, by_profile)
            for window in target.windows]


def _run_window(
    engine: Engine, target: Target, window: Window, fitted: Fitted | None, fit_error: str | None,
    n_reference: int, like: pd.Series | None, by_profile: ProfileEvaluator | None = None,
) -> RunInfo:
    started = time.perf_counter()
    if fitted is None:
        return _store_failure(engine, target, window, fit_error or "fit failed", n_reference, 0.0)
    read_at = _store_clock(engine)
    try:
        result: Result | None = None
        if by_profile is not None and prefers_profiles(engine, target.monitor, target.version.id, window):
            result = by_profile(window)
        if result is None:
            with read_transaction(engine) as session:
                frame = _read(session, target, window, like)
            if by_profile is not None and frame.empty:
                result = by_profile(window)
            result = result or fitted.evaluate(frame)
        if isinstance(result, EstimationResult):
            with read_transaction(engine) as session:
                fired = concept_drift_fired(session, model_version_id=target.version.id, start=window.start,
                                            end=window.end)
            result = result.with_concept_drift(fired)
        run = _store(engine, target, window, result, n_reference, time.perf_counter() - started, read_at)
    except Exception as exc:
        log.exception("%s failed", target.where(window))
        error = f"{type(exc).__name__}: {exc}"
        return _store_failure(engine, target, window, error, n_reference, time.perf_counter() - started, read_at)
    log.info("%s: %s in %.2f s", target.where(window), run.status, run.duration_s or 0.0)
    return run


def _run_operational(engine: Engine, target: Target, window: Window) -> RunInfo:
    started = time.perf_counter()
    info, monitor = target.version, target.monitor
    try:
        with read_transaction(engine) as session:
            read_at = db_now(session)
            frame = read_window(session, model_version_id=info.id, start=window.start, end=window.end)
            outcomes = outcomes_for_window(session, model_id=info.model_id, model_version_id=info.id,
                                           start=window.start, end=window.end)
            history = metric_series(session, model_version_id=info.id, kind="operational", end=window.start,
                                    start=window.start - BASELINE_WINDOWS * (window.end - window.start))
        if frame.empty:
            frame = pd.DataFrame({"prediction_id": pd.Series(dtype=object)})
        result = evaluate_operational(
            frame, outcomes, start=window.start, end=window.end, percentiles=monitor.effective_latency_percentiles,
            outcome_types=dict(info.column_schema.get("outcomes") or {}), trained_at=target.trained_at,
            baseline=baseline_of(history, monitor.name))
        return _store(engine, target, window, result, 0, time.perf_counter() - started, read_at)
    except Exception as exc:
        log.exception("%s failed", target.where(window))
        error = f"{type(exc).__name__}: {exc}"
        return _store_failure(engine, target, window, error, 0, time.perf_counter() - started)


def _store_clock(engine: Engine) -> datetime:
    """The store's clock, taken before a run reads its inputs (the run's ``read_at``)."""
    with read_transaction(engine) as session:
        return db_now(session)


def _read(session: Session, target: Target, window: Window, like: pd.Series | None) -> pd.DataFrame:
    info = target.version
    frame = read_window(session, model_version_id=info.id, start=window.start, end=window.end)
    if "status" in frame:
        frame = frame.loc[~frame["status"].isin(FAILED_STATUSES).to_numpy()].drop(columns=["status"])
        frame = frame.reset_index(drop=True)
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype=float) for c in _canonical_columns(info)})
        frame["ts"] = pd.Series(dtype="datetime64[us, UTC]")
    if target.monitor.kind in LABELLED_KINDS:
        labels = labels_for_window(
            session, model_id=info.model_id, model_version_id=info.id, start=window.start, end=window.end
        )
        frame = attach_labels(frame, labels, like)
    return frame


def _canonical_columns(info: VersionInfo) -> list[str]:
    return ["prediction_id", "ts", "prediction", "probability", *probability_columns(info.column_schema).values(),
            *info.features]


def _store(engine: Engine, target: Target, window: Window, result: Result, n_reference: int,
           duration_s: float, read_at: datetime) -> RunInfo:
    with transaction(engine) as session:
        run_id = start_run(
            session, monitor_id=target.monitor_id, model_version_id=target.version.id,
            window_start=window.start, window_end=window.end, read_at=read_at,
        )
        if isinstance(result, DataDriftResult):
            add_drift_results(session, run_id=run_id, rows=result.drift_rows())
        else:
            add_metric_values(session, run_id=run_id, rows=result.metric_rows())
        if isinstance(result, ConceptDriftResult):
            add_detector_events(session, run_id=run_id, rows=result.event_rows())
        finish_run(
            session, run_id=run_id, status="succeeded", n_rows=result.n_rows, n_reference=n_reference,
            n_labels=getattr(result, "n_labels", 0), summary=result.summary(), duration_s=duration_s,
        )
        return get_run(session, run_id)


def _store_failure(engine: Engine, target: Target, window: Window, error: str, n_reference: int,
                   duration_s: float, read_at: datetime | None = None) -> RunInfo:
    with transaction(engine) as session:
        run_id = start_run(
            session, monitor_id=target.monitor_id, model_version_id=target.version.id,
            window_start=window.start, window_end=window.end, read_at=read_at,
        )
        finish_run(session, run_id=run_id, status="failed", n_reference=n_reference, duration_s=duration_s,
                   error=error)
        return get_run(session, run_id)


def failed(runs: Sequence[RunInfo]) -> list[RunInfo]:
    """The failed runs among ``runs``."""
    return [r for r in runs if r.status == "failed"]
