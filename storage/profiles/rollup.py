"""Daily roll-ups of the hourly profiles, so a long range reads one row per column and whole day.

A roll-up (:class:`~driftscope.storage.models.ProfileRollupRow`) is the merge of one column's hourly
profiles of one UTC day, built off the ingest path (the scheduler's tick, :func:`build_rollups`)
for days that have ended. It records the day's revision (:mod:`driftscope.storage.profiles.days`)
it was built from and is used only while the day is still at that revision: any later write to
the day (a late row, a re-ingest that adds rows, a spec change, a backfill) bumps the revision in
its own transaction, and the day is read from its hourly profiles until the next build. So a range
read from roll-ups always holds the same rows as the merge of its hourly profiles.

Why it stays exact under concurrency: :func:`build_rollups` reads a day's revision ``r`` *before*
the day's hourly rows and records ``r`` as the day's rolled revision; a read uses the day's
roll-ups only while the day's revision still equals its rolled revision. A write committed before
``r`` was read is in the hours merged; one committed after bumps the revision past ``r``, so the
roll-up is never used, whatever order the two transactions commit in. (On SQLite the builder's
transaction also holds the writer lock throughout.)

Merged values follow :func:`driftscope.storage.profiles.merge_all`: counts, missing values,
minimum/maximum and histograms exactly; mean and M2 up to floating-point rounding; new categories
exactly while a range has at most ``TOP_NEW`` of them (beyond that, which names are kept depends
on the grouping, their total does not); the KLL sketch of a merge of merges has the same error
bound as the merge of the hourly sketches (KLL merges are randomised: quantiles agree within it).
"""

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, delete, select, update
from sqlalchemy.orm import Session

from driftscope.storage.archive import day_start
from driftscope.storage.bulk import insert_frame
from driftscope.storage.models import ColumnProfileRow, ProfileDay, ProfileRollupRow
from driftscope.storage.profiles import sketch as kll
from driftscope.storage.profiles.compute import HOUR
from driftscope.storage.profiles.profile import TOP_NEW, ColumnProfile, empty_profile
from driftscope.storage.profiles.spec import ColumnSpec
from driftscope.storage.profiles.store import load_specs, profile_frame

ONE_DAY = timedelta(days=1)
FIELDS = ("n_rows", "n_missing", "minimum", "maximum", "mean", "m2", "counts", "new_categories", "other", "sketch")
"""The stored profile fields, in the order :func:`merge_rows` takes them."""

Interval = tuple[datetime, datetime]


def build_rollups(session: Session, *, before: datetime, limit: int = 16) -> int:
    """Roll up at most ``limit`` (version, day) pairs that ended by ``before`` and lack a current roll-up.

    Oldest first within a version. Returns how many days were rolled up: call again (in a new
    transaction, to keep the writer lock short on SQLite) while it returns ``limit``.
    """
    due = session.execute(
        select(ProfileDay.model_version_id, ProfileDay.day, ProfileDay.revision)
        .where(ProfileDay.rolled_revision != ProfileDay.revision, ProfileDay.day <= before - ONE_DAY)
        .order_by(ProfileDay.model_version_id, ProfileDay.day).limit(limit)
    ).all()
    specs: dict[int, dict[str, ColumnSpec]] = {}
    for version_id, day, revision in due:
        if version_id not in specs:
            specs[version_id] = load_specs(session, model_version_id=version_id)
        _roll_day(session, version_id, day, revision, specs[version_id])
    return len(due)


