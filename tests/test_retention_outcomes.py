"""Outcomes in the retention roll-over (issue #14): archived with their prediction's day, read back transparently.

The operational monitor recomputes archived windows with identical figures (bootstrap intervals
included); an outcome that arrives after its prediction was archived still joins, a later
duplicate of an archived key stays ignored (the first value wins) through reads and restores;
and a shadow version that scored the same requests keeps its labels and outcomes.
"""

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from helpers_collect import MODEL, T0, log_rows
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest
from test_dashboard_app import APP
from test_operational_monitor import serving_document

from driftscope.apply import apply_config
from driftscope.collectors import log_outcomes, log_predictions
from driftscope.config import Config, parse_config
from driftscope.monitors.runner import run_monitors
from driftscope.storage.archive import run_archive
from driftscope.storage.archive_restore import list_archive, restore
from driftscope.storage.config import RetentionConfig
from driftscope.storage.db import transaction
from driftscope.storage.labels import labels_for_window, write_labels
from driftscope.storage.models import Outcome
from driftscope.storage.outcomes import outcomes_for_window
from driftscope.storage.registry import get_version
from driftscope.storage.results import metric_values

N = 3000  # one request a minute from T0: days 0 and 1 whole, 2 hours of day 2
DAYS = (T0, T0 + timedelta(days=2))


def _config(tmp_path, engine) -> Config:
    document = serving_document(tmp_path, engine.url.render_as_string(hide_password=False))
    document["monitors"][0] |= {"window": "6h", "versions": ["1.0", "2.0"]}
    document["alerts"] = {"rules": []}
    config = parse_config(document, base_dir=tmp_path)
    apply_config(config, engine)
    return config


def _log(engine, versions: tuple[str, ...] = ("1.0",)) -> None:
    rng = np.random.default_rng(3)
    rows = log_rows(N).assign(latency_ms=rng.gamma(2.0, 40.0, N), status=rng.choice(["ok", "error"], N, p=[0.95, 0.05]))
    for version in versions:
        log_predictions(MODEL, version, rows, engine=engine)
    some = rows.iloc[::4]
    log_outcomes(MODEL, pd.DataFrame({"request_id": some["request_id"], "ts": some["ts"] + timedelta(minutes=3),
                                      "clicked": rng.integers(0, 2, len(some)),
                                      "revenue": rng.gamma(2.0, 10.0, len(some)).round(2)}), engine=engine)
    log_outcomes(MODEL, pd.DataFrame({"request_id": ["not-logged"], "ts": [T0], "clicked": [1]}), engine=engine)


def _outcomes(engine, version: str = "1.0") -> pd.DataFrame:
    with transaction(engine) as session:
        info = get_version(session, MODEL, version)
        return outcomes_for_window(session, model_id=info.model_id, model_version_id=info.id, start=DAYS[0],
                                   end=DAYS[1])


def _stored_outcomes(engine) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Outcome)) or 0)


def _metrics(engine, runs) -> list[pd.DataFrame]:
    with transaction(engine) as session:
        return [metric_values(session, run_id=r.id).drop(columns=["id", "run_id"]).sort_values("metric",
                ignore_index=True) for r in runs]


def _archive(engine, tmp_path) -> None:
    run_archive(engine, RetentionConfig(raw="1d", archive=str(tmp_path / "archive")), now=T0 + timedelta(days=3))


def test_the_operational_monitor_recomputes_archived_windows_identically(engine, tmp_path) -> None:
    config = _config(tmp_path, engine)
    _log(engine)
    backfill = {"backfill_from": DAYS[0], "backfill_until": DAYS[1], "now": T0 + timedelta(days=4),
                "monitor": "ops", "version": "1.0"}
    before = _metrics(engine, run_monitors(engine, config, **backfill))
    stored = _stored_outcomes(engine)

    _archive(engine, tmp_path)

    with transaction(engine) as session:
        listing = list_archive(session).set_index("kind")
    assert listing.loc["outcomes", "rows"] == 2 * 720  # two outcomes for every 4th of days 0 and 1's 2880 requests
    assert listing.loc["outcomes", "days"] == 2
    assert _stored_outcomes(engine) == stored - listing.loc["outcomes", "rows"]
    after = _metrics(engine, run_monitors(engine, config, **backfill))
    assert len(after) == len(before) == 8
    for old, new in zip(before, after, strict=True):
        pd.testing.assert_frame_equal(old, new)
    assert {"outcome:clicked", "outcome:revenue", "outcome_share"} <= set(after[0]["metric"])
    assert after[0].set_index("metric").loc["outcome:revenue", "ci_low"] is not None


