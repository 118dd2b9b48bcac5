"""``kind: lake``: hive-partitioned Parquet profiled with pyarrow and with Spark (local[2], for real)."""

import os
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers_alerts import ENV, Receiver, webhook_channel
from helpers_monitor import applied, config_document, credit_frame
from sqlalchemy import Engine

from driftscope.collectors import collect
from driftscope.config import parse_config
from driftscope.errors import ConfigError
from driftscope.pipeline import monitor_cycle
from driftscope.storage.db import read_transaction
from driftscope.storage.profiles import sketch as kll
from driftscope.storage.profiles.labelled_store import window_labelled
from driftscope.storage.profiles.store import window_profiles
from driftscope.storage.registry import get_version
from driftscope.storage.results import RunInfo, list_runs

DAYS = ("2026-01-05", "2026-01-06", "2026-01-07")
START = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.fixture(scope="session")
def spark():  # type: ignore[no-untyped-def]
    """One SparkSession (local[2]) for the test session; skipped without pyspark, failed if Spark cannot start."""
    sql = pytest.importorskip("pyspark.sql")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        session = (sql.SparkSession.builder.master("local[2]").appName("driftscope-tests")
                   .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.shuffle.partitions", "2")
                   .getOrCreate())
    except Exception as exc:
        pytest.fail(f"pyspark is installed but Spark local[2] could not start (is Java 17 installed?): {exc}")
    yield session
    session.stop()


def _write_day(root: Path, day: str, seed: int, kind: str = "none", n: int = 1500, *,
               labelled: bool = False) -> pd.DataFrame:
    frame = credit_frame(n, kind=kind, seed=seed).drop(columns=["prediction_id"])  # ts: nanoseconds
    frame = frame.rename(columns={"prediction": "predicted_label", "probability": "score", "label": "defaulted"})
    if not labelled:
        frame = frame.drop(columns=["defaulted"])
    folder = root / f"scored_date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.parquet"):
        old.unlink()
    for i, part in enumerate(np.array_split(np.arange(n), 2)):
        frame.iloc[part].to_parquet(folder / f"part-{i}.parquet", index=False)
    return frame


def _config(tmp_path: Path, engine: Engine, lake: Path):  # type: ignore[no-untyped-def]
    document = config_document(tmp_path, str(engine.url), [], n=2000)
    base = {"kind": "lake", "model": "credit", "version": "1.0", "records": "predictions", "url": str(lake),
            "partition": "scored_date"}
    document["sources"] = [{"name": "lake-local", **base, "engine": "local"},
                           {"name": "lake-spark", **base, "engine": "spark", "spark_master": "local[2]"}]
    return applied(engine, parse_config(document, base_dir=tmp_path))


def _stored(engine: Engine) -> dict:
    with read_transaction(engine) as session:
        version = get_version(session, "credit", "1.0")
        return window_profiles(session, model_version_id=version.id, start=START, end=START + timedelta(days=3))


