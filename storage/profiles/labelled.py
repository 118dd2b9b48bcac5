"""Label profiles: what the performance metrics need from a bucket's labelled predictions, mergeable.

Classification: one *cell* per (label, prediction, score bin) with its row count and the sums
``p``, ``p**2``, ``ln p`` and ``ln(1 - p)`` of the logged ``probability`` (clipped to
``[EPS, 1 - EPS]`` for the logarithms, as :func:`driftscope.monitors.metrics.log_loss`). Labels
are kept as stored (text), predictions as :func:`~driftscope.storage.profiles.spec.category_name`
spells them; the monitor converts both to the reference target's type when it reads them. The
score bin is ``floor(p * SCORE_BINS)`` clipped to ``[0, SCORE_BINS - 1]`` (equal-width bins over
[0, 1]; ``-1`` without a finite probability). Counts per (label, prediction) are the confusion
matrix at the model's decision (the logged prediction); counts per (label, bin) are the score
histograms per class that ROC AUC is computed from. A multiclass model that logs per-class
probabilities also gets ``scores`` (:mod:`.class_scores`): per (label, class, bin of that class's
probability) counts for the one-vs-rest ROC AUC and per-class sums for log loss and Brier.
Profiles stored before ``scores`` existed load with ``scores=None``; a merge keeps ``None`` when
a side without ``scores`` holds classification rows (the part would be incomplete).

Regression: the error moments of ``e = y - y_hat``: ``n``, ``sum e``, ``sum |e|``, ``sum e**2``,
``sum e**4``, ``sum |e| / max(|y|, EPS)`` and its square, the target's mean ``ȳ`` and central sums
``M2 = sum (y - ȳ)**2``, ``M3``, ``M4``, and the co-moments ``sum e**2 (y - ȳ)`` and
``sum e**2 (y - ȳ)**2``. MAE, RMSE, mean error, MAPE and R² are exact functions of them; R²'s
delta-method standard error needs ``sum e**4``, ``M4`` and ``sum e**2 (y - ȳ)**2``
(:func:`driftscope.monitors.profiles.moments.r2_standard_error`); ``M3`` and
``sum e**2 (y - ȳ)`` are what merging the fourth-order sums needs. The central sums merge by
Pébay's pairwise update (Chan et al.'s for ``M2``, as :mod:`.profile`), the co-moments by
shifting each part to the merged mean. Profiles stored before the last four (9 values, a
:data:`LEGACY_MOMENTS` profile) still load and merge; a merge with one of them keeps the first 9.

Everything merges by addition (the target moments by the updates above, which are algebraic
identities and so hold for negative counts too), so merging is associative and commutative;
counts merge exactly, sums up to floating-point rounding. A profile with weight ``-1`` removes
rows: a corrected label is its old row removed and its new row added.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from driftscope.storage.profiles.class_scores import EMPTY_SUMS as EMPTY_SUMS
from driftscope.storage.profiles.class_scores import EPS as EPS
from driftscope.storage.profiles.class_scores import SCORE_BINS as SCORE_BINS
from driftscope.storage.profiles.class_scores import ClassScores, merge_scores, scores_by_bucket
from driftscope.storage.profiles.spec import category_name

N_SUMS = 5
"""Per cell: rows, sum p, sum p², sum ln p, sum ln(1 - p)."""
MOMENTS = ("n", "sum_e", "sum_abs_e", "sum_sq_e", "sum_e4", "sum_ape", "sum_ape2", "mean_y", "m2_y",
           "m3_y", "m4_y", "sum_sq_e_dy", "sum_sq_e_dy2")
LEGACY_MOMENTS = 9
"""Values of the moments stored before R² had a standard error (through ``m2_y``)."""
CellKey = tuple[str, str, int]


@dataclass(frozen=True, eq=False)
class LabelledProfile:
    """Summary of some labelled predictions.

    Attributes
    ----------
    cells : dict of (label, prediction, bin) to numpy.ndarray
        Classification: per cell ``[n, sum p, sum p², sum ln p, sum ln(1 - p)]`` (float64).
    moments : numpy.ndarray
        Regression: the values named by :data:`MOMENTS` (zeros without rows); only the first
        :data:`LEGACY_MOMENTS` of them in a profile stored before the others existed.
    scores : ClassScores or None
        Multiclass rows with per-class probabilities: :mod:`.class_scores`; None when not profiled.
    """

    cells: dict[CellKey, np.ndarray] = field(default_factory=dict)
    moments: np.ndarray = field(default_factory=lambda: np.zeros(len(MOMENTS)))
    scores: ClassScores | None = None

    @property
    def has_r2_sums(self) -> bool:
        """Whether the moments hold the sums R²'s standard error needs (not a legacy profile)."""
        return self.moments.size == len(MOMENTS)

    @property
    def n_labelled(self) -> int:
        """Labelled rows summarised."""
        return round(sum(float(c[0]) for c in self.cells.values()) + float(self.moments[0]))

    def to_json(self) -> tuple[dict[str, list[Any]], list[float]]:
        """``cells`` (columnar: ``label``, ``prediction``, ``bin`` and the sums row-major in ``sums``;
        ``scores`` when profiled) and ``moments`` as JSON-safe values (the ``label_profiles`` columns)."""
        keys = sorted(self.cells)
        labels, predictions, bins = (list(part) for part in zip(*keys, strict=True)) if keys else ([], [], [])
        sums = np.array([self.cells[k] for k in keys], dtype=np.float64).reshape(-1).tolist()
        cells: dict[str, Any] = {"label": labels, "prediction": predictions, "bin": bins, "sums": sums}
        if self.scores is not None:
            cells["scores"] = self.scores.to_json()
        return cells, [float(v) for v in self.moments]

    @classmethod
    def from_json(cls, cells: Mapping[str, Any], moments: Iterable[float]) -> "LabelledProfile":
        """The inverse of :meth:`to_json`; legacy moments without rows read as the current empty ones."""
        sums = np.asarray(cells.get("sums", []), dtype=np.float64).reshape(-1, N_SUMS)
        keys = zip(cells.get("label", []), cells.get("prediction", []), cells.get("bin", []), strict=True)
        values = np.asarray(list(moments), dtype=np.float64)
        if not values.any():
            values = np.zeros(len(MOMENTS))
        scores = ClassScores.from_json(cells["scores"]) if "scores" in cells else None
        return cls(dict(zip(keys, sums, strict=True)), values, scores)


