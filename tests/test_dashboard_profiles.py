"""The dashboard's profile reads: figures equal to the raw rows' where profiles are exact, and pages of a
profile-only (lake-backed) version that show distributions, volume and counts instead of empty states."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from helpers_dashboard import fresh_store_url
from streamlit.testing.v1 import AppTest
from test_dashboard_markdown import open_page

from driftscope.storage import profile_reads, result_series, results
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.predictions import read_window, write_predictions
from driftscope.storage.profiles import build_specs, merge_all
from driftscope.storage.profiles import sketch as kll
from driftscope.storage.profiles.compute import DAY, histogram_cells, profile_table
from driftscope.storage.profiles.spec import category_name
from driftscope.storage.profiles.store import add_profiles, save_specs, window_profiles
from driftscope.storage.registry import ensure_model, ensure_monitor, ensure_version, get_model_id

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 3
END = T0 + timedelta(days=DAYS)
FEATURES = {"x": "numeric", "plan": "categorical"}
TYPES = {**FEATURES, "prediction": "binary"}
RANGE = {"start": "2026-01-01", "end": "2026-01-04"}


def rows(n: int, prefix: str, seed: int) -> pd.DataFrame:
    """``n`` predictions one minute apart from T0, with missing ``x`` values and a category not in the reference."""
    rng = np.random.default_rng(seed)
    x = rng.normal(10, 2, n)
    x[::37] = np.nan
    return pd.DataFrame({
        "prediction_id": [f"{prefix}{i}" for i in range(n)],
        "ts": pd.date_range(T0, periods=n, freq="1min", tz="UTC"),
        "prediction": rng.integers(0, 2, n),
        "x": x,
        "plan": rng.choice(["basic", "pro", "team", "enterprise"], n, p=[0.5, 0.3, 0.15, 0.05]),
    })


def reference() -> pd.DataFrame:
    frame = rows(2000, "ref", 99)
    return frame[frame["plan"] != "enterprise"]  # so "enterprise" is a new category


def seed(url: str) -> dict[str, int]:
    """``stored/1.0`` keeps rows (and hourly profiles); ``lake/1.0`` has only day profiles, as a lake source writes."""
    engine = make_engine(url)
    specs = build_specs(reference(), TYPES)
    schema = {"id": "id", "timestamp": "ts", "prediction": "pred", "probability": None, "target": "y",
              "positive_label": 1, "features": FEATURES}
    ids = {}
    with transaction(engine) as session:
        for name in ("stored", "lake"):
            model_id, _ = ensure_model(session, name=name, task="binary_classification", retrain_webhook=None)
            ids[name], _ = ensure_version(session, model_id=model_id, version="1.0", column_schema=schema,
                                          status="active")
            save_specs(session, model_version_id=ids[name], specs=specs)
        write_predictions(session, model_version_id=ids["stored"], frame=rows(DAYS * 1440, "s", 1), source="seed")
        drift_result(session, ids["stored"])
        lake = pa.Table.from_pandas(rows(DAYS * 1440, "l", 2).drop(columns="prediction_id"), preserve_index=False)
        add_profiles(session, model_version_id=ids["lake"], profiles=profile_table(lake, specs, bucket_seconds=DAY),
                     bucket_seconds=DAY)
    engine.dispose()
    return ids


def drift_result(session: Any, version_id: int) -> None:
    """One data-drift run of the stored version's first day, with a result for ``x``."""
    model_id = get_model_id(session, "stored")
    monitor_id, _ = ensure_monitor(session, name="stored-drift", model_id=model_id, kind="data_drift",
                                   schedule=None, window_seconds=86_400, settings={})
    run_id = results.start_run(session, monitor_id=monitor_id, model_version_id=version_id, window_start=T0,
                               window_end=T0 + timedelta(days=1))
    results.add_drift_results(session, run_id=run_id, rows=[{
        "feature": "x", "role": "feature", "feature_type": "numeric", "status": "ok", "drifted": False,
        "method": "psi", "statistic": 0.01, "p_value": None, "threshold": 0.1, "missing_share_reference": 0.0,
        "missing_share_current": 0.03, "out_of_range_share": None, "new_categories": [],
        "histogram": {"type": "numeric", "edges": [0.0, 10.0, 20.0], "reference": [50, 50], "current": [50, 50]}}])
    results.finish_run(session, run_id=run_id, status="succeeded", n_rows=1440, n_reference=2000, duration_s=0.1,
                       summary={"dataset_drift": False, "drifted_share": 0.0, "n_drifted": 0, "n_features": 1,
                                "drift_share": 0.5})


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    url = fresh_store_url(request, tmp_path_factory)
    yield url, seed(url)


pytestmark = pytest.mark.usefixtures("clean_streamlit")  # tests/conftest.py


