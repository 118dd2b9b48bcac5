"""Validate a batch of raw rows against its target: canonical rows to store, and rows to quarantine.

Batch-level problems raise :class:`~driftscope.errors.SchemaError` (a required column is missing:
nothing of the batch is stored). Row-level problems send the row to quarantine with every reason
that applies. Rules, per schema role:

* id: required, text of at most 200 characters.
* timestamp (predictions): required, ISO 8601 text, a datetime or Unix seconds; no zone = UTC;
  between 1900-01-01 and the source's ``max_future_skew`` after now, else "timestamp out of
  range" (see :mod:`driftscope.collectors.timestamps`).
* prediction: required, of the version's prediction kind (see :mod:`driftscope.collectors.target`);
  for a binary model one of its two classes.
* probability (when the schema has one): required, a number in [0, 1]; likewise each class's
  column of ``probabilities`` (multiclass), stored as ``probability:<class>``.
* numeric features: a finite number or missing; categorical: any value or missing (values unseen
  in the reference are counted, not refused); binary: 0/1, true/false, yes/no or missing.
* latency and status (when the schema names them): see :mod:`driftscope.collectors.request_columns`;
  a failed request (status error or timeout) may lack its prediction and probability.
* version (``version_column``): a registered version of the model; empty falls back to the
  source's ``version``.
* label (ground truth): required, of the version's label kind, at most 200 characters as text;
  for a binary model one of its two classes.
* every text value stored (ids, text predictions and labels, categories): no NUL character and no
  unpaired surrogate (the store cannot hold them; quarantined on every store alike).
* missing means null, NaN or the empty string, in every source; where a number is expected the
  texts ``NaN``/``nan``/``NAN`` are missing too (see :mod:`driftscope.collectors.coerce`).

A row repeating an earlier row's id in the same batch with different content (for labels: a
different label) is a *conflicting duplicate*: the first is kept and the others are returned in
``conflict_positions``, apart from the invalid rows; exact repeats stay and count as duplicates.

The label's timestamp is the schema's timestamp column when the rows have it, else the source's
``label_time_column`` (a SQL source's watermark, when it holds datetimes), else the ingest time.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from driftscope.collectors.coerce import Coerced, as_text
from driftscope.collectors.columns import (
    KIND_TEXT,
    MAX_TEXT,
    checked_text,
    coerce_kind,
    feature_values,
    flag,
    required_problems,
)
from driftscope.collectors.outcome_rows import outcome_rows
from driftscope.collectors.request_columns import (
    excuse_failed,
    optional_when_failed,
    request_schema_columns,
    request_values,
)
from driftscope.collectors.target import Target, VersionPlan
from driftscope.collectors.timestamps import as_timestamp
from driftscope.errors import SchemaError
from driftscope.modelspec import PROBABILITY_PREFIX, probability_column

TIMESTAMP_TEXT = "a timestamp (ISO 8601 such as 2026-01-01T12:00:00Z, or Unix seconds)"


@dataclass(frozen=True)
class VersionRows:
    """Valid canonical rows of one version, which of them hold unseen categories, and their raw positions."""

    plan: VersionPlan
    frame: pd.DataFrame
    new_categories: np.ndarray
    positions: np.ndarray


@dataclass(frozen=True)
class Validated:
    """A validated batch: rows to store and the positions (into the raw frame) to quarantine."""

    predictions: list[VersionRows]
    labels: pd.DataFrame | None
    bad_positions: np.ndarray
    bad_reasons: np.ndarray
    n_rows: int
    conflict_positions: np.ndarray
    outcomes: pd.DataFrame | None = None

    @property
    def n_valid(self) -> int:
        """Rows that passed validation."""
        if self.outcomes is not None:
            return self.n_rows - len(self.bad_positions)
        if self.labels is not None:
            return len(self.labels)
        return sum(len(rows.frame) for rows in self.predictions)


def validate_batch(frame: pd.DataFrame, target: Target, *, origin: str, now: datetime) -> Validated:
    """Split ``frame`` (source column names, RangeIndex) into canonical rows and quarantined positions.

    Raises
    ------
    SchemaError
        A column the schema requires is missing, or two columns share a name (named with
        ``origin``).
    """
    _unique_columns(frame, target, origin)
    latest = pd.Timestamp(now).tz_convert("UTC") + target.max_future_skew
    if target.records == "ground_truth":
        return _validate_labels(frame, target, origin=origin, now=now, latest=latest)
    if target.records == "outcomes":
        rows, reasons = outcome_rows(frame, target, origin=origin, now=now, identifier=_identifier,
                                     times_of=lambda f, t, column: _label_times(f, t, column, latest))
        bad = np.flatnonzero(pd.notna(reasons))
        return Validated([], None, bad, reasons[bad], len(frame), np.empty(0, dtype=np.int64), outcomes=rows)
    reasons = np.full(len(frame), None, dtype=object)
    versions = _versions(frame, target, reasons)
    parts, conflicts = [], []
    for name, plan in target.versions.items():
        positions = np.flatnonzero(versions == name)
        if len(positions) == 0:
            continue
        _require(frame, target, _prediction_columns(plan.schema), origin)
        rows = frame if len(positions) == len(frame) else frame.iloc[positions]
        canonical, new_categories = _predictions(rows, plan, target, reasons, positions, latest)
        ok = pd.isna(reasons[positions])
        valid, valid_positions, valid_new = _kept(canonical, ok), positions[ok], new_categories[ok]
        conflict = conflicting(valid, list(valid.columns))
        conflicts.append(valid_positions[conflict])
        if conflict.any():
            valid = valid.loc[~conflict].reset_index(drop=True)
        parts.append(VersionRows(plan, valid, valid_new[~conflict], valid_positions[~conflict]))
    bad = np.flatnonzero(pd.notna(reasons))
    return Validated(parts, None, bad, reasons[bad], len(frame), _positions(conflicts))


def _kept(canonical: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The kept rows; categories only refused rows held (unstorable text) are dropped with them."""
    if keep.all():
        return canonical
    kept = canonical.loc[keep].reset_index(drop=True)
    for name in kept.columns:
        if isinstance(kept[name].dtype, pd.CategoricalDtype):
            kept[name] = kept[name].cat.remove_unused_categories()
    return kept