def merge(a: LabelledProfile, b: LabelledProfile) -> LabelledProfile:
    """The profile of the rows of ``a`` and ``b``.

    A cell is dropped when its count reaches 0 and its sums are within :data:`EMPTY_SUMS` of 0 (its
    rows were removed); a change (one row removed, another added) keeps count 0 with its sums.

    Examples
    --------
    >>> frame = pd.DataFrame({"label": ["1", "0"], "prediction": [1, 1], "probability": [0.9, 0.6]})
    >>> p = profile_rows(frame, "binary_classification")
    >>> merge(p, profile_rows(frame, "binary_classification", weight=-1)).n_labelled
    0
    """
    cells = dict(a.cells)
    for key, sums in b.cells.items():
        total = cells[key] + sums if key in cells else sums.copy()
        if round(total[0]) == 0 and np.all(np.abs(total[1:]) <= EMPTY_SUMS):
            cells.pop(key, None)
        else:
            cells[key] = total
    return LabelledProfile(cells, _merge_moments(a.moments, b.moments), _merged_scores(a, b))


def _merged_scores(a: LabelledProfile, b: LabelledProfile) -> ClassScores | None:
    """Both sides' scores added; None when a side without them holds classification rows, or when no row is
    left (so a profile whose rows were all removed equals the empty one)."""
    if a.scores is None:
        return None if b.scores is None or a.cells else b.scores
    if b.scores is None:
        return None if b.cells else a.scores
    merged = merge_scores(a.scores, b.scores)
    return merged if merged.ovr or merged.pairs or merged.rows else None