def _same(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for column in a:
        for x, y in zip(a[column], b[column], strict=True):
            assert (x.n_rows, x.n_missing, x.counts.tolist(), x.new, x.other) == (
                y.n_rows, y.n_missing, y.counts.tolist(), y.new, y.other), column
            np.testing.assert_array_equal([x.minimum, x.maximum], [y.minimum, y.maximum])
            np.testing.assert_allclose([x.mean, x.m2], [y.mean, y.m2], rtol=1e-9)
            sx, sy = kll.load(x.sketch), kll.load(y.sketch)
            if sx.n:  # KLL compaction is randomised: same n, quantiles within both sketches' error
                assert sx.n == sy.n
                eps = kll.cdf_error(sx) + kll.cdf_error(sy)
                points = sx.get_quantiles([0.1, 0.5, 0.9])
                assert np.max(np.abs(np.subtract(sx.get_cdf(points), sy.get_cdf(points)))) <= eps + 1e-12


def test_local_engine_profiles_each_partition_once_and_recomputes_a_rewritten_one(
        sqlite_engine: Engine, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    frames = [_write_day(lake, day, seed) for seed, day in enumerate(DAYS)]
    config = _config(tmp_path, sqlite_engine, lake)
    [first] = collect(sqlite_engine, config, sources=["lake-local"])
    assert (first.status, first.rows_read) == ("succeeded", 4500)
    stored = _stored(sqlite_engine)
    assert [p.n_rows for p in stored["income"]] == [1500, 1500, 1500]
    income = np.concatenate([f["income"].to_numpy() for f in frames])
    merged_mean = sum(p.mean * p.n_values for p in stored["income"]) / income.size
    assert merged_mean == pytest.approx(income.mean(), rel=1e-12)
    [again] = collect(sqlite_engine, config, sources=["lake-local"])
    assert again.rows_read == 0
    _write_day(lake, DAYS[1], 99, kind="covariate", n=900)  # the partition is rewritten upstream
    [rewritten] = collect(sqlite_engine, config, sources=["lake-local"])
    assert rewritten.rows_read == 900
    after = _stored(sqlite_engine)
    assert [p.n_rows for p in after["income"]] == [1500, 900, 1500]
    assert after["income"][1].mean > stored["income"][1].mean + 5000  # covariate drift moves income by +1 std
    assert [collect(sqlite_engine, config, sources=["lake-local"])[0].rows_read] == [0]


def test_spark_and_local_engines_give_the_same_profiles(spark, sqlite_engine: Engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lake = tmp_path / "lake"
    for seed, day in enumerate(DAYS):
        _write_day(lake, day, seed, labelled=True)
    config = _config(tmp_path, sqlite_engine, lake)
    assert collect(sqlite_engine, config, sources=["lake-local"])[0].rows_read == 4500
    local, local_labels = _stored(sqlite_engine), _stored_labels(sqlite_engine)
    [by_spark] = collect(sqlite_engine, config, sources=["lake-spark"])
    assert (by_spark.status, by_spark.rows_read, by_spark.error) == ("succeeded", 4500, None)
    _same(_stored(sqlite_engine), local)
    spark_labels = _stored_labels(sqlite_engine)
    assert [p.n_labelled for p in local_labels] == [p.n_labelled for p in spark_labels] == [1500] * 3
    for mine, theirs in zip(local_labels, spark_labels, strict=True):  # the same cells (sums up to rounding)
        assert set(mine.cells) == set(theirs.cells)
        for key, cell in mine.cells.items():
            np.testing.assert_allclose(cell, theirs.cells[key], rtol=1e-9)


def test_a_rewritten_partition_recomputes_the_windows_over_it_once(engine: Engine, tmp_path: Path) -> None:
    """Monitors ran over the lake; one partition is rewritten with drifted rows and collected again:
    the next scheduled cycle recomputes the windows over it once and alerts once; later cycles, and
    a collect that finds nothing new, recompute only the latest window and notify no one."""
    lake = tmp_path / "lake"
    for seed, day in enumerate(DAYS):
        _write_day(lake, day, seed, labelled=True)
    with Receiver() as receiver:
        document = config_document(tmp_path, str(engine.url), [
            {"name": "drift", "model": "credit", "kind": "data_drift", "window": "1d"},
            {"name": "perf", "model": "credit", "kind": "performance", "window": "1d", "metrics": ["accuracy"],
             "min_labels": 100}], n=2000)
        document["sources"] = [{"name": "lake-local", "kind": "lake", "model": "credit", "version": "1.0",
                                "records": "predictions", "url": str(lake), "partition": "scored_date"}]
        document["channels"] = [webhook_channel("hook", receiver.url())]
        document["alerts"] = {"rules": [{"name": "drifted", "monitor": "drift", "when": "dataset_drift",
                                         "channels": ["hook"]}]}
        config = applied(engine, parse_config(document, base_dir=tmp_path, env=ENV))
        now = START + timedelta(days=3, hours=1)  # the latest complete day: DAYS[2]
        assert collect(engine, config, sources=["lake-local"])[0].rows_read == 4500
        time.sleep(1.1)  # SQLite's clock has whole seconds: runs in the profiles' second would look stale
        backfill = monitor_cycle(engine, config, backfill_from=START, now=now)
        assert len(backfill.runs) == 6 and not backfill.alerts and receiver.delivered() == []
        before = _runs_by_window(engine)

        _write_day(lake, DAYS[1], 99, kind="covariate", n=900, labelled=True)  # rewritten upstream
        assert collect(engine, config, sources=["lake-local"])[0].rows_read == 900
        time.sleep(1.1)  # SQLite's clock has whole seconds: the recompute starts after the partition's second
        recomputed = monitor_cycle(engine, config, now=now)
        rewritten, latest = START + timedelta(days=2), START + timedelta(days=3)
        assert sorted((r.monitor, r.window_end) for r in recomputed.runs) == [
            ("drift", rewritten), ("drift", latest), ("perf", rewritten), ("perf", latest)]
        after = _runs_by_window(engine)
        assert before[("drift", rewritten)].summary["dataset_drift"] is False
        assert after[("drift", rewritten)].summary["dataset_drift"] is True
        assert (before[("perf", rewritten)].n_labels, after[("perf", rewritten)].n_labels) == (1500, 900)
        assert after[("drift", START + timedelta(days=1))].id == before[("drift", START + timedelta(days=1))].id
        assert [c.action for c in recomputed.alerts] == ["opened"]
        assert len(receiver.wait_for(1)) == 1

        time.sleep(1.1)
        for unchanged in (False, True):
            if unchanged:
                assert collect(engine, config, sources=["lake-local"])[0].rows_read == 0
            again = monitor_cycle(engine, config, now=now)
            assert sorted((r.monitor, r.window_end) for r in again.runs) == [("drift", latest), ("perf", latest)]
            assert again.alerts == [] and again.deliveries == []
            assert _runs_by_window(engine)[("drift", rewritten)].id == after[("drift", rewritten)].id
        assert len(receiver.delivered()) == 1


def _runs_by_window(engine: Engine) -> dict[tuple[str, datetime], RunInfo]:
    with read_transaction(engine) as session:
        return {(r.monitor, r.window_end): r for r in list_runs(session)}


def _stored_labels(engine: Engine) -> list:
    with read_transaction(engine) as session:
        version = get_version(session, "credit", "1.0")
        return [window_labelled(session, model_version_id=version.id, start=START + timedelta(days=d),
                                end=START + timedelta(days=d + 1)) for d in range(3)]


@pytest.mark.parametrize(("extra", "message"), [
    ({"partition": None}, "needs 'partition'"),
    ({"spark_master": "local[2]", "engine": "local"}, "needs 'engine: spark'"),
    ({"records": "ground_truth"}, "profiles predictions of one model version"),
])
def test_lake_config_is_checked(tmp_path: Path, extra: dict, message: str) -> None:
    document = config_document(tmp_path, "sqlite://", [])
    source = {"name": "lake", "kind": "lake", "model": "credit", "version": "1.0", "records": "predictions",
              "url": "lake/", "partition": "scored_date"} | extra
    document["sources"] = [{k: v for k, v in source.items() if v is not None}]
    with pytest.raises(ConfigError, match=message):
        parse_config(document, base_dir=tmp_path)


def test_other_sources_refuse_lake_keys(tmp_path: Path) -> None:
    document = config_document(tmp_path, "sqlite://", [])
    document["sources"] = [{"name": "f", "kind": "files", "model": "credit", "version": "1.0",
                            "records": "predictions", "url": "x/*.csv", "engine": "spark"}]
    with pytest.raises(ConfigError, match="'engine' applies to lake sources only"):
        parse_config(document, base_dir=tmp_path)



KIND_CLASSES = ("ant", "bee", "cat")


def _multiclass_day(n: int, seed: int, day: str | None = None) -> pd.DataFrame:
    """Rows of a multiclass model with per-class probabilities (``p_<class>``), in the dataset's names."""
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, 3, n)
    logits = rng.normal(0, 1, (n, 3))
    logits[np.arange(n), kind] += 1.5
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    p[::13, 2] = np.nan  # a missing probability
    start = pd.Timestamp(day or "2026-01-01", tz="UTC")
    frame = pd.DataFrame({"ts": start + pd.to_timedelta(np.arange(n) * 50, unit="s"), "income": rng.normal(0, 1, n),
                          "predicted_kind": np.array(KIND_CLASSES)[np.nanargmax(p, axis=1)],
                          "kind": np.array(KIND_CLASSES)[kind]})
    for i, name in enumerate(KIND_CLASSES):
        frame[f"p_{name}"] = p[:, i]
    return frame


def test_spark_and_local_engines_give_the_same_multiclass_label_profiles(spark, sqlite_engine: Engine,  # type: ignore[no-untyped-def]
                                                                         tmp_path: Path) -> None:
    lake = tmp_path / "kinds"
    for seed, day in enumerate(DAYS):
        folder = lake / f"scored_date={day}"
        folder.mkdir(parents=True)
        frame = _multiclass_day(900, seed, day)
        for i, part in enumerate(np.array_split(np.arange(900), 2)):
            frame.iloc[part].to_parquet(folder / f"part-{i}.parquet", index=False)
    reference = tmp_path / "kinds_reference.parquet"
    _multiclass_day(2000, 50).drop(columns=["ts"]).to_parquet(reference, index=False)
    schema = {"id": "request_id", "timestamp": "ts", "prediction": "predicted_kind", "target": "kind",
              "probabilities": {c: f"p_{c}" for c in KIND_CLASSES}, "features": {"income": "numeric"}}
    base = {"kind": "lake", "model": "kinds", "version": "1", "records": "predictions", "url": str(lake),
            "partition": "scored_date"}
    document = {"database_url": str(sqlite_engine.url), "monitors": [],
                "models": [{"name": "kinds", "task": "multiclass_classification", "schema": schema,
                            "versions": [{"version": "1", "reference": str(reference)}]}],
                "sources": [{"name": "lake-local", **base, "engine": "local"},
                            {"name": "lake-spark", **base, "engine": "spark", "spark_master": "local[2]"}]}
    config = applied(sqlite_engine, parse_config(document, base_dir=tmp_path))

    def stored() -> list:
        with read_transaction(sqlite_engine) as session:
            version = get_version(session, "kinds", "1")
            return [window_labelled(session, model_version_id=version.id, start=START + timedelta(days=d),
                                    end=START + timedelta(days=d + 1)) for d in range(3)]

    assert collect(sqlite_engine, config, sources=["lake-local"])[0].rows_read == 2700
    local = stored()
    [by_spark] = collect(sqlite_engine, config, sources=["lake-spark"])
    assert (by_spark.status, by_spark.error) == ("succeeded", None)
    for mine, theirs in zip(local, stored(), strict=True):
        assert mine.n_labelled == theirs.n_labelled == 900
        assert mine.scores is not None and theirs.scores is not None
        assert mine.scores.ovr == theirs.scores.ovr and sum(mine.scores.ovr.values()) == 900 * 3 - 70
        for part in ("pairs", "rows"):
            a, b = getattr(mine.scores, part), getattr(theirs.scores, part)
            assert set(a) == set(b)
            for key, sums in a.items():
                np.testing.assert_allclose(sums, b[key], rtol=1e-9)


def test_backfilling_profiles_keeps_a_lakes_day_profiles(sqlite_engine: Engine, tmp_path: Path) -> None:
    """``driftscope db backfill-profiles`` rebuilds hourly buckets from stored chunks; a lake's days have none."""
    from driftscope.storage.db import transaction
    from driftscope.storage.profiles.backfill import backfill_all
    from driftscope.storage.profiles.labelled_store import backfill_labelled_all

    lake = tmp_path / "lake"
    for seed, day in enumerate(DAYS):
        _write_day(lake, day, seed, labelled=True)
    config = _config(tmp_path, sqlite_engine, lake)
    assert collect(sqlite_engine, config, sources=["lake-local"])[0].rows_read == 4500
    profiles, labels = _stored(sqlite_engine), _stored_labels(sqlite_engine)
    with transaction(sqlite_engine) as session:
        backfill_all(session)
        backfill_labelled_all(session)
    _same(_stored(sqlite_engine), profiles)
    assert [p.n_labelled for p in _stored_labels(sqlite_engine)] == [p.n_labelled for p in labels] == [1500] * 3


@pytest.mark.parametrize(("how", "engine_kind"), [("deleted", "local"), ("emptied", "local"), ("emptied", "spark")])
def test_a_partition_deleted_or_emptied_loses_its_profiles_and_recomputes_the_windows_over_it_once(
        engine: Engine, tmp_path: Path, how: str, engine_kind: str, request: pytest.FixtureRequest) -> None:
    """A collected partition disappears (or is left without files): the next collect removes its day's
    profiles, the next scheduled cycle recomputes the windows over it once (no rows left), later ones not."""
    lake = tmp_path / "lake"
    for seed, day in enumerate(DAYS):
        _write_day(lake, day, seed, labelled=True)
    document = config_document(tmp_path, str(engine.url), [
        {"name": "drift", "model": "credit", "kind": "data_drift", "window": "1d"},
        {"name": "perf", "model": "credit", "kind": "performance", "window": "1d", "metrics": ["accuracy"],
         "min_labels": 100}], n=2000)
    document["sources"] = [{"name": "lake-local", "kind": "lake", "model": "credit", "version": "1.0",
                            "records": "predictions", "url": str(lake), "partition": "scored_date",
                            "engine": engine_kind} | ({"spark_master": "local[2]"} if engine_kind == "spark" else {})]
    if engine_kind == "spark":
        request.getfixturevalue("spark")
    config = applied(engine, parse_config(document, base_dir=tmp_path, env=ENV))
    now = START + timedelta(days=3, hours=1)
    assert collect(engine, config, sources=["lake-local"])[0].rows_read == 4500
    time.sleep(1.1)  # SQLite's clock has whole seconds: runs in the profiles' second would look stale
    assert len(monitor_cycle(engine, config, backfill_from=START, now=now).runs) == 6
    before = _runs_by_window(engine)

    folder = lake / f"scored_date={DAYS[1]}"
    if how == "deleted":
        shutil.rmtree(folder)
    else:
        for part in folder.glob("*.parquet"):
            part.unlink()
    assert collect(engine, config, sources=["lake-local"])[0].rows_read == 0
    gone = START + timedelta(days=1)
    with read_transaction(engine) as session:
        version = get_version(session, "credit", "1.0")
        assert window_profiles(session, model_version_id=version.id, start=gone, end=gone + timedelta(days=1)) == {}
    assert _stored_labels(engine)[1] is None and _stored_labels(engine)[0] is not None
    time.sleep(1.1)
    recomputed = monitor_cycle(engine, config, now=now)
    window_end, latest = START + timedelta(days=2), START + timedelta(days=3)
    assert sorted((r.monitor, r.window_end) for r in recomputed.runs) == [
        ("drift", window_end), ("drift", latest), ("perf", window_end), ("perf", latest)]
    after = _runs_by_window(engine)
    assert (before[("drift", window_end)].n_rows, after[("drift", window_end)].n_rows) == (1500, 0)
    assert (before[("perf", window_end)].n_labels, after[("perf", window_end)].n_labels) == (1500, 0)
    assert after[("drift", gone)].id == before[("drift", gone)].id

    time.sleep(1.1)
    assert collect(engine, config, sources=["lake-local"])[0].rows_read == 0
    again = monitor_cycle(engine, config, now=now)
    assert sorted((r.monitor, r.window_end) for r in again.runs) == [("drift", latest), ("perf", latest)]
    assert _runs_by_window(engine)[("drift", window_end)].id == after[("drift", window_end)].id
