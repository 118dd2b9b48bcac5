"""Replay quarantined rows after the schema or the mapping was fixed.

Each quarantined payload is validated again against the store's current schema and the source's
current mapping (from the config; ``python:`` sources need none). Rows that pass are stored
(idempotently: a row stored meanwhile counts as a duplicate) and removed from quarantine in the
same transaction; rows that still fail stay, with their reasons brought up to date. A payload
that is not a JSON object (a line that was never JSON) can only stay.
"""

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from driftscope.collectors.base import SourceSummary
from driftscope.collectors.config import CollectorSettings
from driftscope.collectors.ingest import CONFLICT_REASON, Counts, store_validated
from driftscope.collectors.python_api import parse_python_outcome_source, parse_python_source
from driftscope.collectors.target import Target, load_target
from driftscope.collectors.validate import validate_batch
from driftscope.errors import DriftscopeError, SchemaError
from driftscope.storage.db import transaction
from driftscope.storage.quarantine import list_quarantined, quarantine_counts, remove_quarantined, update_reasons

PAGE_ROWS = 10_000


def replay_quarantine(
    engine: Engine, config: CollectorSettings, *, sources: list[str] | None = None
) -> list[SourceSummary]:
    """Replay the quarantined rows of ``sources`` (default: every source with quarantined rows).

    ``rows_read`` counts the rows examined, ``rows_stored``/``rows_duplicate`` those that left
    quarantine, ``rows_conflict`` the conflicting duplicates that stay (their id is stored with
    other content), ``rows_quarantined`` the other rows still there.
    """
    with transaction(engine) as session:
        counts = quarantine_counts(session)
    names = sorted(counts) if sources is None else sources
    return [_replay_source(engine, config, name, counts.get(name, 0)) for name in names]


def _target_options(config: CollectorSettings, name: str) -> dict[str, Any] | None:
    outcome_model = parse_python_outcome_source(name)
    if outcome_model is not None:
        return {"records": "outcomes", "model": outcome_model, "version": None}
    python = parse_python_source(name)
    if python is not None:
        model, version = python
        return {"records": "predictions" if version else "ground_truth", "model": model, "version": version}
    for spec in config.sources:
        if spec.name == name:
            return {"records": spec.records, "model": spec.model, "version": spec.version,
                    "version_column": spec.version_column, "mapping": spec.columns,
                    "label_time_column": spec.watermark if spec.kind == "sql" else None,
                    "max_future_skew": spec.max_future_skew}
    return None


def _replay_source(engine: Engine, config: CollectorSettings, name: str, n_quarantined: int) -> SourceSummary:
    options = _target_options(config, name)
    if options is None:
        return SourceSummary(name, "failed", 0, 0, 0, n_quarantined,
                             f"{name!r} is not a configured source; add it back to the config to replay its rows")
    try:
        with transaction(engine) as session:
            target = load_target(session, source=name, **options)
        totals, errors, after_id = Counts(), [], 0
        while True:
            with transaction(engine) as session:
                rows = list_quarantined(session, source=name, after_id=after_id, limit=PAGE_ROWS)
            if rows.empty:
                break
            after_id = int(rows["id"].max())
            counts, error = _replay_page(engine, target, rows)
            totals += counts
            errors += [error] if error else []
    except DriftscopeError as exc:
        return SourceSummary(name, "failed", 0, 0, 0, n_quarantined, f"{exc.__class__.__name__}: {exc}")
    status = "failed" if errors else "succeeded"
    return SourceSummary(name, status, totals.read, totals.stored, totals.duplicate, totals.quarantined,
                         "; ".join(dict.fromkeys(errors)) or None, rows_conflict=totals.conflict)


def _replay_page(engine: Engine, target: Target, rows: pd.DataFrame) -> tuple[Counts, str | None]:
    """Validate one page of quarantined rows again; store and remove those that pass."""
    parsed = [_as_object(payload) for payload in rows["payload"]]
    is_object = np.array([p is not None for p in parsed], dtype=bool)
    objects = rows.loc[is_object]
    frame = pd.DataFrame.from_records([p for p in parsed if p is not None])
    try:
        validated = validate_batch(frame, target, origin="quarantine", now=datetime.now(UTC))
    except SchemaError as exc:
        return Counts(len(rows), 0, 0, len(rows)), str(exc)
    object_ids = objects["id"].to_numpy()
    bad_ids = object_ids[validated.bad_positions]
    with transaction(engine) as session:
        outcome = store_validated(session, target, validated)
        conflict_ids = object_ids[np.concatenate([validated.conflict_positions, outcome.conflict_positions])]
        good_ids = np.setdiff1d(object_ids, np.concatenate([bad_ids, conflict_ids]))
        remove_quarantined(session, ids=good_ids.tolist())
        update_reasons(session, ids=[*bad_ids.tolist(), *conflict_ids.tolist()],
                       reasons=[*validated.bad_reasons.tolist(), *[CONFLICT_REASON] * len(conflict_ids)])
    still = len(rows) - len(good_ids) - len(conflict_ids)
    return Counts(len(rows), outcome.stored, outcome.duplicate, still, len(conflict_ids)), None


def _as_object(payload: str) -> dict[str, Any] | None:
    try:
        value = json.loads(payload)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