def conflicting(rows: pd.DataFrame, content: list[str], key: str = "prediction_id") -> np.ndarray:
    """Rows repeating an earlier row's ``key`` with different ``content`` columns (a boolean mask).

    Only rows whose key repeats are hashed (``pandas.util.hash_pandas_object``), so a batch
    without repeats costs one ``duplicated`` pass.

    Examples
    --------
    >>> rows = pd.DataFrame({"prediction_id": ["a", "a", "b", "a"], "label": ["1", "1", "0", "0"]})
    >>> conflicting(rows, ["prediction_id", "label"]).tolist()
    [False, False, False, True]
    """
    out = np.zeros(len(rows), dtype=bool)
    repeated = rows[key].duplicated(keep=False).to_numpy()
    if not repeated.any():
        return out
    subset = rows.loc[repeated, content]
    digest = pd.Series(pd.util.hash_pandas_object(subset, index=False).to_numpy())
    first = digest.groupby(subset[key].to_numpy()).transform("first").to_numpy()
    out[np.flatnonzero(repeated)] = digest.to_numpy() != first
    return out


def _positions(parts: list[np.ndarray]) -> np.ndarray:
    return np.sort(np.concatenate(parts)).astype(np.int64) if parts else np.array([], dtype=np.int64)


def _unique_columns(frame: pd.DataFrame, target: Target, origin: str) -> None:
    repeated = frame.columns[frame.columns.duplicated()].unique()
    if len(repeated):
        raise SchemaError(
            f"source {target.source!r}, {origin}: the column name {', '.join(map(repr, repeated))} appears more "
            "than once; give every column a distinct name"
        )


