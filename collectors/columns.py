"""Column rules of validation: coerce a column by its role and kind, and name what is wrong with rows.

Reasons are collected in an object array with one slot per raw row (None = no problem yet);
:func:`flag` appends a text to the flagged rows with numpy, once per rule, never per row.
"""

from collections.abc import Callable

import numpy as np
import pandas as pd

from driftscope.collectors.coerce import (
    Coerced,
    as_binary,
    as_boolean,
    as_category,
    as_float,
    as_integer,
    as_text,
    text_length,
)
from driftscope.collectors.target import Kind, VersionPlan

MAX_TEXT = 200
KIND_TEXT = {
    "int": "an integer class label",
    "float": "a finite number",
    "bool": "a boolean (true/false, 0/1)",
    "str": "text",
}


def flag(reasons: np.ndarray, rows: np.ndarray, text: str | np.ndarray) -> None:
    """Append ``text`` (one for all, or one per row) to the reasons of ``rows`` (positions).

    Examples
    --------
    >>> reasons = np.full(3, None, dtype=object)
    >>> flag(reasons, np.array([0, 2]), "a: missing")
    >>> flag(reasons, np.array([2]), "b: not a number")
    >>> reasons.tolist()
    ['a: missing', None, 'a: missing; b: not a number']
    """
    if len(rows) == 0:
        return
    texts = np.full(len(rows), text, dtype=object) if isinstance(text, str) else np.asarray(text, dtype=object)
    current = reasons[rows]
    has = pd.notna(current)
    joined = texts.copy()
    joined[has] = current[has] + "; " + texts[has]
    reasons[rows] = joined


def coerce_kind(raw: pd.Series, kind: Kind, *, as_label: bool = False) -> Coerced:
    """Coerce a prediction or label column to ``kind``; labels become their stored text.

    Labels are stored as text: integers as ``str(int)``, floats as their shortest repr, booleans
    as ``True``/``False``; text longer than 200 characters is invalid.

    Examples
    --------
    >>> coerce_kind(pd.Series(["1", "0.0", "x"], dtype=object), "int", as_label=True).values.tolist()[:2]
    ['1', '0']
    """
    converters: dict[str, Callable[[pd.Series], Coerced]] = {
        "int": as_integer, "float": as_float, "bool": as_boolean, "str": as_text,
    }
    coerced = converters[kind](raw)
    if not as_label:
        return coerced
    text = coerced.values if kind == "str" else coerced.values.astype(str).astype(object)
    too_long = text_length(text) > MAX_TEXT
    return Coerced(text, coerced.missing, coerced.invalid | too_long)


def required_problems(coerced: Coerced, column: str, what: str, expected: str) -> list[tuple[np.ndarray, str]]:
    """``(mask, reason)`` pairs of a required column: missing values and values of the wrong type."""
    return [
        (coerced.missing, f"{column}: missing {what}"),
        (coerced.invalid & ~coerced.missing, f"{column}: not {expected}"),
    ]


def feature_values(
    rows: pd.DataFrame, plan: VersionPlan, column_of: Callable[[str], str], reasons: np.ndarray, positions: np.ndarray
) -> tuple[dict[str, np.ndarray | pd.Categorical], np.ndarray]:
    """Coerce every feature of ``rows``; flag wrong types; mark rows holding categories unseen in the reference.

    Missing feature values are allowed (they are data, counted by the monitors). Categorical
    features come back as text categoricals, numeric and binary ones as float64.
    """
    values: dict[str, np.ndarray | pd.Categorical] = {}
    new_categories = np.zeros(len(rows), dtype=bool)
    for name, kind in plan.features.items():
        source = column_of(name)
        raw = rows[source]
        if kind == "categorical":
            category = as_category(raw)
            values[name] = category.values.array
            known = plan.categories.get(name)
            if known is not None:
                unseen = np.append(~category.values.cat.categories.isin(known), False)  # code -1 reads False
                new_categories |= unseen[category.values.cat.codes.to_numpy()]
            continue
        coerced = as_float(raw) if kind == "numeric" else as_binary(raw)
        expected = "a finite number" if kind == "numeric" else "binary (0/1, true/false, yes/no)"
        flag(reasons, positions[coerced.invalid], f"{source}: not {expected}")
        values[name] = coerced.values.to_numpy(dtype=np.float64)
    return values, new_categories