def test_profile_figures_equal_the_raw_rows_figures(store: tuple[str, dict]) -> None:
    url, ids = store
    engine = make_engine(url)
    start, end = T0 + timedelta(hours=5), T0 + timedelta(days=2, hours=7)
    with transaction(engine) as session:
        raw = read_window(session, model_version_id=ids["stored"], start=start, end=end)
        numeric = profile_reads.range_profile(session, model_version_id=ids["stored"], column="x", start=start, end=end)
        plan = profile_reads.range_profile(session, model_version_id=ids["stored"], column="plan", start=start, end=end)
        spec_edges = np.asarray(numeric.spec.edges)
        for freq in ("h", "D"):
            hourly = result_series.volume_series(session, model_version_ids=[ids["stored"]], start=start, end=end,
                                                 freq=freq)
            profiled = profile_reads.profile_volume(session, model_version_ids=[ids["stored"]], start=start,
                                                    end=end, freq=freq)
            pd.testing.assert_frame_equal(profiled[["version_id", "bucket", "n_rows"]].reset_index(drop=True),
                                          hourly[["version_id", "bucket", "n_rows"]].reset_index(drop=True),
                                          check_dtype=False)
    engine.dispose()
    x = raw["x"].to_numpy(dtype=float)
    finite = x[np.isfinite(x)]
    assert (numeric.profile.n_rows, numeric.profile.n_missing) == (len(raw), int((~np.isfinite(x)).sum()))
    assert numeric.profile.minimum == finite.min() and numeric.profile.maximum == finite.max()
    assert numeric.profile.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert numeric.profile.variance == pytest.approx(finite.var(), rel=1e-9)
    cells = np.bincount(histogram_cells(finite, spec_edges), minlength=spec_edges.size + 1)
    dist = profile_reads.distribution(numeric)
    assert dist["count"].sum() == finite.size
    kept = np.ones(cells.size, dtype=bool)
    kept[[0, -1]] = cells[[0, -1]] > 0  # empty outer cells are left out
    assert dist["count"].tolist() == cells[kept].tolist()
    expected = raw["plan"].map(category_name).value_counts()
    shares = profile_reads.distribution(plan).set_index("bin")["count"]
    assert shares.drop(profile_reads.OTHER).to_dict() == expected.drop("enterprise").to_dict()
    assert shares[profile_reads.OTHER] == expected["enterprise"]
    assert plan.profile.new == {"enterprise": int(expected["enterprise"])}


@pytest.mark.parametrize("column", ["x", "plan"])
def test_the_vectorised_range_merge_equals_merge_all(store: tuple[str, dict], column: str) -> None:
    url, ids = store
    engine = make_engine(url)
    with transaction(engine) as session:
        rp = profile_reads.range_profile(session, model_version_id=ids["stored"], column=column, start=T0, end=END)
        parts = window_profiles(session, model_version_id=ids["stored"], start=T0, end=END)[column]
    engine.dispose()
    expected = merge_all(parts, rp.spec.n_cells)
    got = rp.profile
    assert (got.n_rows, got.n_missing, got.counts.tolist(), got.new, got.other) == (
        expected.n_rows, expected.n_missing, expected.counts.tolist(), expected.new, expected.other)
    assert rp.n_buckets == len(parts) == DAYS * 24
    np.testing.assert_allclose([got.minimum, got.maximum, got.mean, got.m2],
                               [expected.minimum, expected.maximum, expected.mean, expected.m2], rtol=1e-12)
    assert kll.load(got.sketch).n == kll.load(expected.sketch).n


def test_range_quantiles_lie_within_the_sketch_rank_error(store: tuple[str, dict]) -> None:
    url, ids = store
    engine = make_engine(url)
    with transaction(engine) as session:
        raw = read_window(session, model_version_id=ids["stored"], start=T0, end=END)
        rp = profile_reads.range_profile(session, model_version_id=ids["stored"], column="x", start=T0, end=END)
    engine.dispose()
    finite = np.sort(raw["x"].dropna().to_numpy())
    table = profile_reads.quantiles(rp)
    assert (table["rank_error"] > 0).all()  # 4,200 values in 72 hourly sketches: estimation mode
    ranks = np.searchsorted(finite, table["value"], side="right") / finite.size
    assert (np.abs(ranks - table["q"]) <= table["rank_error"] + 1 / finite.size).all()


def test_a_lake_version_counts_its_rows_from_profiles(store: tuple[str, dict]) -> None:
    url, ids = store
    engine = make_engine(url)
    with transaction(engine) as session:
        frame = profile_reads.overview_with_profiles(session, start=T0, end=END).set_index("model")
        volume = profile_reads.volume(session, model_version_ids=[ids["lake"], ids["stored"]], start=T0, end=END)
        partial = profile_reads.profile_volume(session, model_version_ids=[ids["lake"]], start=T0,
                                               end=END - timedelta(hours=1))
    engine.dispose()
    assert frame.loc["lake", "predictions"] == frame.loc["stored", "predictions"] == DAYS * 1440
    assert frame.loc["lake", "last_data_at"] == pd.Timestamp(END - timedelta(days=1))
    assert np.isnan(frame.loc["lake", "label_coverage"])
    assert volume.groupby("version_id")["n_rows"].sum().to_dict() == {ids["lake"]: DAYS * 1440,
                                                                      ids["stored"]: DAYS * 1440}
    assert partial["n_rows"].sum() == (DAYS - 1) * 1440  # the last day is not wholly in the range


