"""The dashboard's only door to the store: cached reads and the operator's writes.

Reads are ``st.cache_data`` entries with a ``ttl`` and ``max_entries``; the engine is passed as an
underscored (unhashed) argument, and every key holds the store URL and the store's *stamp*
(:func:`driftscope.storage.version_summary.store_stamp`, itself cached for :data:`STAMP_TTL_S`), so new monitor
results, alerts, runs and profiles show on the next page load without a restart, whichever process
wrote them (profiles written outside a collector run, by ``db backfill-profiles`` or a lake collect
elsewhere, change the stamp through their day revisions). Reads fall in three groups
(results, alerts, retraining); each write clears the group it changes. Database failures arrive as
:class:`~driftscope.errors.StorageError` with a readable message.
"""

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from driftscope.config import load_config
from driftscope.dashboard.auth import User, require_operator
from driftscope.dashboard.settings import Settings
from driftscope.errors import ConfigError, NotFoundError
from driftscope.monitors import report as evidently_report
from driftscope.storage import alerts as alert_store
from driftscope.storage import (
    archive_restore,
    experiments,
    incidents,
    login_throttle,
    notifications,
    profile_reads,
    registry,
    retraining,
    scheduler_state,
    stream_offsets,
)
from driftscope.storage import drift_history as feature_queries
from driftscope.storage import estimates as estimate_queries
from driftscope.storage import result_series as version_queries
from driftscope.storage import run_history as ops_queries
from driftscope.storage import version_summary as overview_queries
from driftscope.storage.db import make_engine
from driftscope.storage.incidents import IncidentWindows
from driftscope.storage.profile_reads import RangeProfile
from driftscope.storage.registry import VersionInfo
from driftscope.storage.scheduler_state import HeartbeatInfo

__all__ = ["HeartbeatInfo", "IncidentWindows", "RangeProfile", "Store", "VersionInfo"]

STAMP_TTL_S = 2
READ_TTL_S = 600
HEARTBEAT_TTL_S = 10


@dataclass(frozen=True)
class Store:
    """An open store: its URL (the cache key) and the SQLAlchemy engine (typed loosely: no sqlalchemy here)."""

    url: str
    engine: Any


@st.cache_resource(max_entries=4, show_spinner=False)
def open_store(url: str) -> Store:
    """The store at ``url``, checked to be reachable and migrated (raises StorageError otherwise)."""
    engine = make_engine(url)
    try:
        overview_queries.check_store(engine)
    except Exception:
        engine.dispose()
        raise
    return Store(url=url, engine=engine)


_QUERIES: dict[str, tuple[Callable[..., Any], str]] = {
    "versions": (registry.list_versions, "listing model versions"),
    "monitor_kinds": (registry.monitor_kinds, "listing monitors"),
    "incident": (incidents.alert_windows, "reading an alert's windows"),
    "extent": (overview_queries.data_extent, "finding the stored time range"),
    "overview": (profile_reads.overview_with_profiles, "reading the overview"),
    "metric_series": (version_queries.metric_series, "reading performance metrics"),
    "drift_matrix": (version_queries.drift_matrix, "reading data-drift results"),
    "estimation_series": (estimate_queries.estimation_series, "reading estimated performance"),
    "track_record": (estimate_queries.estimation_track_record, "reading the estimator's track record"),
    "drift_share": (version_queries.drift_share_series, "reading dataset drift shares"),
    "detector_events": (version_queries.detector_events, "reading concept-drift events"),
    "volume": (profile_reads.volume, "reading prediction volumes"),
    "range_profile": (profile_reads.range_profile, "reading a feature's profiles"),
    "drift_features": (feature_queries.drift_features, "listing drift features"),
    "feature_history": (feature_queries.feature_history, "reading a feature's drift history"),
    "histogram": (feature_queries.histogram, "reading a feature's histogram"),
    "monitor_runs": (ops_queries.monitor_runs, "reading monitor runs"),
    "collector_runs": (ops_queries.collector_runs, "reading collector runs"),
    "quarantine_counts": (ops_queries.quarantine_counts, "counting quarantined rows"),
    "quarantine_sample": (ops_queries.quarantine_sample, "reading quarantined rows"),
    "stream_lag": (stream_offsets.latest_lag, "reading stream sources' lag"),
    "storage_overview": (archive_restore.storage_overview, "reading the store's size and archived days"),
    "alerts": (alert_store.list_alerts, "reading alerts"),
    "alert_history": (alert_store.alert_history, "reading an alert's history"),
    "delivery_log": (notifications.delivery_log, "reading an alert's delivery log"),
    "requests": (retraining.list_requests, "reading retraining requests"),
    "heartbeat": (scheduler_state.latest_heartbeat, "reading the scheduler heartbeat"),
    "experiments_between": (experiments.experiments_between, "listing experiments"),
    "experiment_looks": (experiments.experiment_looks, "reading an experiment's looks"),
}


