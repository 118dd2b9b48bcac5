"""The archived predictions a late label joins, for the label profiles. Reads only; no writes.

A label (or a correction) can land after its prediction's day was moved to the archive
(:mod:`driftscope.storage.archive`); the label profile of the prediction's bucket still has to
gain it, so the label writer looks the prediction up in the archive. Only the ids with no stored
prediction in any version of the model are looked for, and only in the archived (not restored)
days that can hold one of them, in two cheap steps before any day is read:

1. each predictions part's Parquet footer (a few KB, read without the rest of the file) gives its
   row groups' smallest and largest ``prediction_id``; a part none of whose ranges holds an id is
   skipped (decisive for ids that grow with time: a sequence, ULID, UUIDv7, a timestamp prefix);
2. the day's Bloom filter of its ids (:mod:`driftscope.storage.archive_ids`, about 1.25 bytes per
   archived prediction, ~0.8 % false positives) rules out the day unless it may hold an id
   (decisive for random ids; days archived before filters were written cannot tell).

A day that passes both is read whole and verified (as every archive read), then filtered to the
ids. Cost per label batch that holds ids without a stored prediction (labels that arrived before
their prediction, or after it was archived): one footer per archived day of the model's versions,
one filter per day whose footer cannot rule it out, and the days that hold the ids (plus ~0.8 %
false positives per id and day). A batch whose ids are all stored reads nothing from the archive.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from driftscope.storage.archive_files import ArchiveError, Part, open_fs, read_part
from driftscope.storage.archive_ids import KIND as ID_FILTER
from driftscope.storage.archive_ids import may_hold
from driftscope.storage.models import ArchiveSegment, ModelVersion

ID = "prediction_id"


@dataclass(frozen=True)
class ArchivedMatch:
    """One version's archived predictions among the ids, and the labels archived with them."""

    model_version_id: int
    predictions: pd.DataFrame
    """The archived prediction rows (canonical columns: ``prediction_id``, ``ts``, ``prediction``...)."""
    labels: pd.DataFrame
    """``prediction_id``, ``label``: the label each of them was archived with (none: not listed)."""


def archived_matches(session: Session, *, model_id: int, prediction_ids: list[str]) -> Iterator[ArchivedMatch]:
    """Per version of the model, its archived predictions among ``prediction_ids`` (see the module docstring)."""
    if not prediction_ids:
        return
    wanted = np.unique(np.asarray(prediction_ids, dtype=object).astype(str))
    rows = session.execute(
        select(ArchiveSegment.model_version_id, ArchiveSegment.day, ArchiveSegment.kind, ArchiveSegment.path,
               ArchiveSegment.n_rows, ArchiveSegment.sha256)
        .join(ModelVersion, ModelVersion.id == ArchiveSegment.model_version_id)
        .where(ModelVersion.model_id == model_id, ArchiveSegment.kind.in_(["predictions", "labels", ID_FILTER]),
               ArchiveSegment.restored_at.is_(None))
        .order_by(ArchiveSegment.model_version_id, ArchiveSegment.day, ArchiveSegment.id)).all()
    days: dict[tuple[int, datetime], dict[str, list[Part]]] = {}
    for version_id, day, kind, path, n_rows, sha in rows:
        days.setdefault((int(version_id), day), {}).setdefault(kind, []).append(Part(path, kind, int(n_rows), sha))
    found: dict[int, list[tuple[pd.DataFrame, pd.DataFrame]]] = {}
    for (version_id, _), parts in days.items():
        candidates = [p for p in parts.get("predictions", []) if _may_hold(p, wanted)]
        if not candidates or not _filters_may_hold(parts, wanted):
            continue
        predictions = [_rows_of(read_part(p), wanted) for p in candidates]
        predictions = [t for t in predictions if t.num_rows]
        if not predictions:
            continue
        table = pa.concat_tables(predictions, promote_options="permissive")
        ids = np.asarray(table.column(ID).to_pylist(), dtype=object)
        labels = [_rows_of(read_part(p), ids).select([ID, "label"]) for p in parts.get("labels", [])]
        found.setdefault(version_id, []).append((table.to_pandas(), _frame(labels)))
    for version_id, matches in found.items():
        yield ArchivedMatch(version_id, pd.concat([m[0] for m in matches], ignore_index=True),
                            pd.concat([m[1] for m in matches], ignore_index=True))


def _may_hold(part: Part, wanted: np.ndarray) -> bool:
    """Whether a row group of ``part`` has a ``prediction_id`` range holding one of ``wanted`` (sorted).

    Reads the file's footer only. True when the footer lacks the statistics (they cannot tell).
    """
    fs, path = open_fs(part.path)
    try:
        with fs.open(path, "rb") as handle:
            metadata = pq.read_metadata(handle)
    except (OSError, NotImplementedError) as exc:
        raise ArchiveError(f"archive file {part.path}: cannot read its footer: {type(exc).__name__}: {exc}") from exc
    names = metadata.schema.names
    if ID not in names:
        return False
    column = names.index(ID)
    for group in range(metadata.num_row_groups):
        stats = metadata.row_group(group).column(column).statistics
        if stats is None or not stats.has_min_max:
            return True
        low, high = (v.decode() if isinstance(v, bytes) else str(v) for v in (stats.min, stats.max))
        if np.searchsorted(wanted, high, side="right") > np.searchsorted(wanted, low, side="left"):
            return True
    return False


def _filters_may_hold(parts: dict[str, list[Part]], wanted: np.ndarray) -> bool:
    """Whether the day's id filters may hold one of ``wanted``; True when a predictions part has none."""
    filters = parts.get(ID_FILTER, [])
    if len(filters) < len(parts.get("predictions", [])):  # parts archived before filters were written
        return True
    return any(bool(may_hold(read_part(f), wanted).any()) for f in filters)


def _rows_of(table: pa.Table, ids: np.ndarray) -> pa.Table:
    """The rows of ``table`` whose ``prediction_id`` is one of ``ids``."""
    column = table.column(ID)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return table.filter(pc.is_in(column.cast(pa.string()), value_set=pa.array(ids.tolist(), pa.string())))


def _frame(labels: list[pa.Table]) -> pd.DataFrame:
    if not labels:
        return pd.DataFrame({ID: pd.Series(dtype=object), "label": pd.Series(dtype=object)})
    frame = pa.concat_tables(labels, promote_options="permissive").to_pandas()
    return frame.drop_duplicates(ID, keep="last").reset_index(drop=True)