def _prediction_columns(schema: dict) -> list[str]:
    roles = [schema["id"], schema["timestamp"], schema["prediction"], schema.get("probability")]
    return ([c for c in roles if c] + list((schema.get("probabilities") or {}).values())
            + request_schema_columns(schema) + list(schema["features"]))


def _require(frame: pd.DataFrame, target: Target, schema_columns: list[str], origin: str) -> None:
    missing = [c for c in schema_columns if target.column(c) not in frame.columns]
    if missing:
        named = ", ".join(c if target.column(c) == c else f"{c} (source column {target.column(c)!r})" for c in missing)
        raise SchemaError(
            f"source {target.source!r}, {origin}: missing required columns {named}; the rows have "
            f"{', '.join(map(str, frame.columns)) or 'no columns'}. Add them, or map them under the source's "
            "`columns:` (store name: source name)"
        )


def _versions(frame: pd.DataFrame, target: Target, reasons: np.ndarray) -> np.ndarray:
    """The version of each row (None where unknown; those rows are flagged)."""
    if target.version_column is None or target.version_column not in frame.columns:
        if target.default_version is None:
            raise SchemaError(
                f"source {target.source!r}: the rows lack the version column {target.version_column!r} and the "
                "source sets no fixed `version`; add the column or set `version:`"
            )
        return np.full(len(frame), target.default_version, dtype=object)
    text = as_text(frame[target.version_column])
    values = text.values.to_numpy(dtype=object).copy()
    if target.default_version is not None:
        values[text.missing] = target.default_version
    unknown = ~pd.Index(values).isin(list(target.versions))
    if unknown.any():
        shown = pd.Series(values[unknown], dtype=object).fillna("(empty)").astype(str).to_numpy(dtype=object)
        registered = ", ".join(target.versions)
        prefix = f"{target.version_column}: model {target.model!r} has no registered version "
        flag(reasons, np.flatnonzero(unknown), prefix + shown + f" (registered: {registered})")
        values[unknown] = None
    return values


def _predictions(
    rows: pd.DataFrame, plan: VersionPlan, target: Target, reasons: np.ndarray, positions: np.ndarray,
    latest: pd.Timestamp,
) -> tuple[pd.DataFrame, np.ndarray]:
    schema = plan.schema
    roles = [("prediction_id", schema["id"], "id", "text of at most 200 characters"),
             ("ts", schema["timestamp"], "timestamp", TIMESTAMP_TEXT),
             ("prediction", schema["prediction"], "prediction", KIND_TEXT[plan.prediction_kind])]
    if schema.get("probability"):
        roles.append(("probability", schema["probability"], "probability", "a number in [0, 1]"))
    for cls, column in (schema.get("probabilities") or {}).items():
        roles.append((probability_column(str(cls)), column, f"probability of {cls}", "a number in [0, 1]"))
    columns: dict[str, pd.Series | np.ndarray] = {}
    request, failed = request_values(rows, schema, target.column, reasons, positions)
    for canonical, schema_column, what, expected in roles:
        source = target.column(schema_column)
        coerced = _coerce_role(canonical, rows[source], plan, latest)
        if optional_when_failed(canonical):
            coerced = excuse_failed(coerced, failed)
        for mask, text in required_problems(coerced, source, what, expected):
            flag(reasons, positions[mask], text)
        if canonical == "prediction":
            _flag_outside_classes(coerced, plan, source, reasons, positions)
        columns[canonical] = coerced.values.reset_index(drop=True)
    features, new_categories = feature_values(rows, plan, target.column, reasons, positions)
    return pd.DataFrame(columns | request | features), new_categories