def _run(engine: Any, name: str, params: tuple[tuple[str, Any], ...]) -> Any:
    query, doing = _QUERIES[name]
    with overview_queries.store_session(engine, doing=doing, read_only=True) as session:
        return query(session, **dict(params))


@st.cache_data(ttl=STAMP_TTL_S, max_entries=16, show_spinner=False)
def _stamp(_engine: Any, url: str) -> str:
    with overview_queries.store_session(_engine, doing="checking the store for changes", read_only=True) as session:
        return overview_queries.store_stamp(session)


@st.cache_data(ttl=READ_TTL_S, max_entries=512, show_spinner=False)
def _results(_engine: Any, url: str, stamp: str, name: str, params: tuple[tuple[str, Any], ...]) -> Any:
    return _run(_engine, name, params)


@st.cache_data(ttl=READ_TTL_S, max_entries=128, show_spinner=False)
def _alerts(_engine: Any, url: str, stamp: str, name: str, params: tuple[tuple[str, Any], ...]) -> Any:
    return _run(_engine, name, params)


@st.cache_data(ttl=READ_TTL_S, max_entries=32, show_spinner=False)
def _requests(_engine: Any, url: str, stamp: str, name: str, params: tuple[tuple[str, Any], ...]) -> Any:
    return _run(_engine, name, params)


@st.cache_data(ttl=HEARTBEAT_TTL_S, max_entries=4, show_spinner=False)
def _heartbeat(_engine: Any, url: str) -> HeartbeatInfo | None:
    return _run(_engine, "heartbeat", ())


def _read(cache: Callable[..., Any], store: Store, name: str, **params: Any) -> Any:
    key = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))
    return cache(store.engine, store.url, stamp(store), name, key)


def stamp(store: Store) -> str:
    """The store's data stamp: changes whenever results, alerts, runs or profiles are written (checked every 2 s)."""
    return _stamp(store.engine, store.url)


def versions(store: Store) -> list[VersionInfo]:
    """Every registered model version, ordered by model name and version id."""
    return _read(_results, store, "versions")


def monitor_kinds(store: Store, *, model_id: int) -> list[str]:
    """Kinds of the monitors registered for a model (``data_drift``, ``performance``, ...)."""
    return _read(_results, store, "monitor_kinds", model_id=model_id)


def incident(store: Store, *, alert_id: int) -> IncidentWindows | None:
    """The windows alert ``alert_id`` fired on (see storage.incidents), or None when there is no such alert."""
    try:
        return _read(_alerts, store, "incident", alert_id=alert_id)
    except NotFoundError:
        return None


def extent(store: Store) -> tuple[datetime | None, datetime | None]:
    """First and last stored hour (prediction volumes and monitor windows), UTC."""
    return _read(_results, store, "extent")


def overview(store: Store, *, start: datetime, end: datetime) -> pd.DataFrame:
    """Health, volume, label coverage, last run and headline metric per version (see storage.version_summary).

    Profile-only (lake-backed) versions count their predictions from their profiles
    (:func:`driftscope.storage.profile_reads.overview_with_profiles`).
    """
    return _read(_alerts, store, "overview", start=start, end=end)


def metric_series(store: Store, *, version_id: int, start: datetime, end: datetime) -> pd.DataFrame:
    """Performance metrics of a version per run in the range."""
    return _read(_results, store, "metric_series", model_version_id=version_id, start=start, end=end)


def serving_series(store: Store, *, version_id: int, start: datetime, end: datetime) -> pd.DataFrame:
    """Operational figures of a version per window in the range: requests, failures, latency, outcomes, age."""
    return _read(_results, store, "metric_series", model_version_id=version_id, start=start, end=end,
                 kind="operational")


def estimation_series(store: Store, *, version_id: int, start: datetime, end: datetime) -> pd.DataFrame:
    """Estimated performance of a version per window: estimate, band, state, realized value."""
    return _read(_results, store, "estimation_series", model_version_id=version_id, start=start, end=end)


def track_record(store: Store, *, version_id: int) -> pd.DataFrame:
    """The estimator's record per monitor and metric: mean absolute error, share inside the band."""
    return _read(_results, store, "track_record", model_version_id=version_id)


