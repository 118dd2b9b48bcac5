"""The runner's profile path: a window whose rows are not in the store still gets a result and an alert."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
from helpers_monitor import applied, config_document, credit_frame
from sqlalchemy import Engine

from driftscope.config import parse_config
from driftscope.monitors.runner import run_monitors
from driftscope.pipeline import drain_outbox
from driftscope.storage.alerts import list_alerts
from driftscope.storage.db import transaction
from driftscope.storage.profiles.compute import DAY, profile_table
from driftscope.storage.profiles.store import add_profiles, load_specs
from driftscope.storage.registry import get_version
from driftscope.storage.results import drift_results

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def test_a_window_without_raw_rows_is_computed_from_profiles_and_alerts(sqlite_engine: Engine, tmp_path: Path
                                                                         ) -> None:
    document = config_document(tmp_path, str(sqlite_engine.url), [
        {"name": "drift", "model": "credit", "kind": "data_drift", "window": "1d"},
        {"name": "drift-rows", "model": "credit", "kind": "data_drift", "window": "1d", "path": "rows"}], n=3000)
    document["alerts"] = {"rules": [{"name": "drifted", "monitor": "drift", "when": "dataset_drift",
                                     "channels": []}]}
    config = applied(sqlite_engine, parse_config(document, base_dir=tmp_path))
    frame = credit_frame(5000, kind="covariate", seed=7, start=T0.replace(tzinfo=None),
                         step=timedelta(seconds=17)).drop(columns=["label"])
    with transaction(sqlite_engine) as session:  # what a lake source stores: day profiles, no rows
        version = get_version(session, "credit", "1.0")
        specs = load_specs(session, model_version_id=version.id)
        profiles = profile_table(pa.Table.from_pandas(frame, preserve_index=False), specs, bucket_seconds=DAY)
        add_profiles(session, model_version_id=version.id, profiles=profiles, bucket_seconds=DAY)
    by_profile, by_rows = run_monitors(sqlite_engine, config, window_end=T0 + timedelta(days=1))
    assert (by_profile.status, by_profile.n_rows, by_profile.summary["dataset_drift"]) == ("succeeded", 5000, True)
    assert by_rows.n_rows == 0 and by_rows.summary["dataset_drift"] is False
    with transaction(sqlite_engine) as session:
        rows = drift_results(session, run_id=by_profile.id).set_index("feature")
    assert set(rows["path"]) == {"profile"}
    assert rows.loc["income", "method"] == "wasserstein" and rows.loc["income", "error_bound"] > 0
    assert rows.loc["income", "drifted"] and not rows.loc["has_card", "drifted"]
    drain_outbox(sqlite_engine, config, now=T0 + timedelta(days=1, hours=1))
    with transaction(sqlite_engine) as session:
        alerts = list_alerts(session)
    assert alerts["rule"].tolist() == ["drifted"]