def test_late_outcomes_join_archived_predictions_and_the_first_value_survives_restore(engine, tmp_path) -> None:
    _config(tmp_path, engine)
    _log(engine)
    before = _outcomes(engine)
    _archive(engine, tmp_path)
    first = before.loc[before["prediction_id"] == "r4"].set_index("outcome")["value"]

    log_outcomes(MODEL, pd.DataFrame({"request_id": ["r4", "r5"], "ts": [T0, T0], "revenue": [999.0, 7.0]}),
                 engine=engine)  # r4's revenue is archived already; r5 had none

    late = _outcomes(engine)
    assert len(late) == len(before) + 1
    assert late.set_index(["prediction_id", "outcome"]).loc[("r5", "revenue"), "value"] == 7.0
    assert late.set_index(["prediction_id", "outcome"]).loc[("r4", "revenue"), "value"] == first["revenue"]
    done = restore(engine, model=MODEL, version="1.0", start=DAYS[0], end=DAYS[1])
    again = restore(engine, model=MODEL, version="1.0", start=DAYS[0], end=DAYS[1])
    assert (done.days, done.outcomes, again.days, again.outcomes) == (2, len(before) - 1, 0, 0)
    pd.testing.assert_frame_equal(late, _outcomes(engine))


def test_a_shadow_version_scoring_the_same_requests_keeps_its_labels_and_outcomes(engine, tmp_path) -> None:
    _config(tmp_path, engine)
    _log(engine, versions=("1.0", "2.0"))
    with transaction(engine) as session:
        info = get_version(session, MODEL, "1.0")
        write_labels(session, model_id=info.model_id, source="test", frame=pd.DataFrame(
            {"prediction_id": [f"r{i}" for i in range(0, N, 7)], "label": "1", "ts": T0}))
    before = {v: (_outcomes(engine, v), _labels(engine, v)) for v in ("1.0", "2.0")}

    _archive(engine, tmp_path)

    for version, (outcomes, labels) in before.items():
        assert len(outcomes) and len(labels)
        pd.testing.assert_frame_equal(outcomes, _outcomes(engine, version))
        pd.testing.assert_frame_equal(labels, _labels(engine, version), check_dtype=False)
    assert _stored_outcomes(engine) == 1 + 2 * 30  # the unlogged request's, and those of day 2 (r2880, r2884, ...)


def _labels(engine, version: str) -> pd.DataFrame:
    with transaction(engine) as session:
        info = get_version(session, MODEL, version)
        frame = labels_for_window(session, model_id=info.model_id, model_version_id=info.id, start=DAYS[0],
                                  end=DAYS[1])
    frame = frame.assign(label_ts=pd.to_datetime(frame["label_ts"], utc=True))
    return frame.sort_values("prediction_id", ignore_index=True)


@pytest.mark.usefixtures("clean_streamlit")
def test_the_overview_shows_the_store_size_and_each_versions_archived_span(
        sqlite_engine, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    _config(tmp_path, sqlite_engine)
    _log(sqlite_engine, versions=("1.0", "2.0"))
    _archive(sqlite_engine, tmp_path)
    monkeypatch.setenv("DRIFTSCOPE_DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))

    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()

    assert [e.value for e in at.exception] == []
    [storage] = [e for e in at.expander if e.label.startswith("Store: ")]
    assert storage.label.endswith("MB · archived days: 4")  # two days of each version
    spans = storage.dataframe[0].value.set_index("version")
    assert spans[["days", "predictions", "outcomes"]].to_dict("index") == {
        "1.0": {"days": 2, "predictions": 2880, "outcomes": 1440}, "2.0": {"days": 2, "predictions": 2880,
                                                                           "outcomes": 1440}}
    assert str(spans.loc["1.0", "first_day"])[:10] == "2026-01-01" and str(spans.loc["1.0", "last_day"])[:10] == (
        "2026-01-02")