def merge_all(profiles: Iterable[LabelledProfile]) -> LabelledProfile:
    """The merge of ``profiles`` (an empty profile for none)."""
    out = LabelledProfile()
    for profile in profiles:
        out = merge(out, profile)
    return out


def _merge_moments(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sums add; the target's central sums by Pébay's update, the co-moments shifted to the merged mean.

    With ``d = ȳ_b - ȳ_a`` (Pébay 2008, eq. 3.1 and 3.3):
    ``M2 = M2_a + M2_b + d² n_a n_b / n``,
    ``M3 = M3_a + M3_b + d³ n_a n_b (n_a - n_b) / n² + 3 d (n_a M2_b - n_b M2_a) / n``,
    ``M4 = M4_a + M4_b + d⁴ n_a n_b (n_a² - n_a n_b + n_b²) / n³ + 6 d² (n_a² M2_b + n_b² M2_a) / n²
    + 4 d (n_a M3_b - n_b M3_a) / n``; a part whose mean lies ``s`` above the merged one adds
    ``C1 + s S`` to ``sum e² (y - ȳ)`` and ``C2 + 2 s C1 + s² S`` to ``sum e² (y - ȳ)²``
    (``S = sum e²``). A negative count inverts them. An empty side leaves the other unchanged; with
    a legacy side only the first :data:`LEGACY_MOMENTS` values are kept.
    """
    if not b.any():
        return a.copy()
    if not a.any():
        return b.copy()
    size = min(a.size, b.size)
    a, b = a[:size], b[:size]
    n_a, n_b = a[0], b[0]
    n = n_a + n_b
    if round(n) == 0:
        return np.zeros(len(MOMENTS))
    out = a + b
    d = b[7] - a[7]
    out[7] = a[7] + d * n_b / n
    out[8] = a[8] + b[8] + d * d * n_a * n_b / n
    if size == LEGACY_MOMENTS:
        return out
    out[9] = a[9] + b[9] + d**3 * n_a * n_b * (n_a - n_b) / n**2 + 3.0 * d * (n_a * b[8] - n_b * a[8]) / n
    out[10] = (a[10] + b[10] + d**4 * n_a * n_b * (n_a * n_a - n_a * n_b + n_b * n_b) / n**3
               + 6.0 * d * d * (n_a * n_a * b[8] + n_b * n_b * a[8]) / n**2 + 4.0 * d * (n_a * b[9] - n_b * a[9]) / n)
    s_a, s_b = -d * n_b / n, d * n_a / n
    out[11] = a[11] + s_a * a[3] + b[11] + s_b * b[3]
    out[12] = a[12] + 2.0 * s_a * a[11] + s_a * s_a * a[3] + b[12] + 2.0 * s_b * b[11] + s_b * s_b * b[3]
    return out


def profile_rows(frame: pd.DataFrame, task: str, *, weight: int = 1) -> LabelledProfile:
    """The profile of labelled rows: ``label`` (text as stored), ``prediction``, optional ``probability``.

    Rows missing a label or a prediction are left out, as the performance monitor leaves them
    out; ``weight=-1`` gives the profile that removes these rows from a merge.
    """
    return profiles_by_bucket(frame, np.zeros(len(frame), dtype=np.int64), task, weight=weight).get(
        0, LabelledProfile())


def profiles_by_bucket(frame: pd.DataFrame, buckets: np.ndarray, task: str, *, weight: int = 1
                       ) -> dict[int, LabelledProfile]:
    """:func:`profile_rows` of the rows of each bucket (``buckets`` aligned with ``frame``), in one pass."""
    keep = frame["label"].notna().to_numpy() & frame["prediction"].notna().to_numpy()
    frame, buckets = frame.loc[keep], np.asarray(buckets)[keep]
    if frame.empty:
        return {}
    if task == "regression":
        return {b: LabelledProfile(moments=m * _moment_sign(weight)) for b, m in error_moments(frame, buckets).items()}
    scores = scores_by_bucket(frame, buckets, weight)
    return {b: LabelledProfile(cells=c, scores=scores.get(b)) for b, c in class_cells(frame, buckets, weight).items()}


def class_cells(frame: pd.DataFrame, buckets: np.ndarray, weight: int = 1) -> dict[int, dict[CellKey, np.ndarray]]:
    """Per bucket and (label, prediction, bin) the count and probability sums of classification rows.

    Sums are multiplied by ``weight``.
    """
    p = (pd.to_numeric(frame["probability"], errors="coerce").to_numpy(np.float64, na_value=np.nan)
         if "probability" in frame else np.full(len(frame), np.nan))
    finite = np.isfinite(p)
    bins = np.where(finite, np.clip(np.floor(np.where(finite, p, 0.0) * SCORE_BINS), 0, SCORE_BINS - 1), -1)
    clipped = np.clip(np.where(finite, p, 0.5), EPS, 1.0 - EPS)
    zero = np.zeros(len(frame))
    label_codes, label_names = pd.factorize(frame["label"].astype(str).to_numpy())
    raw_codes, raw_predictions = pd.factorize(frame["prediction"].to_numpy())
    named_codes, prediction_names = pd.factorize(np.array([category_name(v) for v in raw_predictions], dtype=object))
    parts = pd.DataFrame({
        "bucket": buckets, "label": label_codes, "prediction": named_codes[raw_codes], "bin": bins.astype(np.int64),
        "n": np.ones(len(frame)), "p": np.where(finite, p, zero), "p2": np.where(finite, p * p, zero),
        "lnp": np.where(finite, np.log(clipped), zero), "ln1mp": np.where(finite, np.log1p(-clipped), zero),
    })
    summed = parts.groupby(["bucket", "label", "prediction", "bin"], sort=True).sum()
    values = summed.to_numpy(np.float64) * weight
    out: dict[int, dict[CellKey, np.ndarray]] = {}
    for i, (bucket, label, prediction, b) in enumerate(summed.index.tolist()):
        key = (str(label_names[label]), str(prediction_names[prediction]), int(b))
        out.setdefault(int(bucket), {})[key] = values[i]
    return out


def error_moments(frame: pd.DataFrame, buckets: np.ndarray) -> dict[int, np.ndarray]:
    """Per bucket the :data:`MOMENTS` of regression rows whose label and prediction read as finite numbers."""
    y = np.array([_number(v) for v in frame["label"]], dtype=np.float64)
    y_hat = pd.to_numeric(frame["prediction"], errors="coerce").to_numpy(np.float64, na_value=np.nan)
    keep = np.isfinite(y) & np.isfinite(y_hat)
    y, e, buckets = y[keep], y[keep] - y_hat[keep], np.asarray(buckets)[keep]
    abs_e = np.abs(e)
    ape = abs_e / np.maximum(np.abs(y), EPS)
    parts = pd.DataFrame({"bucket": buckets, "n": np.ones(y.size), "e": e, "abs_e": abs_e, "sq_e": e * e,
                          "e4": e**4, "ape": ape, "ape2": ape * ape, "y": y})
    grouped = parts.groupby("bucket", sort=True)
    sums = grouped.sum()
    mean_y = sums["y"] / sums["n"]
    dev = y - mean_y.reindex(buckets).to_numpy()
    dev2, sq_e = dev * dev, e * e
    central = pd.DataFrame({"bucket": buckets, "m2_y": dev2, "m3_y": dev2 * dev, "m4_y": dev2 * dev2,
                            "sum_sq_e_dy": sq_e * dev, "sum_sq_e_dy2": sq_e * dev2}).groupby("bucket", sort=True).sum()
    table = pd.concat([sums.drop(columns=["y"]).assign(mean_y=mean_y), central], axis=1).to_numpy(np.float64)
    return {int(b): table[i] for i, b in enumerate(sums.index.tolist())}


def _moment_sign(weight: int) -> np.ndarray:
    """Multiplier of the moments for ``weight``: everything but the target's mean changes sign."""
    sign = np.full(len(MOMENTS), float(weight))
    sign[7] = 1.0
    return sign


def _number(value: Any) -> float:
    """A stored label as a float (Python's ``float``, which reads ``repr`` back exactly); NaN if unreadable."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
