"""Daily roll-ups of the hourly profiles: a long-range read from them equals the merge of the hours, on
any range and after late rows, spec changes and builds from a revision that has moved since."""

import threading
from datetime import timedelta

import numpy as np
import pyarrow as pa
import pytest
from factories import CREDIT_SCHEMA, T0, canonical_predictions, register_version
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from driftscope.cli import main
from driftscope.pipeline import roll_up_profiles
from driftscope.storage import migrations, profile_reads
from driftscope.storage.bulk import insert_frame
from driftscope.storage.db import make_engine, read_transaction, transaction
from driftscope.storage.models import ProfileDay
from driftscope.storage.predictions import write_predictions
from driftscope.storage.profiles import build_specs, merge_all
from driftscope.storage.profiles import sketch as kll
from driftscope.storage.profiles.backfill import backfill_version, profiled_types
from driftscope.storage.profiles.compute import DAY, HOUR, profile_table
from driftscope.storage.profiles.rollup import _roll_day, build_rollups, rolled_days
from driftscope.storage.profiles.store import (
    add_profiles,
    load_specs,
    profile_frame,
    replace_profiles,
    save_specs,
    window_profiles,
)
from driftscope.storage.registry import ensure_reference
from driftscope.storage.version_summary import store_stamp

DAYS = 6
END = T0 + timedelta(days=DAYS)
LATER = END + timedelta(days=30)
COLUMNS = ("income", "region", "probability")


