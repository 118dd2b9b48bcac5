"""Vectorised coercion of one raw column to a store type, with masks of missing and invalid values.

Every function takes a pandas Series (any dtype a reader produces: numbers, strings, objects of
mixed types, categoricals, datetimes) and returns a :class:`Coerced`: the converted values, which
rows were missing (null, NaN or the empty string) and which held a value of the wrong type.
Where a number is expected, the texts in :data:`NAN_TEXTS` are missing too, in every source (a CSV
``NaN`` is the same missing value as a JSON ``NaN`` or a float NaN from the Python API); in text
columns they stay text. Nothing loops per row in Python on valid data; the per-value fallbacks
(:func:`unstorable_text`) run only when Arrow refused a column.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

NAN_TEXTS = ("NaN", "nan", "NAN")
_MAX_EXACT_INT = 2.0**53
_NUMBER = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"
_BINARY_VALUES = {
    True: 1.0, False: 0.0, "1": 1.0, "0": 0.0, "1.0": 1.0, "0.0": 0.0, "true": 1.0, "false": 0.0,
    "True": 1.0, "False": 0.0, "TRUE": 1.0, "FALSE": 0.0, "yes": 1.0, "no": 0.0,
}


@dataclass(frozen=True)
class Coerced:
    """Converted values plus the rows that were ``missing`` and the rows that were ``invalid``."""

    values: pd.Series
    missing: np.ndarray
    invalid: np.ndarray
    problems: tuple[tuple[np.ndarray, str], ...] = ()
    """More specific reasons: ``(mask, reason)`` pairs of rows already counted in ``invalid``."""


def missing_mask(raw: pd.Series) -> np.ndarray:
    """Null, NaN, NaT and the empty string.

    Examples
    --------
    >>> missing_mask(pd.Series(["a", "", None, float("nan"), pd.NA], dtype=object)).tolist()
    [False, True, True, True, True]
    """
    missing = raw.isna().to_numpy()
    if raw.dtype == object:
        values = raw.to_numpy()
        if missing.any():
            present = ~missing
            missing[present] = values[present] == ""
        else:
            missing = np.asarray(values == "", dtype=bool)
    elif isinstance(raw.dtype, pd.StringDtype):
        missing |= (raw == "").fillna(False).to_numpy(dtype=bool)
    elif isinstance(raw.dtype, pd.CategoricalDtype):
        missing |= (raw.cat.categories == "")[raw.cat.codes.to_numpy()] & (raw.cat.codes.to_numpy() >= 0)
    return missing


def nan_text(raw: pd.Series) -> np.ndarray:
    """Text values that spell NaN (:data:`NAN_TEXTS`): missing where a number is expected.

    Examples
    --------
    >>> nan_text(pd.Series(["nan", "1", None], dtype=object)).tolist()
    [True, False, False]
    """
    if raw.dtype == object or isinstance(raw.dtype, pd.StringDtype | pd.CategoricalDtype):
        return raw.isin(NAN_TEXTS).to_numpy(dtype=bool)
    return np.zeros(len(raw), dtype=bool)


def as_text(raw: pd.Series) -> Coerced:
    """Text values (object dtype, NaN where missing); floats that hold integers print as integers.

    Examples
    --------
    >>> as_text(pd.Series([1.0, 2.5, None])).values.tolist()
    ['1', '2.5', nan]
    """
    missing = missing_mask(raw)
    if isinstance(raw.dtype, pd.CategoricalDtype):
        categories = as_text(pd.Series(raw.cat.categories)).values.to_numpy(dtype=object)
        codes = raw.cat.codes.to_numpy()
        text: np.ndarray = np.full(len(codes), None, dtype=object)
        present = codes >= 0
        text[present] = categories[codes[present]]
    elif raw.dtype.kind == "f":
        values = raw.to_numpy()
        integral = np.isfinite(values) & (np.abs(values) < _MAX_EXACT_INT)
        integral &= values == np.floor(np.where(integral, values, 0))
        text = values.astype(str).astype(object)
        text[integral] = values[integral].astype(np.int64).astype(str)
    elif raw.dtype == object and pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty"):
        text = raw.to_numpy()
    elif isinstance(raw.dtype, pd.StringDtype):
        text = raw.to_numpy(dtype=object, na_value=np.nan)
    else:
        text = raw.astype(str).to_numpy(dtype=object)
    out = pd.Series(text, index=raw.index, dtype=object)
    out[missing] = np.nan
    return Coerced(out, missing, np.zeros(len(raw), dtype=bool))


def as_category(raw: pd.Series) -> Coerced:
    """The text of :func:`as_text` as a categorical (categories in order of appearance, NaN where missing).

    A categorical input keeps its codes: only its categories are converted (categories whose text
    coincides merge, and the empty string is missing).

    Examples
    --------
    >>> out = as_category(pd.Series(["b", None, "a", "b", ""], dtype=object))
    >>> out.values.cat.categories.tolist(), out.values.cat.codes.tolist(), out.missing.tolist()
    (['b', 'a'], [0, -1, 1, 0, -1], [False, True, False, False, True])
    >>> as_category(pd.Series([2.0, 1.0, None], dtype="category")).values.tolist()
    ['2', '1', nan]
    """
    if isinstance(raw.dtype, pd.CategoricalDtype):
        category_text = as_text(pd.Series(raw.cat.categories)).values.to_numpy(dtype=object)
        merged, categories = pd.factorize(category_text)
        codes = raw.cat.codes.to_numpy()
        codes = np.where(codes >= 0, merged[np.maximum(codes, 0)] if len(merged) else -1, -1)
    else:
        codes, categories = pd.factorize(as_text(raw).values.to_numpy(dtype=object))
    values = pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=object)),
                       index=raw.index)
    return Coerced(values, codes < 0, np.zeros(len(raw), dtype=bool))


def as_float(raw: pd.Series) -> Coerced:
    """Float64 values; text is parsed, and text that is not a number (or an infinity) is invalid.

    Examples
    --------
    >>> out = as_float(pd.Series(["1.5", "abc", "", "inf"], dtype=object))
    >>> out.values.tolist()[:1], out.missing.tolist(), out.invalid.tolist()
    ([1.5], [False, False, True, False], [False, True, False, True])
    >>> as_float(pd.Series(["NaN", float("nan")], dtype=object)).missing.tolist()
    [True, True]
    """
    missing = missing_mask(raw) | nan_text(raw)
    if isinstance(raw.dtype, pd.CategoricalDtype):
        raw = raw.astype(object)
    if raw.dtype.kind in "fiub":
        values = raw.astype(np.float64)
    elif raw.dtype.kind in "mM":
        values = pd.Series(np.nan, index=raw.index)
    elif isinstance(raw.dtype, pd.StringDtype):
        values = _parse_numbers(raw)
    else:
        values = pd.to_numeric(raw.where(~missing), errors="coerce").astype(np.float64)
    array = values.to_numpy()
    invalid = (np.isnan(array) & ~missing) | np.isinf(array)
    return Coerced(values.where(~invalid & ~missing), missing, invalid)


def as_integer(raw: pd.Series) -> Coerced:
    """Integer values (int64, 0 where missing or invalid); numbers with a fraction are invalid.

    Examples
    --------
    >>> out = as_integer(pd.Series([1.0, 0.5, 2]))
    >>> out.values.tolist(), out.invalid.tolist()
    ([1, 0, 2], [False, True, False])
    """
    numbers = as_float(raw)
    array = numbers.values.to_numpy()
    ok = ~numbers.missing & ~numbers.invalid
    fractional = ok & ((array != np.floor(np.where(ok, array, 0))) | (np.abs(np.where(ok, array, 0)) >= _MAX_EXACT_INT))
    valid = ok & ~fractional
    values = pd.Series(np.where(valid, array, 0).astype(np.int64), index=raw.index)
    return Coerced(values, numbers.missing, numbers.invalid | fractional)


def as_binary(raw: pd.Series) -> Coerced:
    """0.0 / 1.0 (NaN where missing); accepts booleans, 0/1 and true/false/yes/no text.

    Examples
    --------
    >>> out = as_binary(pd.Series(["true", "0", "maybe", None], dtype=object))
    >>> out.values.tolist()[:2], out.invalid.tolist()
    ([1.0, 0.0], [False, False, True, False])
    """
    missing = missing_mask(raw) | nan_text(raw)
    if raw.dtype.kind in "fiub":
        values = raw.astype(np.float64)
        invalid = ~missing & ~values.isin([0.0, 1.0]).to_numpy()
    else:
        values = raw.astype(object).map(_BINARY_VALUES).astype(np.float64)
        invalid = ~missing & values.isna().to_numpy()
    return Coerced(values.where(~invalid & ~missing), missing, invalid)


def as_boolean(raw: pd.Series) -> Coerced:
    """Booleans (False where missing or invalid), from the values :func:`as_binary` accepts."""
    binary = as_binary(raw)
    return Coerced(binary.values.fillna(0.0).astype(bool), binary.missing, binary.invalid)


def _parse_numbers(raw: pd.Series) -> pd.Series:
    """Float64 of Arrow-backed text (NaN where it is not a decimal number), parsed by Arrow without Python objects."""
    text = pc.utf8_trim_whitespace(pa.array(raw.array))
    number = pc.fill_null(pc.match_substring_regex(text, _NUMBER), False)
    values = pc.cast(pc.if_else(number, text, pa.scalar(None, text.type)), pa.float64())
    return pd.Series(values.to_numpy(zero_copy_only=False), index=raw.index)


def text_length(values: pd.Series) -> np.ndarray:
    """Characters per text value (0 for missing), computed by Arrow.

    Examples
    --------
    >>> text_length(pd.Series(["ab", None, "é"], dtype=object)).tolist()
    [2, 0, 1]
    """
    return text_checks(values)[0]


def text_checks(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    r"""Characters per text value (0 for missing) and which values the store cannot hold.

    PostgreSQL text cannot hold the NUL character, and no store can encode an unpaired UTF-16
    surrogate (``"\ud800"``, which JSON escapes and Python strings allow) as UTF-8; such values
    are *unstorable*, on every store alike. One Arrow conversion checks both; only when Arrow
    refuses the column (a surrogate, a non-text object) are the values looked at one by one.

    Examples
    --------
    >>> lengths, bad = text_checks(pd.Series(["ab", None, "a\x00b", "\ud800"], dtype=object))
    >>> lengths.tolist(), bad.tolist()
    ([2, 0, 3, 1], [False, False, True, True])
    """
    objects = values.to_numpy(dtype=object)
    try:
        array = pa.array(objects, type=pa.string(), from_pandas=True)
    except (UnicodeError, pa.ArrowException):
        checked = [_text_check(value) for value in objects]
        return (np.fromiter((n for n, _ in checked), dtype=np.int64, count=len(checked)),
                np.fromiter((bad for _, bad in checked), dtype=bool, count=len(checked)))
    lengths = pc.utf8_length(array).fill_null(0).to_numpy(zero_copy_only=False)
    nul = pc.match_substring(array, "\x00").fill_null(False).to_numpy(zero_copy_only=False)
    return lengths, np.asarray(nul, dtype=bool)


def unstorable_text(values: pd.Series) -> np.ndarray:
    """True where a text value holds a NUL character or an unpaired surrogate (see :func:`text_checks`)."""
    return text_checks(values)[1]


def _text_check(value: object) -> tuple[int, bool]:
    if not isinstance(value, str):
        return 0, False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return len(value), True
    return len(value), "\x00" in value