def drift_matrix(store: Store, *, version_id: int, start: datetime, end: datetime) -> pd.DataFrame:
    """Per-feature drift of a version per data-drift run in the range, with the drift score."""
    return _read(_results, store, "drift_matrix", model_version_id=version_id, start=start, end=end)


def drift_share(store: Store, *, version_id: int, start: datetime, end: datetime) -> pd.DataFrame:
    """Share of drifted features per data-drift run in the range."""
    return _read(_results, store, "drift_share", model_version_id=version_id, start=start, end=end)


def detector_events(store: Store, *, version_id: int, start: datetime, end: datetime) -> pd.DataFrame:
    """Concept-drift change points of a version in the range."""
    return _read(_results, store, "detector_events", model_version_id=version_id, start=start, end=end)


def volume(store: Store, *, version_ids: list[int], start: datetime, end: datetime, freq: str) -> pd.DataFrame:
    """Predictions per version and ``freq`` bucket (``"h"`` or ``"D"``); profile counts for profile-only versions."""
    return _read(_results, store, "volume", model_version_ids=version_ids, start=start, end=end, freq=freq)


def experiments_between(store: Store, *, version_ids: list[int]) -> pd.DataFrame:
    """Experiments with looks comparing two of these versions (newest first)."""
    return _read(_results, store, "experiments_between", version_ids=version_ids)


def experiment_looks(store: Store, *, experiment: str, treatment_version_id: int) -> pd.DataFrame:
    """An experiment's looks in window order (effect, bounds, verdict, per-arm figures)."""
    return _read(_results, store, "experiment_looks", experiment=experiment, treatment_version_id=treatment_version_id)


def drift_features(store: Store, *, version_id: int) -> list[str]:
    """Columns with stored drift results for a version."""
    return _read(_results, store, "drift_features", model_version_id=version_id)


def feature_history(store: Store, *, version_id: int, feature: str, start: datetime, end: datetime) -> pd.DataFrame:
    """One feature's drift results per run in the range."""
    return _read(
        _results, store, "feature_history", model_version_id=version_id, feature=feature, start=start, end=end
    )


def histogram(store: Store, *, run_id: int, feature: str) -> dict[str, Any]:
    """The stored reference/current histogram of a feature in one run."""
    return _read(_results, store, "histogram", run_id=run_id, feature=feature)


def distribution(store: Store, *, run_id: int, feature: str) -> pd.DataFrame:
    """Reference vs current shares per bin of a feature in one run (see storage.drift_history.distribution)."""
    return feature_queries.distribution(histogram(store, run_id=run_id, feature=feature))


def range_profile(store: Store, *, version_id: int, feature: str, start: datetime, end: datetime
                  ) -> RangeProfile | None:
    """A column's profiles over the range, merged (None when the version does not profile it)."""
    return _read(_results, store, "range_profile", model_version_id=version_id, column=feature, start=start, end=end)


def range_distribution(profile: RangeProfile) -> pd.DataFrame:
    """Counts and shares per bin or category of a merged range profile (exact)."""
    return profile_reads.distribution(profile)


def range_quantiles(profile: RangeProfile) -> pd.DataFrame:
    """Quantiles of a merged numeric range profile, with the KLL sketch's rank error."""
    return profile_reads.quantiles(profile)


def monitor_runs(store: Store, *, start: datetime, end: datetime, version_id: int | None = None) -> pd.DataFrame:
    """Monitor runs whose window ends in the range, newest first."""
    return _read(_results, store, "monitor_runs", start=start, end=end, model_version_id=version_id)


def collector_runs(store: Store, *, since: datetime) -> pd.DataFrame:
    """Collector runs started since ``since`` (wall clock), newest first."""
    return _read(_results, store, "collector_runs", since=since)


def stream_lag(store: Store) -> pd.DataFrame:
    """Per partition, how far each stream source's newest run ended behind (messages, seconds at most)."""
    return _read(_results, store, "stream_lag")


def storage_overview(store: Store) -> tuple[int, pd.DataFrame]:
    """The store's size (bytes) and each version's archived span with its rows per kind."""
    return _read(_results, store, "storage_overview")


def quarantine_counts(store: Store, *, since: datetime) -> pd.DataFrame:
    """Rows quarantined since ``since`` (wall clock) per source."""
    return _read(_results, store, "quarantine_counts", since=since)


def quarantine_sample(store: Store, *, source: str) -> pd.DataFrame:
    """The newest quarantined rows of one source."""
    return _read(_results, store, "quarantine_sample", source=source)


