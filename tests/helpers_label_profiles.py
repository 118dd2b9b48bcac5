"""Shared pieces of the label-profile tests: label rows for predictions, and profile equality."""

import numpy as np
import pandas as pd

from driftscope.storage.profiles.labelled import LabelledProfile


def label_rows(frame: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """Ground-truth rows for the predictions of ``frame``: their ids and timestamps, ``labels`` as text."""
    return pd.DataFrame({"prediction_id": frame["prediction_id"].to_numpy(), "label": labels.astype(str),
                         "ts": frame["ts"].to_numpy()})


def assert_same_profile(got: LabelledProfile | None, want: LabelledProfile) -> None:
    """Counts equal exactly; sums, moments and per-class scores to 1e-9."""
    assert got is not None
    assert sorted(got.cells) == sorted(want.cells)
    for key, sums in want.cells.items():
        assert got.cells[key][0] == sums[0], key
        np.testing.assert_allclose(got.cells[key], sums, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got.moments, want.moments, rtol=1e-9, atol=1e-9)
    assert (got.scores is None) == (want.scores is None)
    if got.scores is not None and want.scores is not None:
        assert got.scores.ovr == want.scores.ovr  # counts: exact
        for mine, theirs in ((got.scores.pairs, want.scores.pairs), (got.scores.rows, want.scores.rows)):
            assert sorted(mine) == sorted(theirs)
            for key, sums in theirs.items():
                np.testing.assert_allclose(mine[key], sums, rtol=1e-9, atol=1e-9)
