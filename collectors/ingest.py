"""One transaction per batch: validated rows, quarantined rows, the source's new position, the run's counts.

:func:`prepare` validates a batch without touching the store (a collector runs it ahead, in a
background thread); :func:`commit` writes it. Inside the transaction the checkpoint is
compared-and-set first, so a second collector of the same source fails before writing anything;
rows are then stored idempotently (natural keys), so re-reading a batch after a crash stores
nothing twice. A batch is therefore either committed entirely, with its position, or not at all.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from driftscope.collectors.base import Batch, Checkpoint, FileCheckpoint, OffsetCheckpoint, WatermarkCheckpoint
from driftscope.collectors.target import Target
from driftscope.collectors.validate import Validated, validate_batch
from driftscope.errors import SchemaError
from driftscope.storage.collector_state import add_run_counts, advance_file, advance_watermark
from driftscope.storage.db import transaction
from driftscope.storage.labels import write_labels
from driftscope.storage.outcomes import write_outcomes
from driftscope.storage.predictions import EncodedPredictions, encode_predictions, write_encoded
from driftscope.storage.quarantine import add_quarantined
from driftscope.storage.stream_offsets import advance_offsets

CONFLICT_REASON = "conflicting duplicate: this id came before with different content; the first row is kept"


@dataclass(frozen=True)
class Counts:
    """Rows of one or more batches: ``read = stored + duplicate + conflict + quarantined``.

    Conflicting duplicates (an id seen before with different content) go to quarantine too, with
    the reason :data:`CONFLICT_REASON`, but are counted in ``conflict``, not in ``quarantined``.
    """

    read: int = 0
    stored: int = 0
    duplicate: int = 0
    quarantined: int = 0
    conflict: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(self.read + other.read, self.stored + other.stored, self.duplicate + other.duplicate,
                      self.quarantined + other.quarantined, self.conflict + other.conflict)


@dataclass(frozen=True)
class Stored:
    """What storing a batch's valid rows did; ``conflict_positions`` index the raw frame (store conflicts)."""

    stored: int
    duplicate: int
    conflict_positions: np.ndarray


@dataclass(frozen=True)
class Prepared:
    """A validated batch ready to commit (its chunks encoded), or the schema error that fails it."""

    batch: Batch
    validated: Validated | None
    quarantine: pd.DataFrame | None
    encoded: list[EncodedPredictions] | None = None
    error: SchemaError | None = None


def prepare(batch: Batch, target: Target, *, now: datetime | None = None) -> Prepared:
    """Validate ``batch``, encode and profile its chunks and build its quarantine rows, without the store.

    A missing column becomes ``Prepared.error``, raised by :func:`commit`.
    """
    try:
        validated = validate_batch(batch.frame, target, origin=batch.origin, now=now or datetime.now(UTC))
    except SchemaError as exc:
        return Prepared(batch, None, None, error=exc)
    encoded = [encode_predictions(part.frame, part.new_categories, profile_specs=part.plan.profile_specs)
               for part in validated.predictions]
    return Prepared(batch, validated, quarantine_frame(batch, validated), encoded)


def quarantine_all(prepared: Prepared) -> Prepared:
    """A batch failing as a whole (a required column missing) with every row quarantined for that reason.

    Stream sources commit such a batch this way: their offsets must move past it, and the rows stay
    replayable (``driftscope quarantine replay``) once the schema or the producer is fixed.
    """
    n_rows = len(prepared.batch.frame)
    reason = str(prepared.error) if prepared.error is not None else "the batch was not validated"
    validated = Validated([], None, np.arange(n_rows), np.full(n_rows, reason, dtype=object), n_rows,
                          conflict_positions=np.array([], dtype=np.int64))
    return Prepared(prepared.batch, validated, quarantine_frame(prepared.batch, validated), [])


