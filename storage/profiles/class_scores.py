"""The per-class probabilities part of a multiclass label profile, mergeable by addition.

A multiclass model that logs one probability per class (columns ``probability:<class>``, see
:func:`driftscope.modelspec.probability_column`) gets, per bucket, what the one-vs-rest ROC AUC,
log loss and Brier of :mod:`driftscope.monitors.metrics` need. Labels are the stored text (as
:mod:`.labelled`), classes the column names' suffixes; the monitor converts both to the reference
target's type and pairs a label with its class when it reads them, as the rows path does.

* ``ovr``: per (label, class ``k``, score bin of ``p_k``) the rows; bins as the binary profile's
  (``floor(p_k * SCORE_BINS)`` clipped to ``[0, SCORE_BINS - 1]``); a row without a finite ``p_k``
  is left out (the rows path leaves it out of class ``k``'s AUC).
* ``pairs``: per (label, class ``k``) ``[n, sum ln p_k, sum (ln p_k)², sum p_k, sum p_k², sum p_k q]``
  over the *scored* rows, those whose probabilities are all finite (the rows path's log loss and
  Brier leave the others out); ``p_k`` is clipped to ``[EPS, 1 - EPS]`` in the logarithms as
  :func:`driftscope.monitors.metrics.log_loss` clips it, and ``q = sum_k p_k²``.
* ``rows``: per label ``[n, sum q, sum q²]`` over the scored rows.

For a row of label ``y``, ``-ln p_y`` is its log loss and ``q - 2 p_y + 1`` its Brier
(``sum_k (p_k - [y = k])²``; ``p_y = 0`` when ``y`` has no column), so the pair of a label with
its own class gives both metrics' sums and sums of squares exactly. Everything adds; an entry
whose count returns to 0 with sums within :data:`~.labelled.EMPTY_SUMS` of 0 is dropped, and a
profile with weight ``-1`` removes rows.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from driftscope.modelspec import PROBABILITY_PREFIX

SCORE_BINS = 200
EPS = float(np.finfo(np.float64).eps)
EMPTY_SUMS = 1e-9
PAIR_SUMS = 6
"""Per (label, class): scored rows, sum ln p_k, sum (ln p_k)², sum p_k, sum p_k², sum p_k q."""
ROW_SUMS = 3
"""Per label: scored rows, sum q, sum q² (q = sum_k p_k²)."""


@dataclass(frozen=True, eq=False)
class ClassScores:
    """Per-class probability sums of some multiclass rows (see the module docstring)."""

    ovr: dict[tuple[str, str, int], float] = field(default_factory=dict)
    pairs: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    rows: dict[str, np.ndarray] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Column-wise JSON-safe values (kept under ``scores`` in the ``label_profiles.cells`` column)."""
        ovr = sorted(self.ovr)
        pairs = sorted(self.pairs)
        rows = sorted(self.rows)
        return {
            "ovr": {"label": [k[0] for k in ovr], "class": [k[1] for k in ovr], "bin": [k[2] for k in ovr],
                    "n": [float(self.ovr[k]) for k in ovr]},
            "pairs": {"label": [k[0] for k in pairs], "class": [k[1] for k in pairs],
                      "sums": np.array([self.pairs[k] for k in pairs]).reshape(-1).tolist()},
            "rows": {"label": rows, "sums": np.array([self.rows[k] for k in rows]).reshape(-1).tolist()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ClassScores":
        """The inverse of :meth:`to_json`."""
        ovr, pairs, rows = data["ovr"], data["pairs"], data["rows"]
        pair_sums = np.asarray(pairs["sums"], dtype=np.float64).reshape(-1, PAIR_SUMS)
        row_sums = np.asarray(rows["sums"], dtype=np.float64).reshape(-1, ROW_SUMS)
        return cls(
            {(str(a), str(b), int(c)): float(n)
             for a, b, c, n in zip(ovr["label"], ovr["class"], ovr["bin"], ovr["n"], strict=True)},
            {(str(a), str(b)): s for a, b, s in zip(pairs["label"], pairs["class"], pair_sums, strict=True)},
            {str(a): s for a, s in zip(rows["label"], row_sums, strict=True)},
        )


def merge_scores(a: ClassScores, b: ClassScores) -> ClassScores:
    """The per-class sums of the rows of ``a`` and ``b`` (entries whose rows were all removed dropped).

    Examples
    --------
    >>> frame = pd.DataFrame({"label": ["a", "b"], "probability:a": [0.9, 0.2], "probability:b": [0.1, 0.8]})
    >>> one = scores_by_bucket(frame, np.zeros(2, dtype=np.int64))[0]
    >>> gone = scores_by_bucket(frame, np.zeros(2, dtype=np.int64), weight=-1)[0]
    >>> merge_scores(one, gone).to_json()["rows"]
    {'label': [], 'sums': []}
    """
    ovr = dict(a.ovr)
    for key, n in b.ovr.items():
        total = ovr.get(key, 0.0) + n
        if round(total) == 0:
            ovr.pop(key, None)
        else:
            ovr[key] = total
    return ClassScores(ovr, _add(a.pairs, b.pairs), _add(a.rows, b.rows))


def _add(a: Mapping[Any, np.ndarray], b: Mapping[Any, np.ndarray]) -> dict[Any, np.ndarray]:
    out = dict(a)
    for key, sums in b.items():
        total = out[key] + sums if key in out else sums.copy()
        if round(total[0]) == 0 and np.all(np.abs(total[1:]) <= EMPTY_SUMS):
            out.pop(key, None)
        else:
            out[key] = total
    return out


def probability_classes(frame: pd.DataFrame) -> dict[str, str]:
    """Class -> column of the frame's per-class probability columns (``probability:<class>``)."""
    return {str(c)[len(PROBABILITY_PREFIX):]: str(c) for c in frame.columns if str(c).startswith(PROBABILITY_PREFIX)}


def scores_by_bucket(frame: pd.DataFrame, buckets: np.ndarray, weight: int = 1) -> dict[int, ClassScores]:
    """Per bucket the :class:`ClassScores` of rows with a ``label`` and ``probability:<class>`` columns.

    ``buckets`` is aligned with ``frame``; every bucket of ``frame`` gets an entry (possibly empty);
    none without probability columns. Sums are multiplied by ``weight``.
    """
    columns = probability_classes(frame)
    if not columns:
        return {}
    classes = list(columns)
    p = np.column_stack([pd.to_numeric(frame[c], errors="coerce").to_numpy(np.float64, na_value=np.nan)
                         for c in columns.values()])
    label_codes, label_names = pd.factorize(frame["label"].astype(str).to_numpy())
    buckets = np.asarray(buckets, dtype=np.int64)
    n, k = p.shape
    finite = np.isfinite(p)
    bins = np.clip(np.floor(np.where(finite, p, 0.0) * SCORE_BINS), 0, SCORE_BINS - 1).astype(np.int64)
    rep = np.repeat(np.arange(n), k)
    cls = np.tile(np.arange(k), n)
    hit = finite.reshape(-1)
    ovr = pd.DataFrame({"bucket": buckets[rep[hit]], "label": label_codes[rep[hit]], "cls": cls[hit],
                        "bin": bins.reshape(-1)[hit], "n": np.full(int(hit.sum()), float(weight))})
    ovr_sums = ovr.groupby(["bucket", "label", "cls", "bin"], sort=True)["n"].sum()
    scored = finite.all(axis=1)
    ps = p[scored]
    q = (ps * ps).sum(axis=1)
    ln = np.log(np.clip(ps, EPS, 1.0 - EPS))
    srep = np.repeat(np.flatnonzero(scored), k)
    pairs = pd.DataFrame({"bucket": buckets[srep], "label": label_codes[srep], "cls": np.tile(np.arange(k), len(ps)),
                          "n": 1.0, "ln": ln.reshape(-1), "ln2": (ln * ln).reshape(-1), "p": ps.reshape(-1),
                          "p2": (ps * ps).reshape(-1), "pq": (ps * q[:, None]).reshape(-1)})
    pair_sums = pairs.groupby(["bucket", "label", "cls"], sort=True).sum()
    rows = pd.DataFrame({"bucket": buckets[scored], "label": label_codes[scored], "n": 1.0, "q": q, "q2": q * q})
    row_sums = rows.groupby(["bucket", "label"], sort=True).sum()
    out: dict[int, ClassScores] = {int(b): ClassScores() for b in np.unique(buckets)}
    counts = ovr_sums.to_numpy(np.float64)
    for i, (b, lab, c, s) in enumerate(ovr_sums.index.tolist()):
        out[int(b)].ovr[(str(label_names[lab]), classes[c], int(s))] = float(counts[i])
    values = pair_sums.to_numpy(np.float64) * weight
    for i, (b, lab, c) in enumerate(pair_sums.index.tolist()):
        out[int(b)].pairs[(str(label_names[lab]), classes[c])] = values[i]
    values = row_sums.to_numpy(np.float64) * weight
    for i, (b, lab) in enumerate(row_sums.index.tolist()):
        out[int(b)].rows[str(label_names[lab])] = values[i]
    return out
