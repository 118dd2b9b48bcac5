"""Range reads from profiles for the dashboard: volume, missing values, distributions and quantiles.

A page's figures over a long range come from the range's stored profiles, never from its
prediction rows, and a lake-backed version (profiles only, no rows) shows them too. A range reads
one row per column and whole day where the day has a current daily roll-up
(:mod:`driftscope.storage.profiles.rollup`), and the hourly profiles of the partial days at its
edges (and of days not rolled up yet), so its cost grows with days, not hours, and stays exact.

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

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from driftscope.storage.models import ColumnProfileRow
from driftscope.storage.profiles import ColumnProfile, ColumnSpec, rollup
from driftscope.storage.profiles import sketch as kll
from driftscope.storage.profiles.compute import HOUR
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

    Whole days with a current daily roll-up (:mod:`driftscope.storage.profiles.rollup`) are read as
    one row each; the hours of the partial days at the edges and of days not rolled up (yet, or
    since a late write) are read as they are, so the result always holds the same rows as the merge
    of the range's hourly profiles. The merge is vectorised (:func:`~driftscope.storage.profiles.rollup.merge_rows`)
    and equals :func:`driftscope.storage.profiles.merge_all` of the buckets: counts exactly, moments
    up to rounding, new categories summed by name before the ``TOP_NEW`` cut. ``n_buckets`` counts the
    hourly (and lake day) profiles merged, whether read directly or through roll-ups. The roll-up
    lookup and the read of the hours are two statements: on PostgreSQL (read committed) a write
    committed between them shows only in days read from their hours; each day is exact as of one of
    the two statements.
    """
    spec = load_specs(session, model_version_id=model_version_id).get(column)
    if spec is None:
        return None
    days, rolled, rolled_hours = rollup.rolled_days(session, model_version_id=model_version_id, column=column,
                                                    start=start, end=end)
    t = ColumnProfileRow
    hours = [and_(t.bucket_start >= a, t.bucket_start < b) for a, b in rollup.uncovered(start, end, days)]
    rows = session.execute(select(
        t.bucket_start, t.bucket_seconds, *(getattr(t, f) for f in rollup.FIELDS),
    ).where(t.model_version_id == model_version_id, t.column == column, t.bucket_start >= start,
            t.bucket_start < end, or_(t.bucket_seconds != HOUR, *hours))).all()
    inside = [tuple(r[2:]) for r in rows if _utc(r[0]) + timedelta(seconds=r[1]) <= pd.Timestamp(end)]
    return RangeProfile(spec, rollup.merge_rows(inside + rolled, spec.n_cells), len(inside) + rolled_hours)


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
