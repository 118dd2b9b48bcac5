"""Validate outcome rows (business results joined by prediction id) into long canonical rows.

A row holds the schema's id column, optionally its timestamp, and one column per declared outcome
(``schema.outcomes``, under the outcome's name); a batch must have the id and at least one of
the outcome columns (else :class:`~driftscope.errors.SchemaError`). Per row:

* id: required, text of at most 200 characters.
* binary outcome: 0/1, true/false, yes/no or missing; numeric outcome: a finite number or missing.
* at least one outcome value; a row with none, or with a value of the wrong type, is quarantined
  with every reason that applies (nothing of that row is stored).
* time: the schema's timestamp column when the rows have it, else the source's label time column
  (as for labels), else the ingest time.

Canonical rows are long: ``prediction_id``, ``outcome``, ``value`` (float, 0/1 for binary),
``ts`` (UTC) and ``row`` (position in the batch, for counting rows).
"""

from collections.abc import Callable
from datetime import datetime

import numpy as np
import pandas as pd

from driftscope.collectors.coerce import Coerced, as_binary, as_float
from driftscope.collectors.columns import flag, required_problems
from driftscope.collectors.target import Target
from driftscope.errors import SchemaError

Times = Callable[[pd.DataFrame, Target, str], Coerced | None]


def outcome_rows(
    frame: pd.DataFrame, target: Target, *, origin: str, now: datetime, identifier: Callable[[pd.Series], Coerced],
    times_of: Times,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Long canonical outcome rows of ``frame`` and the per-row reasons (None = valid).

    ``identifier`` coerces the id column; ``times_of`` finds the timestamp column (both shared
    with the label validation, so ids and times follow the same rules).
    """
    plan = target.label_plan
    schema = plan.schema
    declared = dict(schema.get("outcomes") or {})
    id_column = target.column(schema["id"])
    present = {name: kind for name, kind in declared.items() if target.column(name) in frame.columns}
    if not declared or id_column not in frame.columns or not present:
        needed = ", ".join(target.column(n) for n in declared) or "(none declared: add schema.outcomes)"
        raise SchemaError(
            f"source {target.source!r}, {origin}: outcome rows of model {target.model!r} need the id column "
            f"{id_column!r} and at least one outcome column of {needed}; the rows have "
            f"{', '.join(map(str, frame.columns)) or 'no columns'}"
        )
    reasons = np.full(len(frame), None, dtype=object)
    ids = identifier(frame[id_column])
    for mask, text in required_problems(ids, id_column, "id", "text of at most 200 characters"):
        flag(reasons, np.flatnonzero(mask), text)
    values, any_value = _values(frame, target, present, reasons)
    flag(reasons, np.flatnonzero(~any_value), f"no outcome value (columns {', '.join(map(target.column, present))})")
    ts = _times(frame, target, schema["timestamp"], reasons, now, times_of)
    ok = pd.isna(reasons)
    parts = [pd.DataFrame({"row": np.flatnonzero(ok & ~np.isnan(v)), "outcome": name})
             for name, v in values.items()]
    rows = pd.concat(parts, ignore_index=True)
    positions = rows["row"].to_numpy()
    rows["prediction_id"] = ids.values.to_numpy(dtype=object)[positions]
    rows["value"] = np.concatenate([v[ok & ~np.isnan(v)] for v in values.values()]) if len(rows) else 0.0
    rows["ts"] = ts.iloc[positions].reset_index(drop=True)
    return rows.sort_values(["row", "outcome"], kind="stable").reset_index(drop=True), reasons


def _values(
    frame: pd.DataFrame, target: Target, present: dict[str, str], reasons: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    values: dict[str, np.ndarray] = {}
    any_value = np.zeros(len(frame), dtype=bool)
    for name, kind in present.items():
        column = target.column(name)
        coerced = as_binary(frame[column]) if kind == "binary" else as_float(frame[column])
        expected = "binary (0/1, true/false, yes/no)" if kind == "binary" else "a finite number"
        flag(reasons, np.flatnonzero(coerced.invalid & ~coerced.missing), f"{column}: not {expected}")
        values[name] = coerced.values.to_numpy(dtype=np.float64)
        any_value |= ~coerced.missing & ~coerced.invalid
    return values, any_value


def _times(frame: pd.DataFrame, target: Target, timestamp_column: str, reasons: np.ndarray, now: datetime,
           times_of: Times) -> pd.Series:
    times = times_of(frame, target, timestamp_column)
    if times is None:
        return pd.Series(pd.Timestamp(now).tz_convert("UTC"), index=range(len(frame))).astype("datetime64[ns, UTC]")
    column = target.column(timestamp_column)
    for mask, text in required_problems(times, column, "timestamp", "a timestamp (ISO 8601 or Unix seconds)"):
        flag(reasons, np.flatnonzero(mask), text)
    return times.values.reset_index(drop=True)
