"""Read and write profiles and their specs. Flush, never commit: the caller owns the transaction.

Every write bumps the revision of the days it changes (:mod:`driftscope.storage.profiles.days`) in
the same transaction, which retires their daily roll-ups and changes the dashboard's stamp.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import Row, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from driftscope.storage.bulk import insert_frame
from driftscope.storage.models import ColumnProfileRow, ProfileSpec
from driftscope.storage.profiles.compute import HOUR, profile_table
from driftscope.storage.profiles.days import mark_days, mark_version
from driftscope.storage.profiles.profile import ColumnProfile, merge
from driftscope.storage.profiles.spec import ColumnSpec

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BucketKey = tuple[int, str]
"""A bucket start (µs since the Unix epoch, UTC) and a column."""


def save_specs(session: Session, *, model_version_id: int, specs: Mapping[str, ColumnSpec]) -> bool:
    """Store the version's specs; when they differ from the stored ones, replace them and drop its profiles.

    Returns whether anything changed (profiles over other bins cannot be merged with new ones, so the
    caller rebuilds them: :func:`driftscope.storage.profiles.backfill.backfill_version`).
    """
    if load_specs(session, model_version_id=model_version_id) == dict(specs):
        return False
    session.execute(delete(ProfileSpec).where(ProfileSpec.model_version_id == model_version_id))
    session.execute(delete(ColumnProfileRow).where(ColumnProfileRow.model_version_id == model_version_id))
    mark_version(session, model_version_id=model_version_id)
    session.add_all(ProfileSpec(model_version_id=model_version_id, column=c, spec=s.to_json())
                    for c, s in specs.items())
    session.flush()
    return True


def load_specs(session: Session, *, model_version_id: int) -> dict[str, ColumnSpec]:
    """The version's specs by column (empty when it has none)."""
    rows = session.execute(select(ProfileSpec.column, ProfileSpec.spec)
                           .where(ProfileSpec.model_version_id == model_version_id)).all()
    return {column: ColumnSpec.from_json(column, spec) for column, spec in rows}


def add_stored_rows(session: Session, *, model_version_id: int, tables: Sequence[pa.Table],
                    computed: Sequence[Mapping[BucketKey, ColumnProfile] | None] = (),
                    computed_specs: Mapping[str, ColumnSpec] | None = None) -> None:
    """Add newly stored rows (canonical Arrow tables) to the version's hourly profiles.

    Called by the prediction writer in the transaction that stores the rows, for the rows it
    stored (duplicates excluded), so re-ingesting a batch leaves the profiles unchanged. A version
    without specs (no reference yet) is profiled when its reference is applied.

    Parameters
    ----------
    computed : sequence of mappings or None, optional
        Aligned with ``tables``: each table's hourly profiles (:func:`profile_table`) computed ahead
        of the transaction against ``computed_specs``, or None. They are used only when those specs
        are the version's stored ones; otherwise the table is profiled here.
    """
    specs = load_specs(session, model_version_id=model_version_id) if tables else {}
    if not specs:
        return
    ahead = list(computed) if computed_specs is not None and dict(computed_specs) == specs else []
    profiles: dict[BucketKey, ColumnProfile] = {}
    for i, table in enumerate(tables):
        part = ahead[i] if i < len(ahead) else None
        for key, profile in (part if part is not None else profile_table(table, specs)).items():
            profiles[key] = merge(profiles[key], profile) if key in profiles else profile
    add_profiles(session, model_version_id=model_version_id, profiles=profiles)


def add_profiles(session: Session, *, model_version_id: int, profiles: Mapping[BucketKey, ColumnProfile],
                 bucket_seconds: int = HOUR) -> None:
    """Merge ``profiles`` into the stored ones of the same buckets (new rows where none are stored)."""
    if not profiles:
        return
    mark_days(session, model_version_id=model_version_id, starts=[start for start, _ in profiles])
    stored = _stored_rows(session, model_version_id, bucket_seconds, list(profiles))
    if stored:
        session.execute(_UPDATE_MERGED, [
            _merged_values(model_version_id, bucket_seconds, key, merge(to_profile(row), profiles[key]))
            for key, row in stored.items()])
    insert_frame(session, ColumnProfileRow.__tablename__, profile_frame(
        model_version_id, bucket_seconds, {key: p for key, p in profiles.items() if key not in stored}))


def replace_profiles(session: Session, *, model_version_id: int, profiles: Mapping[BucketKey, ColumnProfile],
                     bucket_seconds: int, starts: Sequence[int] = ()) -> None:
    """Store ``profiles`` in place of whatever the same buckets held (a recomputed partition).

    The buckets starting at ``starts`` (µs since the epoch, UTC) are cleared too, even where
    ``profiles`` has nothing for them: a partition rewritten empty, or deleted, leaves no profile.
    Every cleared or written day is marked changed (:func:`~driftscope.storage.profiles.days.mark_days`).
    """
    starts = sorted({start for start, _ in profiles} | set(starts))
    mark_days(session, model_version_id=model_version_id, starts=starts)
    if starts:
        session.execute(delete(ColumnProfileRow).where(
            ColumnProfileRow.model_version_id == model_version_id,
            ColumnProfileRow.bucket_seconds == bucket_seconds,
            ColumnProfileRow.bucket_start.in_([_utc(s) for s in starts])))
    insert_frame(session, ColumnProfileRow.__tablename__, profile_frame(model_version_id, bucket_seconds, profiles))