def _setup(engine: Engine) -> int:
    """A version with DAYS days of predictions every 7 minutes (hourly profiles), rolled up."""
    version_id = register_version(engine).id
    with transaction(engine) as session:
        ensure_reference(session, model_version_id=version_id, frame=canonical_predictions(400, seed=9),
                         source="test")
        backfill_version(session, model_version_id=version_id)
        write_predictions(session, model_version_id=version_id, source="test",
                          frame=canonical_predictions(DAYS * 1440 // 7, step=timedelta(minutes=7), seed=1))
    assert roll_up_profiles(engine, now=LATER) == DAYS
    return version_id


def _check(engine: Engine, version_id: int, column: str, start, end) -> None:  # type: ignore[no-untyped-def]
    """range_profile over [start, end) equals merge_all of the hourly profiles wholly inside it."""
    with read_transaction(engine) as session:
        got = profile_reads.range_profile(session, model_version_id=version_id, column=column, start=start, end=end)
        parts = window_profiles(session, model_version_id=version_id, start=start, end=end).get(column, [])
    assert got is not None
    want = merge_all(parts, got.spec.n_cells)
    p = got.profile
    assert (p.n_rows, p.n_missing, p.counts.tolist(), p.new, p.other, got.n_buckets) == (
        want.n_rows, want.n_missing, want.counts.tolist(), want.new, want.other, len(parts))
    np.testing.assert_allclose([p.minimum, p.maximum, p.mean, p.m2], [want.minimum, want.maximum, want.mean, want.m2],
                               rtol=1e-9)
    mine, theirs = kll.load(p.sketch), kll.load(want.sketch)
    assert mine.n == theirs.n
    if mine.n:  # KLL merges are randomised: the two merges' quantiles agree within the error bound
        ranks = [theirs.get_rank(mine.get_quantile(q)) for q in profile_reads.QUANTILES]
        bound = 2 * max(kll.cdf_error(mine), kll.cdf_error(theirs)) + 1 / mine.n
        assert np.abs(np.array(ranks) - np.array(profile_reads.QUANTILES)).max() <= bound


def _rolled(engine: Engine, version_id: int, start=T0, end=END) -> list:  # type: ignore[no-untyped-def]
    with read_transaction(engine) as session:
        return rolled_days(session, model_version_id=version_id, column="income", start=start, end=end)[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_range_read_through_rollups_equals_the_merge_of_its_hours(engine: Engine, data: st.DataObject) -> None:
    if not hasattr(engine, "_rollup_version"):
        engine._rollup_version = _setup(engine)  # type: ignore[attr-defined]  # once per database
    version_id = engine._rollup_version  # type: ignore[attr-defined]
    first = data.draw(st.integers(0, DAYS * 1440 - 1), label="start minute")
    last = data.draw(st.integers(first + 1, DAYS * 1440 + 120), label="end minute")
    start, end = T0 + timedelta(minutes=first), T0 + timedelta(minutes=last)
    whole = [T0 + timedelta(days=d) for d in range(DAYS) if start <= T0 + timedelta(days=d)
             and T0 + timedelta(days=d + 1) <= end]
    assert _rolled(engine, version_id, start, end) == whole  # each whole day is read as its roll-up
    _check(engine, version_id, data.draw(st.sampled_from(COLUMNS), label="column"), start, end)


def test_a_late_row_retires_its_days_rollup_until_the_next_build(engine: Engine) -> None:
    version_id = _setup(engine)
    start, end = T0 + timedelta(hours=5), END - timedelta(hours=7)
    with read_transaction(engine) as session:
        before = profile_reads.range_profile(session, model_version_id=version_id, column="income", start=start,
                                             end=end)
    late = canonical_predictions(3, start=T0 + timedelta(days=2, hours=10, minutes=31), seed=5, id_prefix="late")
    with transaction(engine) as session:
        write_predictions(session, model_version_id=version_id, frame=late, source="late")
    day2 = T0 + timedelta(days=2)
    assert day2 not in _rolled(engine, version_id) and len(_rolled(engine, version_id)) == DAYS - 1
    for column in COLUMNS:
        _check(engine, version_id, column, start, end)
    with read_transaction(engine) as session:
        after = profile_reads.range_profile(session, model_version_id=version_id, column="income", start=start, end=end)
    assert after is not None and before is not None and after.profile.n_rows == before.profile.n_rows + 3
    assert after.profile.maximum == max(before.profile.maximum, late["income"].max())
    assert roll_up_profiles(engine, now=LATER) == 1  # only the changed day is built again
    assert day2 in _rolled(engine, version_id)
    for column in COLUMNS:
        _check(engine, version_id, column, start, end)


def test_a_rollup_built_from_a_revision_that_moved_is_never_used(engine: Engine) -> None:
    version_id = _setup(engine)
    day = T0 + timedelta(days=3)
    with read_transaction(engine) as session:
        (revision,) = session.execute(select(ProfileDay.revision).where(
            ProfileDay.model_version_id == version_id, ProfileDay.day == day)).one()
    late = canonical_predictions(2, start=day + timedelta(hours=4, minutes=1), seed=6, id_prefix="late")
    with transaction(engine) as session:  # committed after the builder read the revision
        write_predictions(session, model_version_id=version_id, frame=late, source="late")
    with transaction(engine) as session:  # the builder goes on with the revision it read
        _roll_day(session, version_id, day, revision, load_specs(session, model_version_id=version_id))
    assert day not in _rolled(engine, version_id)
    _check(engine, version_id, "income", T0, END)


def test_new_specs_retire_every_rollup_of_the_version(engine: Engine) -> None:
    version_id = _setup(engine)
    reference = canonical_predictions(300, seed=11)
    reference["income"] *= 3
    with transaction(engine) as session:
        types = profiled_types(CREDIT_SCHEMA, "binary_classification")
        assert save_specs(session, model_version_id=version_id, specs=build_specs(reference, types))
        write_predictions(session, model_version_id=version_id, source="test", frame=canonical_predictions(
            50, start=T0 + timedelta(days=1), seed=12, id_prefix="new"))
    assert _rolled(engine, version_id) == []
    _check(engine, version_id, "income", T0, END)
    assert roll_up_profiles(engine, now=LATER) == DAYS
    _check(engine, version_id, "income", T0, END)


def test_days_that_have_not_ended_are_not_rolled_up(engine: Engine) -> None:
    version_id = _setup(engine)
    with transaction(engine) as session:
        write_predictions(session, model_version_id=version_id, source="test", frame=canonical_predictions(
            10, start=END, seed=13, id_prefix="today"))
        assert build_rollups(session, before=END + timedelta(hours=20)) == 0
        assert build_rollups(session, before=END + timedelta(days=1)) == 1


def test_the_migration_records_the_days_of_existing_profiles(db_url: str) -> None:
    engine = make_engine(db_url)
    version_id = register_version(engine).id
    specs = build_specs(canonical_predictions(400, seed=9), profiled_types(CREDIT_SCHEMA, "binary_classification"))
    with transaction(engine) as session:
        save_specs(session, model_version_id=version_id, specs=specs)
    migrations.downgrade(db_url, "0015")
    table = pa.Table.from_pandas(canonical_predictions(3 * 24, step=timedelta(hours=1), seed=2).drop(
        columns="prediction_id"), preserve_index=False)
    with transaction(engine) as session:  # profiles as a store before 0016 holds them: no day revisions
        insert_frame(session, "profiles", profile_frame(version_id, HOUR, profile_table(table, specs)))
    engine.dispose()
    migrations.upgrade(db_url)
    engine = make_engine(db_url)
    with read_transaction(engine) as session:
        days = session.execute(select(ProfileDay.day, ProfileDay.revision, ProfileDay.rolled_revision).where(
            ProfileDay.model_version_id == version_id).order_by(ProfileDay.day)).all()
    assert [tuple(d) for d in days] == [(T0 + timedelta(days=d), 1, 0) for d in range(3)]
    assert roll_up_profiles(engine, now=LATER) == 3
    _check(engine, version_id, "income", T0 + timedelta(hours=3), T0 + timedelta(days=3))
    engine.dispose()


def test_the_store_stamp_changes_with_every_profile_write_and_not_with_a_rollup(engine: Engine) -> None:
    version_id = _setup(engine)
    with read_transaction(engine) as session:
        specs, first = load_specs(session, model_version_id=version_id), store_stamp(session)
    table = pa.Table.from_pandas(canonical_predictions(5, start=T0 + timedelta(days=1), seed=3).drop(
        columns="prediction_id"), preserve_index=False)
    stamps = [first]
    for write in (add_profiles, replace_profiles):  # as a backfill and a lake collect write them: no volume, no run
        with transaction(engine) as session:
            write(session, model_version_id=version_id, profiles=profile_table(table, specs), bucket_seconds=HOUR)
            stamps.append(store_stamp(session))
    assert roll_up_profiles(engine, now=LATER) == 1
    with read_transaction(engine) as session:
        stamps.append(store_stamp(session))
    assert len(set(stamps[:3])) == 3 and stamps[3] == stamps[2]


def test_a_lake_versions_day_profiles_are_read_beside_rolled_days(engine: Engine) -> None:
    """Day buckets (lake partitions) have no hourly rows to roll up: their days are marked rolled and the
    day buckets are still read, once each."""
    version_id = _setup(engine)
    table = pa.Table.from_pandas(canonical_predictions(DAYS * 100, step=timedelta(minutes=14), seed=4).drop(
        columns="prediction_id"), preserve_index=False)
    with transaction(engine) as session:
        specs = load_specs(session, model_version_id=version_id)
        replace_profiles(session, model_version_id=version_id, profiles=profile_table(table, specs, bucket_seconds=DAY),
                         bucket_seconds=DAY)
    roll_up_profiles(engine, now=LATER)
    assert len(_rolled(engine, version_id)) == DAYS
    for column in COLUMNS:
        _check(engine, version_id, column, T0 + timedelta(hours=1), END)
        _check(engine, version_id, column, T0, END)


def test_backfill_profiles_rebuilds_the_rollups(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    engine = make_engine(db_url)
    version_id = _setup(engine)
    assert main(["db", "backfill-profiles", "--database-url", db_url]) == 0
    assert f"rolled up the profiles of {DAYS} ended days" in capsys.readouterr().out  # every day was retired
    assert len(_rolled(engine, version_id)) == DAYS
    _check(engine, version_id, "income", T0 + timedelta(hours=2), END)
    engine.dispose()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_build_racing_an_uncommitted_late_write_is_never_used(engine: Engine) -> None:
    """PostgreSQL, two transactions at once: a writer holds a late row of a rolled-up day uncommitted while
    the builder rolls the day up again from the hours it can see; whichever order they finish in, the
    day is read from its hours (with the late row) until a build after the write."""
    version_id = _setup(engine)
    day = T0 + timedelta(days=4)
    with transaction(engine) as session:  # an earlier write retires the day, so the builder will take it
        write_predictions(session, model_version_id=version_id, source="late", frame=canonical_predictions(
            1, start=day + timedelta(hours=1, minutes=3), seed=7, id_prefix="early"))
    holding, release = threading.Event(), threading.Event()

    def late_writer() -> None:
        with transaction(engine) as session:
            write_predictions(session, model_version_id=version_id, source="late", frame=canonical_predictions(
                4, start=day + timedelta(hours=9, minutes=2), seed=8, id_prefix="late"))
            holding.set()
            release.wait(30)

    writer = threading.Thread(target=late_writer)
    writer.start()
    assert holding.wait(30)
    threading.Timer(1.0, release.set).start()  # the builder's mark waits for the writer's row lock meanwhile
    with transaction(engine) as session:
        assert build_rollups(session, before=LATER) == 1
    writer.join(30)
    assert day not in _rolled(engine, version_id)
    _check(engine, version_id, "income", T0, END)
    assert roll_up_profiles(engine, now=LATER) == 1 and day in _rolled(engine, version_id)
    _check(engine, version_id, "income", T0, END)


def test_a_store_from_before_profiles_gets_them_when_it_upgrades(db_url: str) -> None:
    """Downgraded to 0007 (predictions and reference kept, profiles gone), the upgrade backfills the
    profiles and records their days (0008's own backfill would write day revisions before 0016 made
    their table)."""
    engine = make_engine(db_url)
    version_id = _setup(engine)
    with read_transaction(engine) as session:
        want = window_profiles(session, model_version_id=version_id, start=T0, end=END)
    engine.dispose()
    migrations.downgrade(db_url, "0007")
    migrations.upgrade(db_url)
    engine = make_engine(db_url)
    with read_transaction(engine) as session:
        got = window_profiles(session, model_version_id=version_id, start=T0, end=END)
        days = session.execute(select(ProfileDay.day).where(ProfileDay.model_version_id == version_id)).scalars()
        assert sorted(days) == [T0 + timedelta(days=d) for d in range(DAYS)]
    assert set(got) == set(want) == set(load_specs_of(engine, version_id))
    for column, profiles in want.items():
        assert [(p.n_rows, p.n_missing, p.counts.tolist()) for p in got[column]] == [
            (p.n_rows, p.n_missing, p.counts.tolist()) for p in profiles]
    engine.dispose()


def load_specs_of(engine: Engine, version_id: int) -> dict:  # type: ignore[type-arg]
    with read_transaction(engine) as session:
        return load_specs(session, model_version_id=version_id)