def alerts(
    store: Store, *, status: str | None = None, model: str | None = None, severity: str | None = None,
    version_id: int | None = None,
) -> pd.DataFrame:
    """Alerts, most recently seen first (``status="active"`` for open and acknowledged)."""
    return _read(_alerts, store, "alerts", status=status, model=model, severity=severity,
                 model_version_id=version_id)


def alert_history(store: Store, *, alert_id: int) -> pd.DataFrame:
    """An alert's events: opened, fired, notified, acknowledged, resolved, with actor and note."""
    return _read(_alerts, store, "alert_history", alert_id=alert_id)


def delivery_log(store: Store, *, alert_id: int) -> pd.DataFrame:
    """Every delivery attempt of an alert's notifications."""
    return _read(_alerts, store, "delivery_log", alert_id=alert_id)


def retraining_requests(store: Store, *, version_id: int | None = None) -> pd.DataFrame:
    """Retraining requests, newest first."""
    return _read(_requests, store, "requests", model_version_id=version_id)


def heartbeat(store: Store) -> HeartbeatInfo | None:
    """The newest scheduler heartbeat, or None when no scheduler has run (cached 10 s, not stamped)."""
    return _heartbeat(store.engine, store.url)


def report_available() -> bool:
    """True when Evidently (the ``report`` extra) is installed."""
    return importlib.util.find_spec("evidently") is not None


def write_report(store: Store, settings: Settings, *, model: str, version: str, start: datetime,
                 end: datetime) -> Path:
    """Write Evidently's drift report of ``[start, end)`` into the reports folder (as ``driftscope report`` does)."""
    if settings.config_path is None:
        raise ConfigError("generating a report needs the config file: start the dashboard with --config")
    config = load_config(Path(settings.config_path))
    return evidently_report.write_report(store.engine, config, model=model, version=version, window_end=end,
                                         window_start=start, reports_dir=settings.reports_dir)


def acknowledge_alert(store: Store, *, user: User, alert_id: int, note: str | None) -> None:
    """Acknowledge an open alert as ``user`` (operators only); clears the alert caches."""
    require_operator(user, "acknowledging an alert")
    with overview_queries.store_session(store.engine, doing=f"acknowledging alert {alert_id}") as session:
        alert_store.acknowledge_alert(session, alert_id=alert_id, actor=user.name, note=note or None)
    _after_write(_alerts)


def resolve_alert(store: Store, *, user: User, alert_id: int, note: str | None) -> None:
    """Resolve an active alert as ``user`` (operators only); clears the alert caches."""
    require_operator(user, "resolving an alert")
    with overview_queries.store_session(store.engine, doing=f"resolving alert {alert_id}") as session:
        alert_store.resolve_alert(session, alert_id=alert_id, actor=user.name, note=note or None)
    _after_write(_alerts)


def request_retraining(store: Store, *, user: User, version_id: int, reason: str) -> int:
    """Ask for retraining of a version as ``user`` (operators only); returns the request id."""
    require_operator(user, "requesting retraining")
    with overview_queries.store_session(store.engine, doing="requesting retraining") as session:
        request_id = retraining.request_retraining(
            session, model_version_id=version_id, reason=reason, requested_by=user.name, trigger="manual"
        )
    _after_write(_requests)
    return request_id


def _after_write(cache: Any) -> None:
    cache.clear()
    _stamp.clear()


def login_wait(store: Store, *, username: str, client: str) -> float:
    """Seconds until ``username`` may try to sign in again from ``client`` (0 when it may now)."""
    keys = [login_throttle.throttle_key("user", username), login_throttle.throttle_key("client", client)]
    with overview_queries.store_session(store.engine, doing="checking the sign-in throttle") as session:
        return login_throttle.login_wait(session, keys=keys).total_seconds()


def record_login_failure(store: Store, *, username: str, client: str) -> float:
    """Count a failed sign-in for ``username`` and for ``client``; returns the lock it caused, in seconds."""
    keys = [login_throttle.throttle_key("user", username), login_throttle.throttle_key("client", client)]
    with overview_queries.store_session(store.engine, doing="recording a failed sign-in") as session:
        return login_throttle.record_login_failure(session, keys=keys).total_seconds()


def clear_login_failures(store: Store, *, username: str) -> None:
    """Forget ``username``'s failed sign-ins after a successful one."""
    with overview_queries.store_session(store.engine, doing="recording a sign-in") as session:
        login_throttle.clear_login_failures(session, keys=[login_throttle.throttle_key("user", username)])