def window_profiles(session: Session, *, model_version_id: int, start: datetime, end: datetime
                    ) -> dict[str, list[ColumnProfile]]:
    """Profiles of the buckets lying wholly in ``[start, end)``, by column."""
    rows = session.execute(select(ColumnProfileRow).where(
        ColumnProfileRow.model_version_id == model_version_id,
        ColumnProfileRow.bucket_start >= start, ColumnProfileRow.bucket_start < end,
    ).order_by(ColumnProfileRow.bucket_start)).scalars()
    out: dict[str, list[ColumnProfile]] = {}
    for row in rows:
        if row.bucket_start + timedelta(seconds=row.bucket_seconds) <= end:
            out.setdefault(row.column, []).append(to_profile(row))
    return out


def to_profile(row: ColumnProfileRow | Row[Any]) -> ColumnProfile:
    """The profile a stored row holds (an ORM object or a row of the ``profiles`` table)."""
    return ColumnProfile(
        n_rows=row.n_rows, n_missing=row.n_missing, counts=np.asarray(row.counts, dtype=np.int64),
        minimum=_nan(row.minimum), maximum=_nan(row.maximum), mean=_nan(row.mean), m2=_nan(row.m2),
        new={str(k): int(v) for k, v in row.new_categories.items()}, other=row.other, sketch=bytes(row.sketch),
    )


def _stored_rows(session: Session, model_version_id: int, bucket_seconds: int, keys: list[BucketKey]
                 ) -> dict[BucketKey, Row[Any]]:
    """The stored rows of the ``keys``' buckets, as table rows (no ORM objects: they are updated in bulk)."""
    starts = sorted({_utc(s) for s, _ in keys})
    wanted = set(keys)
    rows = session.execute(select(_TABLE).where(
        _TABLE.c.model_version_id == model_version_id, _TABLE.c.bucket_seconds == bucket_seconds,
        _TABLE.c.bucket_start.in_(starts), _TABLE.c.column.in_(sorted({c for _, c in keys})),
    ))
    found = {(_micros(row.bucket_start), row.column): row for row in rows}
    return {key: row for key, row in found.items() if key in wanted}


_TABLE = ColumnProfileRow.__table__
_KEY = ("model_version_id", "column", "bucket_start", "bucket_seconds")
_VALUES = ("n_rows", "n_missing", "other", "sketch", "minimum", "maximum", "mean", "m2", "counts", "new_categories")
_UPDATE_MERGED = (update(_TABLE).where(*(_TABLE.c[name] == bindparam(f"k_{name}") for name in _KEY))
                  .values({**{name: bindparam(f"v_{name}") for name in _VALUES}, "updated_at": func.now()}))
"""One executemany for every merged bucket of a batch (the ORM's unit of work cost about 1 ms a row)."""


def _merged_values(model_version_id: int, bucket_seconds: int, key: BucketKey, p: ColumnProfile
                   ) -> dict[str, Any]:
    """The bound values of :data:`_UPDATE_MERGED` for bucket ``key`` now holding ``p``."""
    return {"k_model_version_id": model_version_id, "k_column": key[1], "k_bucket_start": _utc(key[0]),
            "k_bucket_seconds": bucket_seconds, "v_n_rows": p.n_rows, "v_n_missing": p.n_missing,
            "v_other": p.other, "v_sketch": p.sketch, "v_minimum": _none(p.minimum), "v_maximum": _none(p.maximum),
            "v_mean": _none(p.mean), "v_m2": _none(p.m2), "v_counts": p.counts.tolist(),
            "v_new_categories": dict(p.new)}


def profile_frame(model_version_id: int, bucket_seconds: int, profiles: Mapping[BucketKey, ColumnProfile]
                  ) -> pd.DataFrame:
    """``profiles`` as rows of the ``profiles`` table (JSON columns as JSON text, NaN for NULL floats)."""
    keys, values = list(profiles), list(profiles.values())
    return pd.DataFrame({
        "model_version_id": np.full(len(keys), model_version_id, dtype=np.int64),
        "column": pd.Series([c for _, c in keys], dtype=object),
        "bucket_start": pd.to_datetime(np.array([s for s, _ in keys], dtype=np.int64), unit="us", utc=True),
        "bucket_seconds": np.full(len(keys), bucket_seconds, dtype=np.int64),
        **{name: np.array([getattr(p, name) for p in values], dtype=np.int64) for name in ("n_rows", "n_missing",
                                                                                            "other")},
        **{name: np.array([getattr(p, name) for p in values], dtype=np.float64) for name in ("minimum", "maximum",
                                                                                              "mean", "m2")},
        "counts": pd.Series([json.dumps(p.counts.tolist()) for p in values], dtype=object),
        "new_categories": pd.Series([json.dumps(p.new) for p in values], dtype=object),
        "sketch": pd.Series([p.sketch for p in values], dtype=object),
    })


def _utc(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(micros))


def _micros(ts: datetime) -> int:
    return (ts - _EPOCH) // timedelta(microseconds=1)


def _none(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)
