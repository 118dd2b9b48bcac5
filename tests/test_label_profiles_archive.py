"""Label profiles and the archive: archiving changes none; late labels and corrections of archived predictions keep
them equal to what the rows path reads, and only the archived days that can hold the labels' ids are read."""

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from factories import T0, canonical_predictions, register_version
from helpers_label_profiles import assert_same_profile, label_rows
from sqlalchemy import Engine

from driftscope.storage.archive import run_archive
from driftscope.storage.config import RetentionConfig
from driftscope.storage.db import read_transaction, transaction
from driftscope.storage.labels import labels_for_window, write_labels
from driftscope.storage.predictions import count_predictions, read_window, write_predictions
from driftscope.storage.profiles import labelled_archive
from driftscope.storage.profiles.labelled import LabelledProfile, merge, profile_rows
from driftscope.storage.profiles.labelled_store import window_labelled

END = T0 + timedelta(days=2)
TASK = "binary_classification"

def _stored(engine: Engine, version_id: int) -> LabelledProfile | None:
    with read_transaction(engine) as session:
        return window_labelled(session, model_version_id=version_id, start=T0, end=END)



def _rows_path(engine: Engine, version) -> LabelledProfile:  # type: ignore[no-untyped-def]
    """The label profile of what the rows path reads: the window's rows joined to its labels, archive included."""
    with read_transaction(engine) as session:
        rows = read_window(session, model_version_id=version.id, start=T0, end=END)
        labels = labels_for_window(session, model_id=version.model_id, model_version_id=version.id, start=T0, end=END)
    return profile_rows(rows.merge(labels[["prediction_id", "label"]], on="prediction_id"), TASK)


def _write(engine: Engine, version, frame: pd.DataFrame, labels: np.ndarray):  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        return write_labels(session, model_id=version.model_id, frame=label_rows(frame, labels), source="t")


def _archive_day0(engine: Engine, tmp_path: Path) -> None:
    done = run_archive(engine, RetentionConfig(raw="1d", archive=str(tmp_path / "archive")),
                       now=T0 + timedelta(days=2, hours=12))
    assert [(d.day, d.predictions) for d in done] == [(T0, 480)]


def test_late_labels_and_corrections_of_archived_predictions_keep_the_label_profile_exact(
        engine: Engine, tmp_path: Path) -> None:
    version = register_version(engine)
    frame = canonical_predictions(600, step=timedelta(minutes=3), seed=4)  # rows 0..479 on day 0, 480.. on day 1
    truth = np.random.default_rng(5).integers(0, 2, 600).astype(np.int64)
    for part in (frame.iloc[:480], frame.iloc[480:]):
        with transaction(engine) as session:
            write_predictions(session, model_version_id=version.id, frame=part, source="t")
    _write(engine, version, frame.iloc[:200], truth[:200])  # labelled before archiving
    before = _stored(engine, version.id)
    assert before is not None and before.n_labelled == 200

    _archive_day0(engine, tmp_path)
    with read_transaction(engine) as session:
        assert count_predictions(session, model_version_id=version.id, start=T0, end=END) == 120
    assert_same_profile(_stored(engine, version.id), before)  # archiving moves rows, not profiles

    new = np.r_[np.arange(200, 300), np.arange(500, 550)]  # archived without a label, and stored
    with transaction(engine) as session:
        write_labels(session, model_id=version.model_id, source="t", frame=pd.concat([
            label_rows(frame.iloc[new], truth[new]),
            pd.DataFrame({"prediction_id": ["never-logged"], "label": ["1"], "ts": [T0]})]))
    assert_same_profile(_stored(engine, version.id),
                 merge(before, profile_rows(frame.iloc[new].assign(label=truth[new].astype(str)), TASK)))

    final = truth.copy()
    final[10] = 1 - final[10]  # archived with a label; a different one lands after archiving: it wins
    counts = _write(engine, version, frame.iloc[[10, 20]], final[[10, 20]])  # 20: the same label again
    assert (counts.inserted, counts.corrected) == (2, 0)  # the store no longer held their archived labels
    final[200:250] = 1 - final[200:250]  # corrections of labels that landed after archiving
    final[10] = truth[10]
    counts = _write(engine, version, frame.iloc[np.r_[10, 200:250]], final[np.r_[10, 200:250]])
    assert counts.corrected == 51

    labelled = np.r_[np.arange(300), np.arange(500, 550)]
    want = profile_rows(frame.iloc[labelled].assign(label=final[labelled].astype(str)), TASK)
    assert want.n_labelled == 350
    assert_same_profile(_stored(engine, version.id), want)
    assert_same_profile(_rows_path(engine, version), want)


@pytest.mark.parametrize("ids", ["ordered", "random"])
def test_only_archived_days_that_can_hold_a_label_are_read(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ids: str) -> None:
    """Ordered ids: the parts' footers rule the other day out; random ids: the days' id filters do."""
    version = register_version(engine)
    rng = np.random.default_rng(7)
    days = [canonical_predictions(480, start=T0 + timedelta(days=d), step=timedelta(minutes=3), seed=d,
                                  id_prefix=f"d{d}-") for d in range(2)]
    if ids == "random":
        for day in days:
            day["prediction_id"] = [f"{v:032x}" for v in rng.integers(0, 2**63, len(day))]
    for day in days:
        with transaction(engine) as session:
            write_predictions(session, model_version_id=version.id, frame=day, source="t")
    run_archive(engine, RetentionConfig(raw="1d", archive=str(tmp_path / "archive")), now=T0 + timedelta(days=3))
    real_read = labelled_archive.read_part
    reads: list[tuple[str, str]] = []
    monkeypatch.setattr(labelled_archive, "read_part",
                        lambda part: reads.append((part.kind, Path(part.path).parent.name)) or real_read(part))

    _write(engine, version, days[1].iloc[:5], np.ones(5, dtype=np.int64))
    assert [day for kind, day in reads if kind == "predictions"] == ["day=2026-01-02"]
    reads.clear()
    unknown = ["e1", "c9"] if ids == "ordered" else [f"{v:032x}" for v in rng.integers(0, 2**63, 20)]
    _write(engine, version, pd.DataFrame({"prediction_id": unknown, "ts": T0}), np.ones(len(unknown), dtype=np.int64))
    assert [kind for kind, _ in reads if kind == "predictions"] == []  # labels before their predictions
    profile = _stored(engine, version.id)
    assert profile is not None and profile.n_labelled == 5
