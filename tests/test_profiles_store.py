"""Profiles in the store: kept by the prediction writer in the rows' transaction, exact under re-ingest."""

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pyarrow as pa
from factories import T0, canonical_predictions, register_version
from sqlalchemy import Engine

from driftscope.storage.db import read_transaction, transaction
from driftscope.storage.predictions import encode_predictions, write_encoded, write_predictions
from driftscope.storage.profiles import merge_all
from driftscope.storage.profiles.backfill import backfill_all, backfill_version
from driftscope.storage.profiles.compute import profile_table
from driftscope.storage.profiles.store import load_specs, window_profiles
from driftscope.storage.registry import ensure_reference

COLUMNS = ("income", "age", "region", "has_card", "prediction", "probability")


def _setup(engine: Engine) -> int:
    version = register_version(engine)
    with transaction(engine) as session:
        ensure_reference(session, model_version_id=version.id, frame=canonical_predictions(400, seed=9),
                         source="test")
        backfill_version(session, model_version_id=version.id)
    return version.id


def _window(engine: Engine, version_id: int, days: int = 2) -> dict:
    with read_transaction(engine) as session:
        specs = load_specs(session, model_version_id=version_id)
        stored = window_profiles(session, model_version_id=version_id, start=T0, end=T0 + timedelta(days=days))
    return {c: merge_all(stored.get(c, []), specs[c].n_cells) for c in specs}


def _expected(engine: Engine, version_id: int, frame) -> dict:
    with read_transaction(engine) as session:
        specs = load_specs(session, model_version_id=version_id)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    whole = profile_table(table, specs, bucket_seconds=4 * 86_400)
    return {c: merge_all([p for (_, col), p in whole.items() if col == c], specs[c].n_cells) for c in specs}


def _assert_same(got: dict, want: dict) -> None:
    assert set(got) == set(want) == set(COLUMNS)
    for column in COLUMNS:
        a, b = got[column], want[column]
        assert (a.n_rows, a.n_missing, a.counts.tolist(), a.new, a.other) == (
            b.n_rows, b.n_missing, b.counts.tolist(), b.new, b.other), column
        np.testing.assert_allclose([a.mean, a.variance], [b.mean, b.variance], rtol=1e-9)


def test_ingest_keeps_hourly_profiles_exact_under_reingest_and_backfill(engine: Engine) -> None:
    version_id = _setup(engine)
    frame = canonical_predictions(600, step=timedelta(minutes=3))
    with transaction(engine) as session:
        first = write_predictions(session, model_version_id=version_id, frame=frame.iloc[:400], source="t")
    with transaction(engine) as session:  # overlaps the first batch: only the 200 new rows count
        second = write_predictions(session, model_version_id=version_id, frame=frame.iloc[200:], source="t")
    assert (first.stored, second.stored, second.duplicates) == (400, 200, 200)
    want = _expected(engine, version_id, frame)
    _assert_same(_window(engine, version_id), want)
    assert want["region"].counts.sum() == 600
    with transaction(engine) as session:
        assert backfill_all(session) == {version_id: 600}
    _assert_same(_window(engine, version_id), want)
    with read_transaction(engine) as session:  # hourly buckets: a 1-hour window holds 20 rows
        hour = window_profiles(session, model_version_id=version_id, start=T0, end=T0 + timedelta(hours=1))
    assert [p.n_rows for p in hour["income"]] == [20]


def test_profiles_computed_ahead_are_used_only_for_wholly_new_days_under_the_current_specs(engine: Engine) -> None:
    """A collector profiles a batch before its transaction; the writer keeps the result exact.

    The second batch repeats 200 rows (its first day is only partly new, so the writer profiles
    that day's stored rows itself); the third was profiled against other specs (stale after a new
    reference), so the writer profiles it against the stored ones.
    """
    version_id = _setup(engine)
    frame = canonical_predictions(900, step=timedelta(minutes=3))
    with read_transaction(engine) as session:
        specs = load_specs(session, model_version_id=version_id)
    stale = {c: replace(s, edges=s.edges[:2]) if s.kind == "numeric" else s for c, s in specs.items()}
    batches = [(frame.iloc[:400], specs), (frame.iloc[200:600], specs), (frame.iloc[600:], stale)]
    stored = []
    for part, ahead in batches:
        encoded = encode_predictions(part, profile_specs=ahead)
        assert all(day.profiles for day in encoded.days)
        with transaction(engine) as session:
            stored.append(write_encoded(session, model_version_id=version_id, encoded=encoded, source="t").stored)
    assert stored == [400, 200, 300]
    want = _expected(engine, version_id, frame)
    _assert_same(_window(engine, version_id, days=3), want)
    assert want["income"].counts.sum() == 900
