"""Label profiles in the store: exact under late labels, labels before predictions, corrections and re-ingest."""

import itertools
from datetime import timedelta

import numpy as np
import pandas as pd
from factories import CREDIT_SCHEMA, T0, canonical_predictions, register_version
from helpers_label_profiles import assert_same_profile, label_rows
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from driftscope.storage import migrations
from driftscope.storage.db import make_engine, read_transaction, transaction
from driftscope.storage.labels import write_labels
from driftscope.storage.predictions import write_predictions
from driftscope.storage.profiles.labelled import (
    LEGACY_MOMENTS,
    MOMENTS,
    LabelledProfile,
    merge,
    merge_all,
    profile_rows,
)
from driftscope.storage.profiles.labelled_store import (
    backfill_labelled_all,
    bucket_profiles,
    replace_labelled,
    window_labelled,
)
from driftscope.storage.registry import ensure_model, ensure_version

END = T0 + timedelta(days=2)


CLASSES = ("a", "b", "c")
MULTICLASS_SCHEMA = {"id": "request_id", "timestamp": "ts", "prediction": "predicted_label", "target": "kind",
                     "probabilities": {c: f"p_{c}" for c in CLASSES}, "features": {"income": "numeric"}}


def _multiclass_predictions(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(len(CLASSES)), n)
    p[::17, 1] = np.nan  # a missing probability: left out of class b's AUC and of the losses
    frame = canonical_predictions(n, step=timedelta(minutes=3), seed=seed).drop(columns=["probability"])
    frame = frame[["prediction_id", "ts", "income"]].assign(prediction=np.array(CLASSES)[np.nanargmax(p, axis=1)])
    for i, c in enumerate(CLASSES):
        frame[f"probability:{c}"] = p[:, i]
    return frame


def _stored(engine: Engine, version_id: int) -> LabelledProfile | None:
    with read_transaction(engine) as session:
        return window_labelled(session, model_version_id=version_id, start=T0, end=END)


def test_label_profiles_stay_exact_whatever_order_rows_and_labels_land_in(engine: Engine) -> None:
    version = register_version(engine)
    frame = canonical_predictions(600, step=timedelta(minutes=3), seed=4)
    truth = np.random.default_rng(5).integers(0, 2, 600)
    with transaction(engine) as session:  # labels of rows 500..599 arrive before their predictions
        write_labels(session, model_id=version.model_id, frame=label_rows(frame.iloc[500:], truth[500:]), source="t")
    with transaction(engine) as session:
        write_predictions(session, model_version_id=version.id, frame=frame.iloc[:550], source="t")
    with transaction(engine) as session:  # late labels for rows 0..399, a repeat of 500..549
        write_labels(session, model_id=version.model_id, frame=label_rows(frame.iloc[:400], truth[:400]), source="t")
        write_labels(session, model_id=version.model_id, frame=label_rows(frame.iloc[500:550], truth[500:550]),
                     source="t")
    with transaction(engine) as session:  # overlapping re-ingest: only rows 550..599 are new
        write_predictions(session, model_version_id=version.id, frame=frame.iloc[300:], source="t")
    relabelled = truth.copy()
    relabelled[:100] = 1 - relabelled[:100]
    with transaction(engine) as session:  # corrections of 100 labels
        counts = write_labels(session, model_id=version.model_id, frame=label_rows(frame.iloc[:100], relabelled[:100]),
                              source="fix")
    assert counts.corrected == 100
    labelled = np.r_[np.arange(400), np.arange(500, 600)]
    want = profile_rows(frame.iloc[labelled].assign(label=relabelled[labelled].astype(str)), "binary_classification")
    assert want.n_labelled == 500
    assert_same_profile(_stored(engine, version.id), want)
    with transaction(engine) as session:
        assert backfill_labelled_all(session) == {version.id: 500}
    assert_same_profile(_stored(engine, version.id), want)