def _coerce_role(canonical: str, raw: pd.Series, plan: VersionPlan, latest: pd.Timestamp) -> Coerced:
    if canonical == "prediction_id":
        return _identifier(raw)
    if canonical == "ts":
        return as_timestamp(raw, latest=latest)
    if canonical == "probability" or canonical.startswith(PROBABILITY_PREFIX):
        numbers = coerce_kind(raw, "float")
        values = numbers.values.to_numpy()
        outside = ~numbers.missing & ~numbers.invalid & ((values < 0) | (values > 1))
        return Coerced(numbers.values, numbers.missing, numbers.invalid | outside)
    return coerce_kind(raw, plan.prediction_kind)


def _identifier(raw: pd.Series) -> Coerced:
    return checked_text(as_text(raw), max_chars=MAX_TEXT)


def _flag_outside_classes(coerced: Coerced, plan: VersionPlan, column: str, reasons: np.ndarray,
                          positions: np.ndarray, *, labels: bool = False) -> None:
    """Flag valid values that are not one of a binary model's two classes (``plan.classes``)."""
    if plan.classes is None:
        return
    classes: list[Any] = [str(c) for c in plan.classes] if labels else list(plan.classes)
    present = ~coerced.missing & ~coerced.invalid & coerced.values.notna().to_numpy()  # failed requests: null
    outside = present & ~coerced.values.isin(classes).to_numpy()
    if outside.any():
        named = ", ".join(map(str, plan.classes))
        flag(reasons, positions[outside], f"{column}: not one of the binary model's classes ({named})")


def _validate_labels(frame: pd.DataFrame, target: Target, *, origin: str, now: datetime,
                     latest: pd.Timestamp) -> Validated:
    plan = target.label_plan
    schema = plan.schema
    if not schema.get("target"):
        raise SchemaError(
            f"source {target.source!r}: model {target.model!r} version {plan.version!r} has no `schema.target`; "
            "ground truth needs the target column named in the schema"
        )
    _require(frame, target, [schema["id"], schema["target"]], origin)
    reasons = np.full(len(frame), None, dtype=object)
    id_column, label_column = target.column(schema["id"]), target.column(schema["target"])
    ids = _identifier(frame[id_column])
    labels = coerce_kind(frame[label_column], plan.label_kind, as_label=True)
    checks = [(ids, id_column, "id", "text of at most 200 characters"),
              (labels, label_column, "label", f"{KIND_TEXT[plan.label_kind]} of at most 200 characters")]
    times = _label_times(frame, target, schema["timestamp"], latest)
    if times is not None:
        checks.append((times, target.column(schema["timestamp"]), "timestamp", TIMESTAMP_TEXT))
        ts = times.values
    else:
        ts = pd.Series(pd.Timestamp(now).tz_convert("UTC"), index=frame.index).astype("datetime64[ns, UTC]")
    everyone = np.arange(len(frame))
    for coerced, column, what, expected in checks:
        for mask, text in required_problems(coerced, column, what, expected):
            flag(reasons, everyone[mask], text)
    _flag_outside_classes(labels, plan, label_column, reasons, everyone, labels=True)
    ok = pd.isna(reasons)
    out = pd.DataFrame({"prediction_id": ids.values.to_numpy(), "label": labels.values.to_numpy(),
                        "ts": ts.reset_index(drop=True)})
    conflict = np.zeros(len(frame), dtype=bool)
    conflict[ok] = conflicting(out.loc[ok], ["prediction_id", "label"])
    bad = np.flatnonzero(~ok)
    return Validated([], out.loc[ok & ~conflict].reset_index(drop=True), bad, reasons[bad], len(frame),
                     np.flatnonzero(conflict))


def _label_times(frame: pd.DataFrame, target: Target, timestamp_column: str, latest: pd.Timestamp) -> Coerced | None:
    """The schema's timestamp column; else the label time column when it holds datetimes; else None."""
    column = target.column(timestamp_column)
    if column in frame.columns:
        return as_timestamp(frame[column], latest=latest)
    fallback = target.label_time_column
    if fallback is None or fallback not in frame.columns or frame[fallback].dtype.kind in "iufb":
        return None
    times = as_timestamp(frame[fallback], latest=latest)
    return None if (times.invalid | times.missing).any() else times
