"""Retention roll-over: old raw rows move to verified Parquet, reads stay the same, nothing is ever lost.

An unwritable archive is simulated without chmod (the tests run as root, whom permissions do not
stop): the archive path lies *under a regular file*, so no folder can be created there; and an
``http://`` URL on a closed port is an unreachable, read-only fsspec filesystem.
"""

import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers_monitor import applied, config_document, credit_frame, make_config, store_rows
from sqlalchemy import func, select

from driftscope.cli import main
from driftscope.monitors.runner import run_monitors
from driftscope.storage.archive import run_archive
from driftscope.storage.archive_files import ArchiveError
from driftscope.storage.archive_restore import list_archive, restore, store_size, verify_archive
from driftscope.storage.config import RetentionConfig
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.labels import label_history, labels_for_window, write_labels
from driftscope.storage.models import Outcome
from driftscope.storage.outcomes import outcomes_for_window, write_outcomes
from driftscope.storage.predictions import count_predictions, hourly_volume, read_window
from driftscope.storage.registry import get_version
from driftscope.storage.results import drift_results, metric_values

ROOT = Path(__file__).resolve().parent.parent
D0 = datetime(2026, 1, 1, tzinfo=UTC)
ALL = (D0 - timedelta(days=365), D0 + timedelta(days=365))
MONITORS = [{"name": "drift", "model": "credit", "kind": "data_drift", "window": "1d"},
            {"name": "perf", "model": "credit", "kind": "performance", "window": "1d", "metrics": ["accuracy",
             "roc_auc"], "min_labels": 100, "n_bootstrap": 50}]


def _snapshot(engine, start=ALL[0], end=ALL[1]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The window's predictions, labels and outcomes as a reader sees them."""
    with transaction(engine) as session:
        info = get_version(session, "credit", "1.0")
        frame = read_window(session, model_version_id=info.id, start=start, end=end)
        labels = labels_for_window(session, model_id=info.model_id, model_version_id=info.id, start=start, end=end)
        outcomes = outcomes_for_window(session, model_id=info.model_id, model_version_id=info.id, start=start,
                                       end=end)
    labels = labels.assign(label_ts=pd.to_datetime(labels["label_ts"], utc=True))
    return frame, labels.sort_values("prediction_id", ignore_index=True), outcomes


def _assert_same(before: tuple[pd.DataFrame, ...], after: tuple[pd.DataFrame, ...]) -> None:
    frame, labels, outcomes = before
    pd.testing.assert_frame_equal(frame, after[0])
    pd.testing.assert_frame_equal(labels, after[1], check_dtype=False)
    pd.testing.assert_frame_equal(outcomes, after[2])
    assert len(outcomes) > 0


def _write_outcomes(engine, frame: pd.DataFrame) -> int:
    """Revenue for every third prediction, a click for every fifth, and one outcome whose prediction never came."""
    third, fifth = frame.iloc[::3], frame.iloc[::5]
    outcomes = pd.concat([
        pd.DataFrame({"prediction_id": third["prediction_id"], "outcome": "revenue",
                      "value": (third["probability"] * 100).round(2), "ts": third["ts"] + timedelta(hours=2)}),
        pd.DataFrame({"prediction_id": fifth["prediction_id"], "outcome": "clicked", "value": 1.0 * fifth["prediction"],
                      "ts": fifth["ts"] + timedelta(minutes=5)}),
        pd.DataFrame({"prediction_id": ["never-logged"], "outcome": ["clicked"], "value": [1.0], "ts": [D0]}),
    ], ignore_index=True)
    with transaction(engine) as session:
        info = get_version(session, "credit", "1.0")
        return write_outcomes(session, model_id=info.model_id, frame=outcomes).stored


def _stored_outcomes(engine) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Outcome)) or 0)


def _stored_rows(engine) -> int:
    with transaction(engine) as session:
        return count_predictions(session, model_version_id=get_version(session, "credit", "1.0").id, start=ALL[0],
                                 end=ALL[1])


def _results(engine, runs) -> list[pd.DataFrame]:
    out = []
    with transaction(engine) as session:
        for run in sorted(runs, key=lambda r: r.monitor):
            for frame in (drift_results(session, run_id=run.id), metric_values(session, run_id=run.id)):
                out.append(frame.drop(columns=[c for c in ("id", "run_id") if c in frame]).reset_index(drop=True))
    return out


def _setup(engine, tmp_path, n: int = 6000):
    config = applied(engine, make_config(tmp_path, engine.url.render_as_string(hide_password=False), MONITORS))
    frame = credit_frame(n, start=D0.replace(tzinfo=None), step=timedelta(seconds=43))
    store_rows(engine, config, frame)
    with transaction(engine) as session:  # one corrected label: its revision must survive the round trip
        info = get_version(session, "credit", "1.0")
        write_labels(session, model_id=info.model_id, source="fix", frame=pd.DataFrame(
            {"prediction_id": ["r5"], "label": [str(1 - frame["label"].iloc[5])], "ts": [D0]}))
    _write_outcomes(engine, frame)
    return config


