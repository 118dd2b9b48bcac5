"""Numbers for people: values, changes, p-values, durations and time spans as a reader at 3 a.m. wants them.

Pure functions (no Streamlit), so they are doctested. Missing values format as an empty string: an
empty cell says "nothing here" better than ``None`` or ``nan``. Every direction-aware function knows
from :mod:`driftscope.metric_direction` whether a rise of the metric is good or bad.
"""

from datetime import UTC, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd

from driftscope.metric_direction import higher_is_better

DAY = timedelta(days=1)


def missing(value: Any) -> bool:
    """True for None, NaN and NaT.

    Examples
    --------
    >>> missing(None), missing(float("nan")), missing(0)
    (True, True, False)
    """
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def num(value: Any, digits: int = 4) -> str:
    """A number with thousands separators and ``digits`` significant digits, never in scientific notation.

    Values of 1,000 and more are shown whole (money-like amounts, counts).

    Examples
    --------
    >>> num(20512.4), num(0.81234), num(1.5e-05), num(-733.026), num(None)
    ('20,512', '0.8123', '0.000015', '-733', '')
    """
    if missing(value):
        return ""
    v = float(value)
    if not np.isfinite(v):
        return str(v)
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    text = np.format_float_positional(v, precision=digits, unique=False, fractional=False, trim="-")
    return text.rstrip(".")


def integer(value: Any) -> str:
    """``12,345`` (blank when missing).

    Examples
    --------
    >>> integer(12345.0), integer(None)
    ('12,345', '')
    """
    return "" if missing(value) else f"{int(value):,}"


def pct(value: Any, digits: int = 1) -> str:
    """``12.3%`` from a share (blank when missing).

    Examples
    --------
    >>> pct(0.1234), pct(None)
    ('12.3%', '')
    """
    return "" if missing(value) else f"{float(value):.{digits}%}"


def p_value(value: Any) -> str:
    """A p-value as statisticians write it: ``< 0.001`` below a thousandth, else three decimals.

    Examples
    --------
    >>> p_value(1e-8), p_value(0.04567), p_value(0.5), p_value(None)
    ('< 0.001', '0.046', '0.500', '')
    """
    if missing(value):
        return ""
    p = float(value)
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def duration(seconds: Any) -> str:
    """A duration in ms below a second, in s below a minute, else minutes and seconds.

    Examples
    --------
    >>> duration(0.2191431), duration(12.345), duration(125), duration(None)
    ('219 ms', '12.3 s', '2 min 5 s', '')
    """
    if missing(seconds):
        return ""
    s = float(seconds)
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 60:
        return f"{s:.1f} s"
    minutes, rest = divmod(round(s), 60)
    return f"{minutes} min {rest} s"


def change(metric: str, value: Any, reference: Any) -> tuple[str, str] | None:
    """How ``metric`` moved from ``reference`` to ``value``: (wording, ``"better"``/``"worse"``/``"same"``).

    A rise of a lower-is-better metric (mae, rmse, mape, log_loss, brier) is worse.

    Examples
    --------
    >>> change("mae", 20512.4, 19779.4)
    ('rose by 733 (+3.7%) vs reference', 'worse')
    >>> change("roc_auc", 0.71, 0.80)
    ('fell by 0.09 (-11.3%) vs reference', 'worse')
    >>> change("roc_auc", 0.8, None) is None
    True
    """
    if missing(value) or missing(reference):
        return None
    delta = float(value) - float(reference)
    if delta == 0:
        return "same as reference", "same"
    rel = f" ({delta / abs(float(reference)):+.1%})" if float(reference) else ""
    verb = "rose" if delta > 0 else "fell"
    better = (delta > 0) == higher_is_better(metric)
    return f"{verb} by {num(abs(delta))}{rel} vs reference", "better" if better else "worse"


def delta_color(metric: str) -> str:
    """``st.metric``'s ``delta_color`` so that worse is red: ``"inverse"`` for lower-is-better metrics.

    Examples
    --------
    >>> delta_color("mae"), delta_color("roc_auc")
    ('inverse', 'normal')
    """
    return "normal" if higher_is_better(metric) else "inverse"


