"""Which path computes a window, and the profile path's store reads.

``path`` per data-drift or performance monitor: ``rows`` reads the window's raw rows (the exact
path), ``profile`` merges the window's stored profiles (column profiles for data drift, label
profiles for performance), and ``auto`` (the default) reads rows, except that it uses the profiles

* when the window holds more stored rows than the monitor's ``profile_above_rows`` (when set), or
* when the store holds no rows for the window (a lake source, or days moved to the archive
  without their Parquet files being readable).

A profile-path window without any profile in the store falls back to the rows.
"""

from collections.abc import Callable, Mapping
from functools import partial

import pandas as pd
from sqlalchemy import Engine

from driftscope.monitors.config import MonitorConfig
from driftscope.monitors.data_drift import DataDriftResult
from driftscope.monitors.performance import PerformanceResult
from driftscope.monitors.profiles import ProfileDriftMonitor
from driftscope.monitors.profiles.performance import ProfilePerformanceMonitor
from driftscope.monitors.windows import Window
from driftscope.storage.db import read_transaction
from driftscope.storage.predictions import count_predictions
from driftscope.storage.profiles.labelled_store import window_labelled, window_predictions
from driftscope.storage.profiles.store import load_specs, window_profiles
from driftscope.storage.registry import VersionInfo

PATHS = ("rows", "profile", "auto")
ProfileEvaluator = Callable[[Window], DataDriftResult | PerformanceResult | None]
"""Computes a window from profiles; None when the store holds no profile in it."""


def fit_profile_monitor(engine: Engine, monitor: MonitorConfig, version: VersionInfo, reference: pd.DataFrame,
                        outputs: Mapping[str, str]) -> ProfileDriftMonitor | None:
    """The fitted profile-path monitor of a data-drift monitor; None for ``path: rows`` or a version without specs."""
    if monitor.kind != "data_drift" or monitor.effective_path == "rows":
        return None
    with read_transaction(engine) as session:
        specs = load_specs(session, model_version_id=version.id)
    if not specs:
        return None
    tests = monitor.tests or {}
    return ProfileDriftMonitor(
        version.features, prediction_types=outputs, methods={c: t.method for c, t in tests.items()},
        thresholds={c: t.threshold for c, t in tests.items() if t.threshold is not None},
        drift_share=monitor.effective_drift_share,
    ).fit(reference, specs)


def profile_evaluator(engine: Engine, monitor: MonitorConfig, version: VersionInfo, fitted: object,
                      reference: pd.DataFrame, outputs: Mapping[str, str]) -> ProfileEvaluator | None:
    """How the monitor computes a window from profiles; None when it never does (``path: rows``, no specs)."""
    if monitor.effective_path == "rows":
        return None
    if monitor.kind == "performance" and isinstance(fitted, ProfilePerformanceMonitor):
        return partial(evaluate_label_profiles, engine, fitted, version.id)
    by_profile = fit_profile_monitor(engine, monitor, version, reference, outputs)
    return None if by_profile is None else partial(evaluate_profiles, engine, by_profile, version.id)


def prefers_profiles(engine: Engine, monitor: MonitorConfig, version_id: int, window: Window) -> bool:
    """Whether the window goes to the profiles before its rows are read: ``path: profile``, or ``auto``
    with more stored rows in the window than ``profile_above_rows``."""
    if monitor.effective_path == "profile":
        return True
    if monitor.effective_path != "auto" or monitor.profile_above_rows is None:
        return False
    with read_transaction(engine) as session:
        n_rows = count_predictions(session, model_version_id=version_id, start=window.start, end=window.end)
    return n_rows > monitor.profile_above_rows


def evaluate_profiles(engine: Engine, fitted: ProfileDriftMonitor, version_id: int, window: Window
                      ) -> DataDriftResult | None:
    """The window's drift from its stored profiles; None when the store has no profile in the window."""
    with read_transaction(engine) as session:
        profiles = window_profiles(session, model_version_id=version_id, start=window.start, end=window.end)
    return fitted.evaluate(profiles) if profiles else None


def evaluate_label_profiles(engine: Engine, fitted: ProfilePerformanceMonitor, version_id: int, window: Window
                            ) -> PerformanceResult | None:
    """The window's performance from its label profiles; None when the store has none in the window."""
    with read_transaction(engine) as session:
        profile = window_labelled(session, model_version_id=version_id, start=window.start, end=window.end)
        n_rows = window_predictions(session, model_version_id=version_id, start=window.start, end=window.end)
    return None if profile is None else fitted.evaluate_profile(profile, n_rows=n_rows)
