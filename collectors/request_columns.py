"""The request columns of a prediction log: serving ``latency`` (ms) and request ``status``.

Both are optional schema roles; when the schema names one, the batch must have its column (a
missing column is a :class:`~driftscope.errors.SchemaError`, as for every schema column), while a
row may leave the value empty. Rules:

* latency: a finite number of milliseconds, at least 0, or missing.
* status: ``ok``, ``error`` or ``timeout`` exactly, or missing (counted as ``ok`` and stored as
  ``ok``); any other value sends the row to quarantine with its reason.
* a failed request (status ``error`` or ``timeout``) may lack its prediction and probability: it is
  stored and counted by the operational monitor, not quarantined. Other monitors skip failed requests.

Canonical columns: ``latency_ms`` (float64, NaN where missing) and ``status`` (text).
"""

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from driftscope.collectors.coerce import Coerced, as_float, as_text
from driftscope.collectors.columns import flag
from driftscope.modelspec import PROBABILITY_PREFIX

STATUSES = ("ok", "error", "timeout")
FAILED = ("error", "timeout")


def optional_when_failed(canonical: str) -> bool:
    """Whether a failed request may leave the canonical column empty: the prediction and its probabilities.

    Examples
    --------
    >>> [optional_when_failed(c) for c in ("prediction", "probability", "probability:plus", "ts")]
    [True, True, True, False]
    """
    return canonical in ("prediction", "probability") or canonical.startswith(PROBABILITY_PREFIX)


def request_schema_columns(schema: dict[str, Any]) -> list[str]:
    """The schema's latency and status columns (those it names).

    Examples
    --------
    >>> request_schema_columns({"latency": "ms", "status": None})
    ['ms']
    """
    return [schema[role] for role in ("latency", "status") if schema.get(role)]


def request_values(
    rows: pd.DataFrame, schema: dict[str, Any], column_of: Callable[[str], str], reasons: np.ndarray,
    positions: np.ndarray,
) -> tuple[dict[str, pd.Series], np.ndarray]:
    """Coerce the request columns of ``rows``; flag bad values; return the canonical columns and the failed rows.

    Returns
    -------
    columns : dict
        ``latency_ms`` and/or ``status`` (aligned with ``rows``, RangeIndex); only those the schema names.
    failed : numpy.ndarray of bool
        True where the status is ``error`` or ``timeout``.

    Examples
    --------
    >>> rows = pd.DataFrame({"ms": [12.5, -1, None], "st": ["ok", "error", "crashed"]})
    >>> reasons = np.full(3, None, dtype=object)
    >>> columns, failed = request_values(rows, {"latency": "ms", "status": "st"}, str, reasons, np.arange(3))
    >>> failed.tolist()
    [False, True, False]
    >>> reasons.tolist()[1:]  # doctest: +NORMALIZE_WHITESPACE
    ['ms: not a latency (a finite number of milliseconds >= 0)',
     "st: not a status (ok, error or timeout): 'crashed'"]
    """
    columns: dict[str, pd.Series] = {}
    failed = np.zeros(len(rows), dtype=bool)
    if schema.get("latency"):
        source = column_of(schema["latency"])
        latency = as_float(rows[source])
        values = latency.values.to_numpy(dtype=np.float64)
        negative = ~latency.missing & ~latency.invalid & (np.nan_to_num(values, nan=0.0) < 0)
        flag(reasons, positions[latency.invalid | negative],
             f"{source}: not a latency (a finite number of milliseconds >= 0)")
        columns["latency_ms"] = pd.Series(np.where(negative, np.nan, values)).reset_index(drop=True)
    if schema.get("status"):
        source = column_of(schema["status"])
        status = as_text(rows[source])
        text = status.values.to_numpy(dtype=object).copy()
        text[status.missing] = "ok"
        unknown = ~pd.Index(text).isin(STATUSES)
        if unknown.any():
            shown = pd.Series(text[unknown], dtype=object).astype(str).map(repr).to_numpy(dtype=object)
            flag(reasons, positions[unknown], f"{source}: not a status (ok, error or timeout): " + shown)
        failed = pd.Index(text).isin(FAILED)
        columns["status"] = pd.Series(text, dtype=object)
    return columns, np.asarray(failed, dtype=bool)


def excuse_failed(coerced: Coerced, failed: np.ndarray) -> Coerced:
    """``coerced`` with the missing values of failed requests excused (neither missing nor invalid) and null.

    Integer and boolean values become pandas' nullable types so the excused rows hold a null, not
    the 0 / False a coercion puts where a value is missing.

    Examples
    --------
    >>> c = Coerced(pd.Series([0, 0]), np.array([True, True]), np.array([True, True]))
    >>> excused = excuse_failed(c, np.array([True, False]))
    >>> excused.missing.tolist(), excused.invalid.tolist(), excused.values.tolist()
    ([False, True], [False, True], [<NA>, 0])
    """
    excused = coerced.missing & failed
    if not excused.any():
        return coerced
    values = coerced.values
    nullable: dict[str, Any] = {"i": pd.Int64Dtype(), "u": pd.UInt64Dtype(), "b": pd.BooleanDtype()}
    if values.dtype.kind in nullable:
        values = values.astype(nullable[values.dtype.kind])
    return Coerced(values.mask(excused), coerced.missing & ~excused, coerced.invalid & ~excused)