def _roll_day(session: Session, version_id: int, day: datetime, revision: int, specs: dict[str, ColumnSpec]) -> None:
    """Replace the day's roll-ups by the merge of its hourly profiles, built at ``revision`` (read before them)."""
    t = ColumnProfileRow
    rows = session.execute(select(t.column, *(getattr(t, f) for f in FIELDS)).where(
        t.model_version_id == version_id, t.bucket_seconds == HOUR, t.bucket_start >= day,
        t.bucket_start < day + ONE_DAY)).all()
    by_column: dict[str, list[Any]] = {}
    for row in rows:
        if row[0] in specs:
            by_column.setdefault(row[0], []).append(tuple(row[1:]))
    merged = {column: merge_rows(parts, specs[column].n_cells) for column, parts in by_column.items()}
    session.execute(delete(ProfileRollupRow).where(ProfileRollupRow.model_version_id == version_id,
                                                   ProfileRollupRow.day == day))
    micros = (pd.Timestamp(day) - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(microseconds=1)
    frame = profile_frame(version_id, HOUR, {(micros, column): p for column, p in merged.items()})
    frame = frame.drop(columns="bucket_seconds").rename(columns={"bucket_start": "day"}).assign(
        revision=np.int64(revision), n_hours=np.array([len(by_column[c]) for c in merged], dtype=np.int64))
    insert_frame(session, ProfileRollupRow.__tablename__, frame)
    session.execute(update(ProfileDay).where(ProfileDay.model_version_id == version_id, ProfileDay.day == day)
                    .values(rolled_revision=revision))


def rolled_days(session: Session, *, model_version_id: int, column: str, start: datetime, end: datetime
                ) -> tuple[list[datetime], list[tuple[Any, ...]], int]:
    """The whole days of ``[start, end)`` with a current roll-up, the column's roll-up rows and their hours.

    Returns ``(days, rows, n_hours)``: ``rows`` hold :data:`FIELDS` (a rolled day on which the
    column had no hourly profile has no row), ``n_hours`` the hourly profiles they merge. Reads one
    row per day; the hours of every other day are the caller's to read (:func:`uncovered`).
    """
    first, last = _ceil_day(start), day_start(end)
    if first >= last:
        return [], [], 0
    d, r = ProfileDay, ProfileRollupRow
    found = session.execute(
        select(d.day, r.n_hours, *(getattr(r, f) for f in FIELDS))
        .outerjoin(r, and_(r.model_version_id == d.model_version_id, r.day == d.day, r.column == column,
                           r.revision == d.revision))
        .where(d.model_version_id == model_version_id, d.day >= first, d.day < last,
               d.rolled_revision == d.revision)
    ).all()
    rows = [tuple(row[2:]) for row in found if row[1] is not None]
    return [row[0] for row in found], rows, int(sum(row[1] for row in found if row[1] is not None))


def uncovered(start: datetime, end: datetime, days: Sequence[datetime]) -> list[Interval]:
    """``[start, end)`` less the whole days starting at ``days``, as sorted half-open intervals.

    Examples
    --------
    >>> from datetime import UTC
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> [(a.day, a.hour, b.day, b.hour) for a, b in uncovered(t.replace(hour=5), t.replace(day=4, hour=7),
    ...                                                        [t.replace(day=2)])]
    [(1, 5, 2, 0), (3, 0, 4, 7)]
    """
    out: list[Interval] = []
    cursor = start
    for day in sorted(days):
        if day > cursor:
            out.append((cursor, day))
        cursor = max(cursor, day + ONE_DAY)
    if cursor < end:
        out.append((cursor, end))
    return out


def merge_rows(rows: Sequence[Sequence[Any]], n_cells: int) -> ColumnProfile:
    """The merge of stored profiles given as :data:`FIELDS` tuples, vectorised over all of them at once.

    Chan et al.'s pairwise moments summed over all parts: ``M2 = Σ M2_i + Σ n_i (mean_i - mean)²``;
    equal to :func:`driftscope.storage.profiles.merge_all` of the same profiles (new categories
    summed by name before the ``TOP_NEW`` cut, one sketch merge).
    """
    if not rows:
        return empty_profile(n_cells)
    n_rows = np.array([r[0] for r in rows], dtype=np.int64)
    n_missing = np.array([r[1] for r in rows], dtype=np.int64)
    stats = np.array([[np.nan if v is None else v for v in r[2:6]] for r in rows], dtype=np.float64)
    n_values = (n_rows - n_missing).astype(np.float64)
    has = n_values > 0
    total = float(n_values.sum())
    mean = float((n_values[has] * stats[has, 2]).sum() / total) if total else float("nan")
    m2 = float(stats[has, 3].sum() + (n_values[has] * (stats[has, 2] - mean) ** 2).sum()) if total else float("nan")
    counts = np.zeros(n_cells, dtype=np.int64)
    for r in rows:
        counts += np.asarray(r[6], dtype=np.int64)
    new: Counter[str] = Counter()
    for r in rows:
        new.update({str(k): int(v) for k, v in r[7].items()})
    ranked = sorted(new.items(), key=lambda item: (-item[1], item[0]))
    return ColumnProfile(
        n_rows=int(n_rows.sum()), n_missing=int(n_missing.sum()), counts=counts,
        minimum=_extreme(np.nanmin, stats[:, 0]), maximum=_extreme(np.nanmax, stats[:, 1]), mean=mean, m2=m2,
        new=dict(ranked[:TOP_NEW]), other=int(sum(r[8] for r in rows)) + sum(n for _, n in ranked[TOP_NEW:]),
        sketch=kll.merge_blobs([bytes(r[9]) for r in rows]),
    )


def _extreme(reduce: Any, values: np.ndarray) -> float:
    return float(reduce(values)) if not np.isnan(values).all() else float("nan")


def _ceil_day(ts: datetime) -> datetime:
    floor = day_start(ts)
    return floor if floor == ts else floor + ONE_DAY