def test_multiclass_scores_stay_exact_under_late_labels_corrections_reingest_and_backfill(engine: Engine) -> None:
    with transaction(engine) as session:
        model_id, _ = ensure_model(session, name="kinds", task="multiclass_classification", retrain_webhook=None)
        version_id, _ = ensure_version(session, model_id=model_id, version="1", column_schema=MULTICLASS_SCHEMA,
                                       status="active")
    frame = _multiclass_predictions(600, 4)
    truth = np.array(CLASSES)[np.random.default_rng(5).integers(0, 3, 600)]
    with transaction(engine) as session:  # labels of rows 500..599 arrive before their predictions
        write_labels(session, model_id=model_id, frame=label_rows(frame.iloc[500:], truth[500:]), source="t")
    with transaction(engine) as session:
        write_predictions(session, model_version_id=version_id, frame=frame.iloc[:550], source="t")
    with transaction(engine) as session:  # late labels for rows 0..399
        write_labels(session, model_id=model_id, frame=label_rows(frame.iloc[:400], truth[:400]), source="t")
    with transaction(engine) as session:  # overlapping re-ingest: only rows 550..599 are new
        write_predictions(session, model_version_id=version_id, frame=frame.iloc[300:], source="t")
    relabelled = truth.copy()
    relabelled[:100] = np.roll(relabelled[:100], 1)
    with transaction(engine) as session:  # corrections (weight -1 then +1)
        write_labels(session, model_id=model_id, frame=label_rows(frame.iloc[:100], relabelled[:100]), source="fix")
    labelled = np.r_[np.arange(400), np.arange(500, 600)]
    want = profile_rows(frame.iloc[labelled].assign(label=relabelled[labelled]), "multiclass_classification")
    assert want.scores is not None and sum(want.scores.ovr.values()) == 500 * 3 - len(range(0, 600, 17)) + sum(
        1 for i in range(0, 600, 17) if 400 <= i < 500)
    assert_same_profile(_stored(engine, version_id), want)
    with transaction(engine) as session:
        assert backfill_labelled_all(session) == {version_id: 500}
    assert_same_profile(_stored(engine, version_id), want)


@settings(max_examples=20, deadline=None)
@given(cuts=st.lists(st.integers(1, 119), max_size=5), removed=st.integers(0, 120), seed=st.integers(0, 1000))
def test_multiclass_scores_of_any_split_and_removal_equal_the_direct_ones(cuts: list[int], removed: int,
                                                                         seed: int) -> None:
    frame = _multiclass_predictions(120, seed).assign(label=lambda f: np.random.default_rng(seed).choice(CLASSES, 120))
    bounds = [0, *sorted(set(cuts)), 120]
    parts = [profile_rows(frame.iloc[a:b], "multiclass_classification") for a, b in itertools.pairwise(bounds)]
    merged = merge_all(reversed(parts))
    assert_same_profile(merged, profile_rows(frame, "multiclass_classification"))
    kept = merge(merged, profile_rows(frame.iloc[:removed], "multiclass_classification", weight=-1))
    assert_same_profile(kept, profile_rows(frame.iloc[removed:], "multiclass_classification"))


def test_a_profile_without_scores_makes_a_merge_with_rows_lose_them() -> None:
    """Stored before scores existed: merging keeps None while its rows are in, the new part once they are gone."""
    frame = _multiclass_predictions(60, 1).assign(label="a")
    new = profile_rows(frame, "multiclass_classification")
    cells, moments = new.to_json()
    legacy = LabelledProfile.from_json({k: v for k, v in cells.items() if k != "scores"}, moments)
    assert merge(legacy, new).scores is None and merge(new, legacy).scores is None
    emptied = merge(legacy, profile_rows(frame, "multiclass_classification", weight=-1))
    assert emptied.n_labelled == 0 and merge(emptied, new).scores is not None
    assert merge(LabelledProfile(), new).scores is not None


