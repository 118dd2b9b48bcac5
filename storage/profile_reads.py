"""Range reads from profiles for the dashboard: volume, missing values, distributions and quantiles.

A page's figures over a long range come from the range's stored profiles (one row per column and
hour, or per day for lake sources), never from its prediction rows, so they cost the same at any
history length, and a lake-backed version (profiles only, no rows) shows them too.

Exact from profiles: row and missing counts, minimum and maximum, histogram counts on the
version's fixed bins (:mod:`driftscope.storage.profiles.spec`), reference-category counts and the
total of new categories (their names are exact while a range has at most
:data:`~driftscope.storage.profiles.profile.TOP_NEW` of them). Mean and standard deviation are
exact up to floating-point rounding. Quantiles come from the merged KLL sketch and carry its rank
error (:func:`driftscope.storage.profiles.sketch.cdf_error`; 0 while the sketch holds every value).

Conventions: ranges are half-open ``[start, end)`` in timezone-aware UTC and hold the buckets that
lie *wholly* inside them (a lake day bucket counts only in ranges covering the whole day), as the
profile path of the monitors reads them (:func:`driftscope.storage.profiles.store.window_profiles`).
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from driftscope.storage.models import ColumnProfileRow
from driftscope.storage.profiles import ColumnProfile, ColumnSpec, empty_profile
from driftscope.storage.profiles import sketch as kll
from driftscope.storage.profiles.profile import TOP_NEW
from driftscope.storage.profiles.store import load_specs
from driftscope.storage.result_series import volume_series
from driftscope.storage.version_summary import overview

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
VOLUME_COLUMNS = ["version_id", "bucket", "n_rows", "n_new_categories"]
DISTRIBUTION_COLUMNS = ["bin", "left", "right", "count", "share"]
OTHER = "(new categories)"


@dataclass(frozen=True, eq=False)
class RangeProfile:
    """One column's profiles over a range, merged.

    Attributes
    ----------
    spec : ColumnSpec
        The column's bins (numeric) or reference categories.
    profile : ColumnProfile
        The merge of the range's bucket profiles.
    n_buckets : int
        Bucket profiles merged (hours, or days for lake sources).
    """

    spec: ColumnSpec
    profile: ColumnProfile
    n_buckets: int

    @property
    def missing_share(self) -> float:
        """Missing values over rows (NaN without rows)."""
        p = self.profile
        return p.n_missing / p.n_rows if p.n_rows else float("nan")


def profile_volume(session: Session, *, model_version_ids: list[int], start: datetime, end: datetime,
                   freq: str = "D") -> pd.DataFrame:
    """Rows per version and ``freq`` bucket (``"h"`` or ``"D"``, UTC) from the profiles, as :func:`volume_series`.

    Every column of a bucket counts the same rows; the largest count is taken (a column missing
    from a source's files has no profile). A day bucket is not split into hours: with ``freq="h"``
    its rows show at the day's first hour. ``n_new_categories`` (rows with a new category) is not
    in a profile and is reported as 0.
    """
    per_bucket = (
        select(ColumnProfileRow.model_version_id, ColumnProfileRow.bucket_start, ColumnProfileRow.bucket_seconds,
               func.max(ColumnProfileRow.n_rows))
        .where(ColumnProfileRow.model_version_id.in_(model_version_ids),
               ColumnProfileRow.bucket_start >= start, ColumnProfileRow.bucket_start < end)
        .group_by(ColumnProfileRow.model_version_id, ColumnProfileRow.bucket_start, ColumnProfileRow.bucket_seconds)
    )
    rows = [(v, s, n) for v, s, seconds, n in session.execute(per_bucket).all()
            if _utc(s) + timedelta(seconds=seconds) <= pd.Timestamp(end)]
    frame = pd.DataFrame(rows, columns=["version_id", "bucket", "n_rows"])
    frame["bucket"] = pd.to_datetime(frame["bucket"], utc=True).dt.floor(freq)
    totals = frame.groupby(["version_id", "bucket"], as_index=False)["n_rows"].sum()
    return totals.assign(n_new_categories=0).astype({"n_rows": "int64", "n_new_categories": "int64"})[VOLUME_COLUMNS]


def volume(session: Session, *, model_version_ids: list[int], start: datetime, end: datetime,
           freq: str = "D") -> pd.DataFrame:
    """Predictions per version and bucket: the hourly volumes, and the profiles of versions without any in the range.

    A lake-backed version stores profiles but no rows, hence no hourly volume; its counts come
    from :func:`profile_volume`. Versions with stored rows keep reading the hourly volumes (exact,
    and they also count rows with new categories); their profiles hold the same rows, so reading
    them for a version with no volume in the range finds none either. The profiles are read only
    when some version has no volume in the range (no extra query otherwise).
    """
    stored = volume_series(session, model_version_ids=model_version_ids, start=start, end=end, freq=freq)
    lacking = sorted(set(model_version_ids) - {int(v) for v in stored["version_id"]})
    if not lacking:
        return stored
    profiled = profile_volume(session, model_version_ids=lacking, start=start, end=end, freq=freq)
    parts = [part for part in (stored, profiled) if not part.empty]
    return pd.concat(parts, ignore_index=True) if parts else stored


def overview_with_profiles(session: Session, *, start: datetime, end: datetime) -> pd.DataFrame:
    """:func:`driftscope.storage.version_summary.overview`, with profile counts for profile-only versions.

    A version without hourly volumes (lake-backed) gets ``predictions`` and ``last_data_at`` (start of
    its newest bucket) from its profiles; its label coverage stays NaN, since labels are joined to
    stored prediction rows.
    """
    frame = overview(session, start=start, end=end)
    lacking = sorted(int(v) for v in frame.loc[frame["last_data_at"].isna(), "version_id"])  # no hourly volume
    if not lacking:
        return frame
    counts = profile_volume(session, model_version_ids=lacking, start=start, end=end).groupby("version_id")["n_rows"]
    newest = dict(session.execute(
        select(ColumnProfileRow.model_version_id, func.max(ColumnProfileRow.bucket_start))
        .where(ColumnProfileRow.model_version_id.in_(lacking)).group_by(ColumnProfileRow.model_version_id)).all())
    rows = frame["version_id"].isin(lacking)
    frame.loc[rows, "predictions"] = frame.loc[rows, "version_id"].map(counts.sum()).fillna(0).astype("int64")
    frame.loc[rows, "last_data_at"] = pd.to_datetime(frame.loc[rows, "version_id"].map(newest), utc=True)
    return frame


def range_profile(session: Session, *, model_version_id: int, column: str, start: datetime, end: datetime
                  ) -> RangeProfile | None:
    """The merged profile of one column over ``[start, end)``; None when the column has no spec.

    The merge is vectorised over the range's buckets (one sum per field, one sketch merge) and
    equals :func:`driftscope.storage.profiles.merge_all` of them: counts exactly, moments up to
    rounding, new categories summed by name before the ``TOP_NEW`` cut.
    """
    spec = load_specs(session, model_version_id=model_version_id).get(column)
    if spec is None:
        return None
    t = ColumnProfileRow
    rows = session.execute(select(
        t.bucket_start, t.bucket_seconds, t.n_rows, t.n_missing, t.minimum, t.maximum, t.mean, t.m2, t.counts,
        t.new_categories, t.other, t.sketch,
    ).where(t.model_version_id == model_version_id, t.column == column, t.bucket_start >= start,
            t.bucket_start < end)).all()
    inside = [r for r in rows if _utc(r[0]) + timedelta(seconds=r[1]) <= pd.Timestamp(end)]
    return RangeProfile(spec, _merged(inside, spec.n_cells), len(inside))


def _merged(rows: list[Any], n_cells: int) -> ColumnProfile:
    """Chan et al.'s pairwise moments summed over all parts at once: ``M2 = Σ M2_i + Σ n_i (mean_i - mean)²``."""
    if not rows:
        return empty_profile(n_cells)
    n_rows = np.array([r[2] for r in rows], dtype=np.int64)
    n_missing = np.array([r[3] for r in rows], dtype=np.int64)
    stats = np.array([[np.nan if v is None else v for v in r[4:8]] for r in rows], dtype=np.float64)
    n_values = (n_rows - n_missing).astype(np.float64)
    has = n_values > 0
    total = float(n_values.sum())
    mean = float((n_values[has] * stats[has, 2]).sum() / total) if total else float("nan")
    m2 = float(stats[has, 3].sum() + (n_values[has] * (stats[has, 2] - mean) ** 2).sum()) if total else float("nan")
    counts = np.zeros(n_cells, dtype=np.int64)
    for r in rows:
        counts += np.asarray(r[8], dtype=np.int64)
    new: Counter[str] = Counter()
    for r in rows:
        new.update({str(k): int(v) for k, v in r[9].items()})
    ranked = sorted(new.items(), key=lambda item: (-item[1], item[0]))
    return ColumnProfile(
        n_rows=int(n_rows.sum()), n_missing=int(n_missing.sum()), counts=counts,
        minimum=_extreme(np.nanmin, stats[:, 0]), maximum=_extreme(np.nanmax, stats[:, 1]), mean=mean, m2=m2,
        new=dict(ranked[:TOP_NEW]), other=int(sum(r[10] for r in rows)) + sum(n for _, n in ranked[TOP_NEW:]),
        sketch=kll.merge_blobs([bytes(r[11]) for r in rows]),
    )


def distribution(rp: RangeProfile) -> pd.DataFrame:
    """The range's counts and shares per cell: histogram bins (numeric) or categories.

    Numeric: the underflow and overflow cells are bounded by the range's minimum and maximum, and
    empty outer cells are left out. Categorical: reference categories, then new ones as
    :data:`OTHER`. ``share`` is over non-missing values.

    Examples
    --------
    >>> from driftscope.storage.profiles.compute import numeric_profile
    >>> spec = ColumnSpec("x", "numeric", edges=(0.0, 1.0, 2.0))
    >>> rp = RangeProfile(spec, numeric_profile(np.array([-1.0, 0.5, 1.5, 1.7, np.nan]), np.array(spec.edges)), 1)
    >>> distribution(rp)[["bin", "count", "share"]].to_records(index=False).tolist()
    [('[-1, 0)', 1, 0.25), ('[0, 1)', 1, 0.25), ('[1, 2]', 2, 0.5)]
    """
    p, spec = rp.profile, rp.spec
    counts = p.counts.astype(np.int64)
    if spec.kind == "numeric":
        left, right, bins = _cells(np.asarray(spec.edges, dtype=np.float64), p.minimum, p.maximum)
        frame = pd.DataFrame({"bin": bins, "left": left, "right": right, "count": counts})
        outer = frame.index.isin([0, len(frame) - 1]) & (frame["count"] == 0)
        frame = frame[~outer]
    else:
        new = int(sum(p.new.values()) + p.other)
        names = [*spec.categories, *([OTHER] if new else [])]
        values = [*counts.tolist(), *([new] if new else [])]
        frame = pd.DataFrame({"bin": names, "left": np.nan, "right": np.nan, "count": values})
    total = int(frame["count"].sum())
    frame["share"] = frame["count"] / total if total else 0.0
    return frame.reset_index(drop=True)[DISTRIBUTION_COLUMNS]


def quantiles(rp: RangeProfile, probs: tuple[float, ...] = QUANTILES) -> pd.DataFrame:
    """Quantiles of a numeric column from its merged KLL sketch: columns ``q``, ``value``, ``rank_error``.

    ``rank_error`` is :func:`driftscope.storage.profiles.sketch.cdf_error` (99 % confidence; about
    1.65 % at ``K = 200``): the value returned for ``q`` has a true rank within ``q ± rank_error``.
    It is the sketch's CDF bound, a little wider than its single-rank bound (about 1.3 %), so it
    errs on the safe side; 0 while the sketch still holds every value.
    Empty for categorical columns and for ranges without values.
    """
    if rp.spec.kind != "numeric" or not rp.profile.sketch:
        return pd.DataFrame(columns=["q", "value", "rank_error"])
    sketch = kll.load(rp.profile.sketch)
    values = [float(sketch.get_quantile(q)) for q in probs]
    return pd.DataFrame({"q": list(probs), "value": values, "rank_error": kll.cdf_error(sketch)})


def _extreme(reduce: Any, values: np.ndarray) -> float:
    return float(reduce(values)) if not np.isnan(values).all() else float("nan")


def _cells(edges: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Bounds and labels of the cells (underflow, inner bins, overflow), outer ones bounded by ``low``/``high``."""
    left, right = np.concatenate([[low], edges]), np.concatenate([edges, [high]])
    n = edges.size
    opens = ["(" if i == n and n else "[" for i in range(n + 1)]
    closes = ["]" if i == n or (i == n - 1 and n >= 2) else ")" for i in range(n + 1)]
    labels = [f"{o}{_num(a)}, {_num(b)}{c}" for o, a, b, c in zip(opens, left, right, closes, strict=True)]
    return left, right, labels


def _utc(ts: datetime) -> pd.Timestamp:
    stamp = pd.Timestamp(ts)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp


def _num(x: float) -> str:
    return f"{x:.4g}"