def signed(metric: str, value: Any, reference: Any, *, short: bool = False) -> str | None:
    """The delta text for ``st.metric``: ``+733 vs reference (worse)``; None when either is missing.

    ``short`` leaves out "vs reference" (for narrow cards).

    Examples
    --------
    >>> signed("mae", 20512.4, 19779.4), signed("mae", 20512.4, 19779.4, short=True)
    ('+733 vs reference (worse)', '+733 (worse)')
    """
    moved = change(metric, value, reference)
    if moved is None:
        return None
    delta = float(value) - float(reference)
    sign = "+" if delta > 0 else "-" if delta < 0 else "±"
    return f"{sign}{num(abs(delta))}{'' if short else ' vs reference'} ({moved[1]})"


def _utc(value: Any) -> datetime:
    stamp = pd.Timestamp(value)
    return (stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)).to_pydatetime()


def span(start: Any, end: Any, *, short: bool = False) -> str:
    """A window ``[start, end)`` as people read it: whole UTC days by their dates, else times.

    ``short`` drops the ``(UTC day)`` note (for card labels).

    Examples
    --------
    >>> span(datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC))
    '2026-11-24 (UTC day)'
    >>> span(datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 27, tzinfo=UTC))
    '2026-11-24 – 2026-11-26 (UTC days)'
    >>> span(datetime(2026, 11, 20, 8, tzinfo=UTC), datetime(2026, 11, 20, 15, tzinfo=UTC))
    '2026-11-20 08:00 – 15:00 UTC'
    >>> span(datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC), short=True)
    '2026-11-24'
    >>> span(None, None)
    ''
    """
    if missing(start) or missing(end):
        return ""
    a, b = _utc(start), _utc(end)
    if a.time() == time(0) and b.time() == time(0):
        last = (b - DAY).date()
        text = f"{a:%Y-%m-%d}" if last == a.date() else f"{a:%Y-%m-%d} – {last:%Y-%m-%d}"
        return text if short else text + (" (UTC day)" if last == a.date() else " (UTC days)")
    right = f"{b:%H:%M}" if b.date() == a.date() else f"{b:%Y-%m-%d %H:%M}"
    return f"{a:%Y-%m-%d %H:%M} – {right} UTC"


def when(value: Any) -> str:
    """``2026-01-05 14:00 UTC`` (blank when missing).

    Examples
    --------
    >>> when(datetime(2026, 1, 5, 14, tzinfo=UTC)), when(None)
    ('2026-01-05 14:00 UTC', '')
    """
    return "" if missing(value) else f"{_utc(value):%Y-%m-%d %H:%M} UTC"


def midpoints(start: pd.Series, end: pd.Series) -> pd.Series:
    """Where to draw a window's point: its middle, so a daily window sits on its own day, not the next.

    Examples
    --------
    >>> s = pd.Series(pd.to_datetime(["2026-11-24"], utc=True))
    >>> str(midpoints(s, s + pd.Timedelta(days=1)).iloc[0])
    '2026-11-24 12:00:00+00:00'
    """
    return start + (end - start) / 2


def evidence_rows(evidence: dict[str, Any] | None) -> pd.DataFrame:
    """An alert's evidence as a small labelled table (what, value); lists of records become one row each.

    Examples
    --------
    >>> evidence_rows({"drifted_share": 0.4, "metric": {"metric": "mae", "p_value": 1e-9}, "window": None})
       what            value
    0  drifted share     0.4
    1  metric           mae
    2  metric p-value  < 0.001
    """
    rows: list[tuple[str, str]] = []
    _flatten(evidence or {}, "", rows)
    return pd.DataFrame(rows, columns=["what", "value"])


def _flatten(value: Any, label: str, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            name = str(key).replace("_", " ").replace("p value", "p-value")
            _flatten(inner, f"{label} {name}".strip() if label and name != label else name, rows)
    elif isinstance(value, list | tuple) and value and all(isinstance(v, dict) for v in value):
        for item in value:
            head = item.get("feature") or item.get("metric") or item.get("name")
            _flatten({k: v for k, v in item.items() if v is not head}, f"{label} · {head}" if head else label, rows)
    elif not missing(value) and value != []:
        rows.append((label, _scalar(label, value)))


def _scalar(label: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | np.number):
        return p_value(value) if "p-value" in label else num(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    text = str(value)
    parsed = pd.to_datetime(text, utc=True, errors="coerce") if len(text) >= 19 and text[4:5] == "-" else None
    return when(parsed) if parsed is not None and not missing(parsed) else text