def texts(at: AppTest, kind: str) -> str:
    return re.sub(r"\\(.)", r"\1", "\n".join(str(e.value) for e in getattr(at, kind)))


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_feature_page_of_a_lake_version_shows_the_distribution(monkeypatch: pytest.MonkeyPatch,
                                                                    store: tuple[str, dict]) -> None:
    at = open_page(monkeypatch, store[0], "feature", model="lake", version="1.0", feature="x", **RANGE)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Rows"] == f"{DAYS * 1440:,}" and shown["Missing"] == f"{len(range(0, 1440 * DAYS, 37)) / 4320:.1%}"
    charts = at.get("plotly_chart")
    assert len(charts) == 1 and "x over the selected range" in charts[0].proto.spec
    assert "KLL sketch" in texts(at, "caption") and "rank" in texts(at, "caption")
    assert not [i for i in at.info if "No drift result" in str(i.value)]
    at.query_params["feature"] = "plan"
    at.session_state["feature"] = "plan"
    at.run()
    assert "plan over the selected range (category shares)" in at.get("plotly_chart")[0].proto.spec
    assert {m.label: m.value for m in at.metric}["New categories (rows)"] != "0"


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_version_and_overview_pages_of_a_lake_version_show_its_volume(monkeypatch: pytest.MonkeyPatch,
                                                                          store: tuple[str, dict]) -> None:
    at = open_page(monkeypatch, store[0], "version", model="lake", version="1.0", **RANGE)
    assert {m.label: m.value for m in at.metric}["Predictions in range"] == f"{DAYS * 1440:,}"
    at.session_state["version.tab"] = "Prediction volume"
    at.run()
    assert any("Predictions per" in c.proto.spec for c in at.get("plotly_chart"))
    assert not [i for i in at.info if "No predictions stored" in str(i.value)]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_whole_range_tab_of_a_version_with_rows(monkeypatch: pytest.MonkeyPatch, store: tuple[str, dict]) -> None:
    at = open_page(monkeypatch, store[0], "feature", model="stored", version="1.0", feature="x", **RANGE)
    assert {m.label: m.value for m in at.metric}["Verdict"] == "no drift"  # the drift result's cards
    at.session_state["feature.tab"] = "Whole range"
    at.run()
    assert [e.value for e in at.exception] == []
    shown = {m.label: m.value for m in at.metric}
    assert shown["Rows"] == f"{DAYS * 1440:,}"
    assert any("x over the selected range" in c.proto.spec for c in at.get("plotly_chart"))


REWRITE_PARTITION = """
import sys
from datetime import timedelta
import pyarrow as pa
from test_dashboard_profiles import T0, rows
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.profiles.compute import DAY, profile_table
from driftscope.storage.profiles.store import load_specs, replace_profiles

url, version_id = sys.argv[1], int(sys.argv[2])
frame = rows(2000, "r", 3)
frame["ts"] = T0 + timedelta(days=1) + (frame["ts"] - T0) * 0.7  # 2,000 rows, all on the second day
table = pa.Table.from_pandas(frame.drop(columns="prediction_id"), preserve_index=False)
engine = make_engine(url)
with transaction(engine) as session:
    specs = load_specs(session, model_version_id=version_id)
    replace_profiles(session, model_version_id=version_id, profiles=profile_table(table, specs, bucket_seconds=DAY),
                     bucket_seconds=DAY)
"""


def test_profiles_written_by_another_process_show_on_the_next_page_run(monkeypatch: pytest.MonkeyPatch,
                                                                       sqlite_url: str) -> None:
    """A lake partition rewritten by another process (no collector run, no volume) shows within the stamp's TTL."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    from driftscope.dashboard.data import STAMP_TTL_S

    ids = seed(sqlite_url)
    at = open_page(monkeypatch, sqlite_url, "feature", model="lake", version="1.0", feature="x", **RANGE)
    assert {m.label: m.value for m in at.metric}["Rows"] == f"{DAYS * 1440:,}"
    here = Path(__file__).parent
    subprocess.run([sys.executable, "-c", REWRITE_PARTITION, sqlite_url, str(ids["lake"])], check=True, cwd=here,
                   env={**__import__("os").environ, "PYTHONPATH": str(here)}, timeout=120)
    time.sleep(STAMP_TTL_S + 0.5)
    at.run()
    assert {m.label: m.value for m in at.metric}["Rows"] == f"{(DAYS - 1) * 1440 + 2000:,}"