def test_hourly_profiles_merge_to_the_window_profile_in_any_grouping() -> None:
    frame = canonical_predictions(500, step=timedelta(minutes=7), seed=2)
    frame["label"] = np.random.default_rng(3).integers(0, 2, 500).astype(str)
    hourly = list(bucket_profiles(frame, "binary_classification").values())
    assert len(hourly) > 10
    whole = profile_rows(frame, "binary_classification")
    assert_same_profile(merge_all(hourly), whole)
    assert_same_profile(merge(merge_all(hourly[::2]), merge_all(hourly[1::2])), whole)
    assert_same_profile(merge_all(reversed(hourly)), whole)


def test_regression_moments_merge_and_remove_exactly() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"label": rng.normal(100, 20, 300).astype(str), "prediction": rng.normal(100, 20, 300)})
    whole = profile_rows(frame, "regression")
    parts = [profile_rows(frame.iloc[i:i + 70], "regression") for i in range(0, 300, 70)]
    assert_same_profile(merge_all(parts), whole)
    without = merge(whole, profile_rows(frame.iloc[:70], "regression", weight=-1))
    assert_same_profile(without, profile_rows(frame.iloc[70:], "regression"))
    y, e = frame["label"].astype(float), frame["label"].astype(float) - frame["prediction"]
    assert whole.moments[0] == 300
    np.testing.assert_allclose(whole.moments[1:4], [e.sum(), e.abs().sum(), (e * e).sum()])
    dev = y - y.mean()
    np.testing.assert_allclose(whole.moments[8:], [(dev**2).sum(), (dev**3).sum(), (dev**4).sum(),
                                                   (e * e * dev).sum(), (e * e * dev**2).sum()], rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(cuts=st.lists(st.integers(1, 199), max_size=6), removed=st.integers(0, 200), offset=st.sampled_from([0.0, 1e5]),
       seed=st.integers(0, 1000))
def test_regression_moments_of_any_split_and_removal_equal_the_direct_ones(cuts: list[int], removed: int,
                                                                          offset: float, seed: int) -> None:
    """Pébay's update of M3, M4 and the co-moments: any grouping, and removals (weight -1), give the direct sums."""
    rng = np.random.default_rng(seed)
    y = offset + rng.lognormal(2, 0.7, 200)
    frame = pd.DataFrame({"label": y.astype(str), "prediction": y + rng.normal(0, 3, 200)})
    bounds = [0, *sorted(set(cuts)), 200]
    parts = [profile_rows(frame.iloc[a:b], "regression") for a, b in itertools.pairwise(bounds)]
    merged = merge_all(rng.permutation(np.array(parts, dtype=object)).tolist())
    kept = merge(merged, profile_rows(frame.iloc[:removed], "regression", weight=-1))
    scale = np.maximum(np.abs(profile_rows(frame, "regression").moments), 1.0)  # removal: rounding of the whole
    for got, rows in ((merged, frame), (kept, frame.iloc[removed:])):
        want = profile_rows(rows, "regression")
        np.testing.assert_allclose(got.moments / scale, want.moments / scale, atol=1e-8)


def test_legacy_moments_load_and_merge_into_legacy_moments() -> None:
    """Stored before the R² sums existed (9 values): they load, and a merge with them keeps 9 values."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"label": rng.normal(5, 1, 50).astype(str), "prediction": rng.normal(5, 1, 50)})
    new = profile_rows(frame, "regression")
    cells, moments = new.to_json()
    legacy = LabelledProfile.from_json(cells, moments[:LEGACY_MOMENTS])
    assert not legacy.has_r2_sums and new.has_r2_sums and len(moments) == len(MOMENTS)
    both = merge(legacy, new)
    assert not both.has_r2_sums and both.n_labelled == 100
    np.testing.assert_allclose(both.moments, merge(new, new).moments[:LEGACY_MOMENTS])
    assert LabelledProfile.from_json({}, [0.0] * LEGACY_MOMENTS).has_r2_sums  # an empty legacy row: nothing missing
    assert merge(legacy, profile_rows(frame, "regression", weight=-1)).has_r2_sums  # all rows gone


def test_backfill_rebuilds_the_hourly_label_profiles_and_keeps_a_lakes_days(engine: Engine) -> None:
    """A lake's day buckets have no rows in the store to rebuild them from: backfill must not delete them."""
    version = register_version(engine)
    frame = canonical_predictions(48, step=timedelta(hours=1), seed=1)
    day = profile_rows(frame.assign(label="1"), "binary_classification")
    day_start = int((END - T0).total_seconds() * 1_000_000) + int(T0.timestamp() * 1_000_000)
    with transaction(engine) as session:
        replace_labelled(session, model_version_id=version.id, starts=[day_start], profiles={day_start: day},
                         bucket_seconds=86_400)
        assert backfill_labelled_all(session) == {version.id: 0}
    with read_transaction(engine) as session:
        kept = window_labelled(session, model_version_id=version.id, start=END, end=END + timedelta(days=1))
    assert_same_profile(kept, day)


def test_migration_0015_rebuilds_legacy_label_profiles_and_its_downgrade_strips_the_new_sums(scratch_url: str) -> None:
    """Downgraded to 0014 the rows are in the old format (R² sums and scores gone); upgrading rebuilds them."""
    migrations.upgrade(scratch_url)
    engine = make_engine(scratch_url)
    try:
        rng = np.random.default_rng(3)
        multiclass = _multiclass_predictions(200, 2)
        frames = {"multiclass_classification": multiclass,
                  "regression": multiclass[["prediction_id", "ts", "income"]].assign(prediction=rng.normal(0, 1, 200))}
        truth = {"multiclass_classification": rng.choice(CLASSES, 200), "regression": rng.normal(0, 1, 200).astype(str)}
        schemas = {"multiclass_classification": MULTICLASS_SCHEMA, "regression": {**CREDIT_SCHEMA, "probability": None}}
        versions = {}
        for task, schema in schemas.items():
            with transaction(engine) as session:
                model_id, _ = ensure_model(session, name=task, task=task, retrain_webhook=None)
                versions[task], _ = ensure_version(session, model_id=model_id, version="1", column_schema=schema,
                                                   status="active")
                write_predictions(session, model_version_id=versions[task], frame=frames[task], source="t")
                write_labels(session, model_id=model_id, frame=label_rows(frames[task], truth[task]), source="t")
        want = {task: profile_rows(frames[task].assign(label=truth[task]), task) for task in versions}
        assert want["regression"].has_r2_sums and want["multiclass_classification"].scores is not None
        migrations.downgrade(scratch_url, "0014")
        legacy = {task: _stored(engine, version_id) for task, version_id in versions.items()}
        assert not legacy["regression"].has_r2_sums and legacy["multiclass_classification"].scores is None
        np.testing.assert_allclose(legacy["regression"].moments, want["regression"].moments[:LEGACY_MOMENTS])
        migrations.upgrade(scratch_url)
        for task, version_id in versions.items():
            assert_same_profile(_stored(engine, version_id), want[task])
    finally:
        engine.dispose()


def test_multiclass_scores_of_rows_all_removed_equal_the_empty_profile() -> None:
    """The case hypothesis found: every row removed again leaves no scores part, as a profile of no rows."""
    frame = _multiclass_predictions(120, 0).assign(label=lambda f: np.random.default_rng(0).choice(CLASSES, 120))
    whole = profile_rows(frame, "multiclass_classification")
    emptied = merge(whole, profile_rows(frame, "multiclass_classification", weight=-1))
    assert_same_profile(emptied, profile_rows(frame.iloc[:0], "multiclass_classification"))
    assert emptied.scores is None and emptied.n_labelled == 0