def test_archived_days_leave_the_store_and_recomputed_results_are_identical(engine, tmp_path) -> None:
    config = _setup(engine, tmp_path)
    day1 = (D0 + timedelta(days=1), D0 + timedelta(days=2))
    before_runs = run_monitors(engine, config, window_end=day1[1], now=D0 + timedelta(days=5))
    before = _results(engine, before_runs)
    snapshot = _snapshot(engine, *day1)
    with transaction(engine) as session:
        volume = hourly_volume(session, model_version_id=get_version(session, "credit", "1.0").id)
    total, outcomes = _stored_rows(engine), _stored_outcomes(engine)

    done = run_archive(engine, RetentionConfig(raw="1d", archive=str(tmp_path / "archive")),
                       now=D0 + timedelta(days=3, hours=12))

    assert [(d.day, d.predictions) for d in done] == [(D0, 2010), (D0 + timedelta(days=1), 2009)]
    assert [d.outcomes for d in done] == [670 + 402, 670 + 402]  # revenue for every 3rd, a click for every 5th
    assert _stored_rows(engine) == total - 2010 - 2009
    assert _stored_outcomes(engine) == outcomes - 2 * 1072
    after_runs = run_monitors(engine, config, window_end=day1[1], now=D0 + timedelta(days=5))
    assert [r.n_rows for r in after_runs] == [r.n_rows for r in before_runs] == [2009, 2009]
    assert [r.n_labels for r in after_runs] == [r.n_labels for r in before_runs]
    for old, new in zip(before, _results(engine, after_runs), strict=True):
        pd.testing.assert_frame_equal(old, new)
    _assert_same(snapshot, _snapshot(engine, *day1))
    with transaction(engine) as session:
        assert hourly_volume(session, model_version_id=get_version(session, "credit", "1.0").id).equals(volume)
        listing = list_archive(session)
    assert listing.set_index("kind").loc["predictions", "rows"] == 4019
    assert listing.set_index("kind").loc["outcomes", "rows"] == 2 * 1072
    assert verify_archive(engine) == []
    assert len(list((tmp_path / "archive" / "credit" / "1.0").glob("day=*/manifest.json"))) == 2


def test_restore_round_trip_is_identical_and_idempotent(engine, tmp_path) -> None:
    _setup(engine, tmp_path)
    snapshot = _snapshot(engine)
    with transaction(engine) as session:
        info = get_version(session, "credit", "1.0")
        history = label_history(session, model_id=info.model_id, prediction_id="r5")
        volume = hourly_volume(session, model_version_id=info.id)
    total, outcomes = _stored_rows(engine), _stored_outcomes(engine)
    run_archive(engine, RetentionConfig(raw="1d", archive=str(tmp_path / "archive")), now=D0 + timedelta(days=30))
    assert _stored_rows(engine) == 0
    assert _stored_outcomes(engine) == 1  # the outcome whose prediction never came waits in the store
    _assert_same(snapshot, _snapshot(engine))

    first = restore(engine, model="credit", version="1.0", start=D0, end=D0 + timedelta(days=10))
    second = restore(engine, model="credit", version="1.0", start=D0, end=D0 + timedelta(days=10))

    assert (first.predictions, first.outcomes, second.days, second.predictions, second.outcomes) == (
        total, outcomes - 1, 0, 0, 0)
    assert (_stored_rows(engine), _stored_outcomes(engine)) == (total, outcomes)
    _assert_same(snapshot, _snapshot(engine))
    with transaction(engine) as session:
        info = get_version(session, "credit", "1.0")
        pd.testing.assert_frame_equal(history.drop(columns=["changed_at"]), label_history(
            session, model_id=info.model_id, prediction_id="r5").drop(columns=["changed_at"]))
        assert hourly_volume(session, model_version_id=info.id).equals(volume)


def test_archived_windows_are_not_recomputed_on_every_tick(engine, tmp_path) -> None:
    """The store no longer holds an archived day's labels, so its runs must not look stale to the label check."""
    config = _setup(engine, tmp_path)
    if engine.dialect.name == "sqlite":  # labels stamped in the second of a run's read count as new to it
        time.sleep(1.1)  # (one harmless extra recompute): let the backfill read in a later second
    run_monitors(engine, config, monitor="perf", backfill_from=D0, backfill_until=D0 + timedelta(days=3),
                 now=D0 + timedelta(days=4))
    run_archive(engine, RetentionConfig(raw="1d", archive=str(tmp_path / "archive")),
                now=D0 + timedelta(days=3, hours=12))

    ticks = [run_monitors(engine, config, monitor="perf", now=D0 + timedelta(days=4, hours=h)) for h in (1, 2)]

    assert [[r.window_end for r in runs] for runs in ticks] == [[D0 + timedelta(days=4)]] * 2  # only the new tile