def commit(engine: Engine, target: Target, prepared: Prepared, *, run_id: int | None) -> Counts:
    """Write a prepared batch: checkpoint, rows, quarantine and run counts in one transaction.

    Raises
    ------
    SchemaError
        The batch lacks a required column (nothing is written).
    """
    if prepared.error is not None or prepared.validated is None or prepared.quarantine is None:
        raise prepared.error or SchemaError(f"source {target.source!r}: {prepared.batch.origin} was not validated")
    validated, batch = prepared.validated, prepared.batch
    with transaction(engine) as session:
        commit_checkpoint(session, target.source, batch.checkpoint)
        outcome = store_validated(session, target, validated, prepared.encoded)
        conflicts = np.concatenate([validated.conflict_positions, outcome.conflict_positions]).astype(np.int64)
        rows = prepared.quarantine if len(conflicts) == 0 else pd.concat(
            [prepared.quarantine, conflict_frame(batch, conflicts)], ignore_index=True)
        n_rows = add_quarantined(session, source=target.source, model_id=target.model_id,
                                 records=target.records, rows=rows)
        counts = Counts(validated.n_rows + len(batch.rejected), outcome.stored, outcome.duplicate,
                        n_rows - len(conflicts), len(conflicts))
        if run_id is not None:
            add_run_counts(session, run_id=run_id, read=counts.read, stored=counts.stored,
                           duplicate=counts.duplicate, quarantined=counts.quarantined, conflict=counts.conflict)
    return counts


def ingest_batch(engine: Engine, target: Target, batch: Batch, *, run_id: int | None,
                 now: datetime | None = None) -> Counts:
    """Validate and commit one batch (see :func:`prepare` and :func:`commit`)."""
    return commit(engine, target, prepare(batch, target, now=now), run_id=run_id)


def store_validated(
    session: Session, target: Target, validated: Validated, encoded: list[EncodedPredictions] | None = None
) -> Stored:
    """Store the valid rows of a batch (``encoded``: its prediction chunks, if prepared).

    For labels, stored counts new and corrected labels, duplicates the unchanged repeats (a
    stored label that differs is a correction, never a conflict). For predictions, rows whose id
    was stored before with other content are conflicts (see :mod:`driftscope.storage.conflicts`).
    For outcomes, stored counts the rows with at least one new outcome value, duplicates the others.
    """
    stored = duplicate = 0
    conflicts = [np.zeros(0, dtype=np.int64)]
    if encoded is None:
        encoded = [encode_predictions(part.frame, part.new_categories) for part in validated.predictions]
    for part, chunks in zip(validated.predictions, encoded, strict=True):
        written = write_encoded(session, model_version_id=part.plan.id, encoded=chunks, source=target.source)
        stored, duplicate = stored + written.stored, duplicate + written.duplicates
        conflicts.append(part.positions[written.conflict_rows])
    if validated.labels is not None:
        labels = write_labels(session, model_id=target.model_id, frame=validated.labels, source=target.source)
        stored, duplicate = labels.stored, labels.unchanged
    if validated.outcomes is not None:
        outcomes = write_outcomes(session, model_id=target.model_id, frame=validated.outcomes)
        stored = int(validated.outcomes.loc[outcomes.new, "row"].nunique())
        duplicate = validated.n_valid - stored
    return Stored(stored, duplicate, np.concatenate(conflicts))


def quarantine_frame(batch: Batch, validated: Validated) -> pd.DataFrame:
    """Rows to quarantine (``location``, ``reason``, ``payload``): the unparsed ones, then the invalid ones."""
    positions = validated.bad_positions
    return pd.DataFrame({
        "location": [*batch.rejected.locations, *batch.locate(positions)],
        "reason": [*batch.rejected.reasons, *np.asarray(validated.bad_reasons, dtype=object)],
        "payload": [*batch.rejected.payloads, *batch.payloads(positions)],
    })


def conflict_frame(batch: Batch, positions: np.ndarray) -> pd.DataFrame:
    """Quarantine rows (``location``, ``reason``, ``payload``) of the conflicting duplicates at ``positions``."""
    return pd.DataFrame({"location": batch.locate(positions), "reason": CONFLICT_REASON,
                         "payload": batch.payloads(positions)}, columns=["location", "reason", "payload"])


def commit_checkpoint(session: Session, source: str, checkpoint: Checkpoint) -> None:
    """Advance the source's position (compare-and-set)."""
    if isinstance(checkpoint, WatermarkCheckpoint):
        advance_watermark(session, source=source, expected=checkpoint.expected, watermark=checkpoint.watermark)
    elif isinstance(checkpoint, FileCheckpoint):
        advance_file(session, source=source, expected=checkpoint.expected, mark=checkpoint.mark)
    elif isinstance(checkpoint, OffsetCheckpoint):
        advance_offsets(session, source=source, topic=checkpoint.topic, expected=checkpoint.expected,
                        offsets=checkpoint.offsets, last_ts=checkpoint.last_ts)
