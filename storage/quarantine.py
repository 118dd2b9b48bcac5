"""Quarantined rows: rows a collector could not store, with the reason and where they came from.

``payload`` is the raw row as JSON text (the raw line for a JSON Lines line that did not parse);
``location`` names the file and line, the Parquet row group and row, the SQL table and key, or the
HTTP page and item. Rows leave quarantine only through a replay that stores them.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from driftscope.storage.bulk import insert_frame
from driftscope.storage.db import rowcount
from driftscope.storage.models import QuarantinedRow

COLUMNS = ("id", "source", "model_id", "records", "location", "reason", "payload", "created_at")
_DELETE_SLICE = 5_000


def add_quarantined(session: Session, *, source: str, model_id: int, records: str, rows: pd.DataFrame) -> int:
    """Store rows (columns ``location``, ``reason``, ``payload``) in one bulk insert; return how many.

    NUL characters (which PostgreSQL text cannot hold) are written as the escape ``\\x00``, and
    unpaired surrogates (which no store can encode) as ``\\ud800``.
    """
    if rows.empty:
        return 0
    insert_frame(session, "quarantine", pd.DataFrame({
        "source": source,
        "model_id": model_id,
        "records": records,
        **{c: _storable(rows[c].astype(str).str.replace("\x00", "\\x00", regex=False).to_numpy(dtype=object))
           for c in ("location", "reason", "payload")},
    }))
    return len(rows)


def _storable(values: np.ndarray) -> np.ndarray:
    """``values`` with unpaired surrogates escaped; one check of the whole column, per value only if one is there."""
    try:
        "".join(values).encode("utf-8")
    except UnicodeEncodeError:
        return np.array([v.encode("utf-8", "backslashreplace").decode("utf-8") for v in values], dtype=object)
    return values


def list_quarantined(
    session: Session, *, source: str | None = None, after_id: int = 0, limit: int = 100
) -> pd.DataFrame:
    """Quarantined rows with ``id > after_id``, oldest first (columns :data:`COLUMNS`)."""
    query = select(*(getattr(QuarantinedRow, c) for c in COLUMNS)).where(QuarantinedRow.id > after_id)
    if source is not None:
        query = query.where(QuarantinedRow.source == source)
    rows = session.execute(query.order_by(QuarantinedRow.id).limit(limit)).all()
    return pd.DataFrame(rows, columns=list(COLUMNS))


def quarantine_counts(session: Session) -> dict[str, int]:
    """Number of quarantined rows per source."""
    rows = session.execute(
        select(QuarantinedRow.source, func.count()).group_by(QuarantinedRow.source).order_by(QuarantinedRow.source)
    ).all()
    return {source: int(n) for source, n in rows}


def remove_quarantined(session: Session, *, ids: Sequence[int]) -> int:
    """Delete quarantined rows by id (after a replay stored them); return how many went."""
    removed = 0
    ids = [int(i) for i in ids]
    for start in range(0, len(ids), _DELETE_SLICE):
        removed += rowcount(session.execute(
            delete(QuarantinedRow).where(QuarantinedRow.id.in_(ids[start : start + _DELETE_SLICE]))
        ))
    return removed


def update_reasons(session: Session, *, ids: Sequence[int], reasons: Sequence[str]) -> None:
    """Replace the reasons of rows that still fail (a replay under a changed schema may fail differently)."""
    if len(ids) == 0:
        return
    session.execute(
        update(QuarantinedRow),
        [{"id": int(i), "reason": str(r)} for i, r in zip(ids, reasons, strict=True)],
    )