@pytest.mark.parametrize("where", ["under-a-file", "unreachable-http"])
def test_an_unwritable_or_unreachable_archive_stops_the_job_and_deletes_nothing(sqlite_engine, tmp_path, where):
    _setup(sqlite_engine, tmp_path, n=3000)
    (tmp_path / "plain-file").write_text("not a folder")
    archive = (str(tmp_path / "plain-file" / "archive") if where == "under-a-file"
               else f"http://127.0.0.1:{_closed_port()}/archive")
    total, outcomes = _stored_rows(sqlite_engine), _stored_outcomes(sqlite_engine)
    with transaction(sqlite_engine) as session:
        size = store_size(session)

    with pytest.raises(ArchiveError, match="nothing was deleted"):
        run_archive(sqlite_engine, RetentionConfig(raw="1d", archive=archive), now=D0 + timedelta(days=30))

    assert (_stored_rows(sqlite_engine), _stored_outcomes(sqlite_engine)) == (total, outcomes)
    with transaction(sqlite_engine) as session:
        assert list_archive(session).empty and store_size(session) == size


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _archived_days(engine) -> int:
    with transaction(engine) as session:
        listing = list_archive(session)
    return 0 if listing.empty else int(listing.set_index("kind").loc["predictions", "days"])


def _wait_archived(engine, days: int, timeout: float = 180) -> None:
    """Wait until ``days`` days are archived (bounded: a loaded machine took over 60 s to start and archive one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _archived_days(engine) < days:
        time.sleep(0.05)


@pytest.mark.slow
def test_archive_killed_with_sigkill_at_random_points_loses_no_row(db_url, tmp_path, capsys) -> None:
    document = config_document(tmp_path, db_url, [])
    document["retention"] = {"raw": "30d", "archive": "archive/"}
    config_path = tmp_path / "driftscope.yaml"
    config_path.write_text(yaml.safe_dump(document, sort_keys=False))
    assert main(["apply", "--config", str(config_path)]) == 0
    engine = make_engine(db_url)
    config = make_config(tmp_path, db_url, [])
    stored = credit_frame(8_000, start=D0.replace(tzinfo=None), step=timedelta(minutes=15))
    store_rows(engine, config, stored)
    _write_outcomes(engine, stored)
    snapshot = _snapshot(engine)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "driftscope", "archive", "run", "--config", str(config_path)]
    rng = random.Random(14)
    try:
        for _ in range(4):
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _wait_archived(engine, _archived_days(engine) + 1)
            time.sleep(rng.uniform(0.0, 0.05))  # an idle machine archives a day in well under 0.1 s
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            _assert_same(snapshot, _snapshot(engine))  # every row in the store, a verified file, or both
        assert 0 < _stored_rows(engine) < len(stored), "the kills came too early or too late"
        final = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert final.returncode == 0, final.stderr
        assert (_stored_rows(engine), _stored_outcomes(engine)) == (0, 1)
        _assert_same(snapshot, _snapshot(engine))
        assert main(["archive", "verify", "--config", str(config_path)]) == 0
        capsys.readouterr()
        assert main(["archive", "list", "--config", str(config_path)]) == 0
        cells = [re.split(r"\s{2,}", line.strip()) for line in capsys.readouterr().out.splitlines()[1:]]
        listing = {row[2]: row for row in cells}
        assert set(listing) == {"predictions", "labels", "outcomes"}, listing
        assert int(listing["outcomes"][6]) == len(snapshot[2])  # every outcome of a logged prediction
    finally:
        engine.dispose()


def test_backfill_profiles_keeps_the_profiles_of_archived_days(engine, tmp_path, capsys) -> None:
    """Archived days' rows are in Parquet, not in the store: a backfill cannot rebuild their hourly
    profiles (column and label profiles) and must keep them as they are; the stored days are rebuilt."""
    from driftscope.storage.models import ColumnProfileRow, LabelProfileRow

    def hourly(model):  # type: ignore[no-untyped-def]
        with transaction(engine) as session:
            return session.execute(select(model.bucket_start, func.count()).where(model.bucket_seconds == 3600)
                                   .group_by(model.bucket_start).order_by(model.bucket_start)).all()

    _setup(engine, tmp_path)
    before = {model: hourly(model) for model in (ColumnProfileRow, LabelProfileRow)}
    run_archive(engine, RetentionConfig(raw="1d", archive=str(tmp_path / "archive")),
                now=D0 + timedelta(days=3, hours=12))
    assert main(["db", "backfill-profiles", "--database-url", engine.url.render_as_string(hide_password=False)]) == 0
    capsys.readouterr()
    for model, rows in before.items():
        assert len(rows) > 48 and hourly(model) == rows
