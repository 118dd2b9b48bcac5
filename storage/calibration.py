"""Calibrated null distributions of a model version, one row per (column, method, size band).

Draws are stored as sorted float64 (little-endian bytes). A null is computed once per reference
and size band: the monitor looks it up before drawing and stores what it drew; storing one that
is already there does nothing (``ON CONFLICT DO NOTHING`` on the natural key).
"""

from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from driftscope.storage.db import is_postgres
from driftscope.storage.models import NullDistribution

_DTYPE = np.dtype("<f8")


@dataclass(frozen=True, eq=False)
class StoredNull:
    """Null draws of one column, method and size band, with the sizes they were drawn at."""

    feature: str
    method: str
    size_band: int
    n_window: int
    n_reference: int
    draws: np.ndarray


def get_null(
    session: Session, *, model_version_id: int, feature: str, method: str, size_band: int, n_draws: int, seed: int,
) -> StoredNull | None:
    """The stored null of that key, or None."""
    row = session.execute(select(NullDistribution).where(
        NullDistribution.model_version_id == model_version_id, NullDistribution.feature == feature,
        NullDistribution.method == method, NullDistribution.size_band == size_band,
        NullDistribution.n_draws == n_draws, NullDistribution.seed == seed,
    )).scalar_one_or_none()
    if row is None:
        return None
    return StoredNull(row.feature, row.method, row.size_band, row.n_window, row.n_reference,
                      np.frombuffer(row.draws, dtype=_DTYPE).astype(np.float64))


def put_null(session: Session, *, model_version_id: int, seed: int, null: StoredNull) -> None:
    """Store a null (kept as it is when one with the same key exists); flushes, never commits."""
    draws = np.ascontiguousarray(np.sort(null.draws), dtype=_DTYPE)
    dialect_insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = dialect_insert(NullDistribution).values(
        model_version_id=model_version_id, feature=null.feature, method=null.method, size_band=null.size_band,
        n_window=null.n_window, n_reference=null.n_reference, n_draws=int(draws.size), seed=seed,
        draws=draws.tobytes(),
    ).on_conflict_do_nothing()
    session.execute(stmt)
    session.flush()


def delete_nulls(session: Session, *, model_version_id: int) -> int:
    """Forget a version's nulls (when its reference is replaced); returns how many rows went."""
    result = session.execute(delete(NullDistribution).where(NullDistribution.model_version_id == model_version_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
