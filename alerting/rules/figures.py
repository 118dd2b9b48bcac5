"""Numbers in alert titles and messages: readable, never scientific for ordinary magnitudes.

Shared by the rules (titles) and the notifications (e-mail, Slack), so a figure reads the same
everywhere.
"""

import math
from typing import Any

TINY_P = 1e-4


def number(value: Any) -> str:
    """A figure for people: thousands separated, 4 significant digits below 10,000, ``n/a`` if missing.

    Scientific notation only for magnitudes below 0.0001 (where it is the clearer form).

    Examples
    --------
    >>> [number(v) for v in (19770.4, 1234567.8, 0.71234, 12.3456, 0, None, float("nan"), 3.2e-07)]
    ['19,770', '1,234,568', '0.7123', '12.35', '0', 'n/a', 'n/a', '3.2e-07']
    """
    if value is None or isinstance(value, bool):
        return "n/a" if value is None else str(value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return "n/a"
    if abs(x) >= 10_000:
        return f"{x:,.0f}"
    if x == 0 or abs(x) >= TINY_P:
        return f"{x:,.4g}" if abs(x) >= 1000 else f"{x:.4g}"
    return f"{x:.2g}"


def p_value_text(p_value: Any, threshold: Any) -> str:
    """``p-value P < threshold T`` (or ``>=``): the p-value compared with its own threshold.

    Examples
    --------
    >>> p_value_text(0.0012, 0.05), p_value_text(0.2, 0.05), p_value_text(1e-9, 0.01)
    ('p-value 0.0012 < threshold 0.05', 'p-value 0.2 >= threshold 0.05', 'p-value < 0.0001 < threshold 0.01')
    """
    p, t = float(p_value), None if threshold is None else float(threshold)
    shown = "< 0.0001" if p < TINY_P else number(p)
    if t is None:
        return f"p-value {shown}"
    return f"p-value {shown} {'<' if p < t else '>='} threshold {number(t)}"


def compared(row: dict[str, Any]) -> str:
    """What a drift test compared: the p-value with its threshold and the statistic apart, or the
    distance with its threshold; the effect size when the monitor stored one.

    Examples
    --------
    >>> compared({"method": "ks", "statistic": 0.1446, "p_value": 0.003, "threshold": 0.05})
    'ks p-value 0.003 < threshold 0.05; statistic 0.1446'
    >>> compared({"method": "psi", "statistic": 0.42, "p_value": None, "threshold": 0.2, "effect_size": 0.31})
    'psi 0.42 >= threshold 0.2; effect size 0.31'
    """
    method, statistic, threshold = row.get("method"), row.get("statistic"), row.get("threshold")
    p_value = row.get("p_value")
    if p_value is not None and not (isinstance(p_value, float) and math.isnan(p_value)):
        text = f"{method} {p_value_text(p_value, threshold)}; statistic {number(statistic)}"
    else:
        above = statistic is not None and threshold is not None and float(statistic) >= float(threshold)
        text = f"{method} {number(statistic)} {'>=' if above else '<'} threshold {number(threshold)}"
    effect = row.get("effect_size")
    if effect is not None and not (isinstance(effect, float) and math.isnan(effect)):
        text += f"; effect size {number(effect)}"
        floor = row.get("effect_floor")
        if floor is not None and not (isinstance(floor, float) and math.isnan(floor)) and float(effect) < float(floor):
            text += f" (below the floor {number(floor)}: significant but small)"
    return text
