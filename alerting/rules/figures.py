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
    """What a drift test compared, each number against its own kind of threshold.

    Fixed thresholds: the p-value against its threshold with the statistic apart, or the distance
    against its threshold. Calibrated thresholds (``threshold_mode="calibrated"``): the statistic
    against the threshold learned from the reference at this window's size, then the Monte Carlo
    p-value and, under FDR control, the Benjamini-Hochberg q-value. The effect size follows when the
    monitor stored one.

    Examples
    --------
    >>> compared({"method": "ks", "statistic": 0.1446, "p_value": 0.003, "threshold": 0.05})
    'ks p-value 0.003 < threshold 0.05; statistic 0.1446'
    >>> compared({"method": "psi", "statistic": 0.42, "p_value": None, "threshold": 0.2, "effect_size": 0.31})
    'psi 0.42 >= threshold 0.2; effect size 0.31'
    >>> compared({"method": "ks", "statistic": 0.061, "p_value": 0.001, "threshold": 0.031, "q_value": 0.004,
    ...           "threshold_mode": "calibrated", "effect_size": 0.12, "effect_size_kind": "wasserstein_sd"})
    'ks statistic 0.061 >= calibrated threshold 0.031 (p-value 0.001, q-value 0.004); effect size 0.12 (wasserstein_sd)'
    """
    method, statistic, threshold = row.get("method"), row.get("statistic"), row.get("threshold")
    p_value = row.get("p_value")
    if row.get("threshold_mode") == "calibrated":
        above = _present(statistic) and _present(threshold) and float(statistic) >= float(threshold)
        sign = ">=" if above else "<"
        text = f"{method} statistic {number(statistic)} {sign} calibrated threshold {number(threshold)}"
        extra = [f"p-value {_p(p_value)}"] if _present(p_value) else []
        extra += [f"q-value {_p(row['q_value'])}"] if _present(row.get("q_value")) else []
        text += f" ({', '.join(extra)})" if extra else ""
    elif _present(p_value):
        text = f"{method} {p_value_text(p_value, threshold)}; statistic {number(statistic)}"
    else:
        above = _present(statistic) and _present(threshold) and float(statistic) >= float(threshold)
        text = f"{method} {number(statistic)} {'>=' if above else '<'} threshold {number(threshold)}"
    effect = row.get("effect_size")
    if _present(effect):
        kind = row.get("effect_size_kind")
        text += f"; effect size {number(effect)}" + (f" ({kind})" if _present(kind) else "")
    return text


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _p(value: Any) -> str:
    return "< 0.0001" if float(value) < TINY_P else number(value)
