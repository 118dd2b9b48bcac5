"""Which path computes a data-drift window, and the profile path's store reads.

``path`` per monitor: ``rows`` reads the window's raw rows (the exact path), ``profile`` merges
the window's stored profiles, and ``auto`` (the default) reads rows and falls back to profiles
when the store holds no rows for the window (a lake source, or days moved to the archive).
"""

from collections.abc import Mapping

import pandas as pd
from sqlalchemy import Engine

from driftscope.monitors.config import MonitorConfig
from driftscope.monitors.data_drift import DataDriftResult
from driftscope.monitors.profiles import ProfileDriftMonitor
from driftscope.monitors.windows import Window
from driftscope.storage.db import read_transaction
from driftscope.storage.profiles.store import load_specs, window_profiles
from driftscope.storage.registry import VersionInfo

PATHS = ("rows", "profile", "auto")


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


def evaluate_profiles(engine: Engine, fitted: ProfileDriftMonitor, version_id: int, window: Window
                      ) -> DataDriftResult | None:
    """The window's drift from its stored profiles; None when the store has no profile in the window."""
    with read_transaction(engine) as session:
        profiles = window_profiles(session, model_version_id=version_id, start=window.start, end=window.end)
    return fitted.evaluate(profiles) if profiles else None
