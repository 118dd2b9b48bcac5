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
    text_checks,
)
from driftscope.collectors.target import Kind, VersionPlan

MAX_TEXT = 200
UNSTORABLE = "text holds a NUL character or an unpaired surrogate, which the store cannot hold"
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
    if kind == "str":
        coerced = checked_text(coerced, max_chars=MAX_TEXT if as_label else None)
    if not as_label or kind == "str":
        return coerced
    return Coerced(coerced.values.astype(str).astype(object), coerced.missing, coerced.invalid, coerced.problems)


def checked_text(text: Coerced, *, max_chars: int | None) -> Coerced:
    r"""Text values made invalid where longer than ``max_chars`` or unstorable (NUL, unpaired surrogate).

    Examples
    --------
    >>> out = checked_text(as_text(pd.Series(["ok", "a\x00b"], dtype=object)), max_chars=200)
    >>> out.invalid.tolist(), out.problems[0][1]
    ([False, True], 'text holds a NUL character or an unpaired surrogate, which the store cannot hold')
    """
    lengths, unstorable = text_checks(text.values)
    invalid = text.invalid | unstorable
    if max_chars is not None:
        invalid = invalid | (lengths > max_chars)
    problems = ((unstorable, UNSTORABLE),) if unstorable.any() else ()
    return Coerced(text.values, text.missing, invalid, text.problems + problems)


def required_problems(coerced: Coerced, column: str, what: str, expected: str) -> list[tuple[np.ndarray, str]]:
    """``(mask, reason)`` pairs of a required column: missing values, values of the wrong type, specific problems.

    A row named by a specific problem (a timestamp out of range, an unstorable text) gets that
    reason instead of the generic "not <expected>".
    """
    specific = np.zeros(len(coerced.missing), dtype=bool)
    for mask, _ in coerced.problems:
        specific |= mask
    return [
        (coerced.missing, f"{column}: missing {what}"),
        (coerced.invalid & ~coerced.missing & ~specific, f"{column}: not {expected}"),
        *((mask, f"{column}: {reason}") for mask, reason in coerced.problems),
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
            _flag_unstorable_categories(category.values, positions, reasons, source)
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


def _flag_unstorable_categories(values: pd.Series, positions: np.ndarray, reasons: np.ndarray, source: str) -> None:
    """Flag rows whose category is unstorable text; only the categories (distinct values) are checked."""
    categories = values.cat.categories
    if len(categories) == 0:
        return
    unstorable = np.append(text_checks(pd.Series(categories, dtype=object))[1], False)  # code -1 reads False
    rows = unstorable[values.cat.codes.to_numpy()]
    if rows.any():
        flag(reasons, positions[rows], f"{source}: {UNSTORABLE}")
