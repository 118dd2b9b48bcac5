"""What each rule kind concludes from one monitor run: fired, clean, or no verdict.

A check is a pure function ``(rule, run, results) -> Finding | None`` over the stored run and its
result frames; ``None`` means the run says nothing about the rule (a failed run for a drift rule, a
metric without enough labels), so the alert neither fires nor counts a clean run. Checks are
registered by rule kind in :data:`CHECKS`; ``no_data`` is evaluated from activity, see
:func:`no_data_finding`.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from driftscope.alerting.config import RuleConfig
from driftscope.storage.results import RunInfo

LOWER_IS_BETTER = frozenset({"log_loss", "brier", "mae", "rmse", "mape"})
DRIFT_COLUMNS = ["feature", "method", "statistic", "p_value", "threshold"]
DEFAULT_MISSING_MARGIN = 0.1


@dataclass(frozen=True)
class Finding:
    """A rule's verdict on one run: ``fired``, a one-line ``title`` and the key numbers as ``evidence``."""

    fired: bool
    title: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunResults:
    """The result frames of one run, as returned by :mod:`driftscope.storage.results`."""

    drift: pd.DataFrame
    metrics: pd.DataFrame
    events: pd.DataFrame


Check = Callable[[RuleConfig, RunInfo, RunResults], Finding | None]


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def drifted_features(drift: pd.DataFrame) -> list[dict[str, Any]]:
    """Drifted rows as ``{feature, method, statistic, p_value, threshold}``, largest statistic/threshold first."""
    if drift.empty:
        return []
    rows = drift.loc[drift["drifted"].astype(bool), DRIFT_COLUMNS].copy()
    ratio = rows["statistic"].astype(float) / rows["threshold"].astype(float).where(rows["threshold"] != 0)
    rows = rows.assign(_ratio=ratio.fillna(0.0)).sort_values("_ratio", ascending=False, kind="stable")
    return rows.drop(columns="_ratio").to_dict("records")


def _judged_features(rule: RuleConfig, run: RunInfo, results: RunResults) -> pd.DataFrame | None:
    """The drift rows a feature rule judges: feature rows (not prediction rows), only ``rule.feature``
    when the rule names one; None when the run gives no verdict (failed, or no such feature)."""
    drift = results.drift
    if "role" in drift.columns:
        drift = drift[drift["role"] == "feature"]
    if rule.feature is not None and not drift.empty:
        drift = drift[drift["feature"] == rule.feature]
    return None if not _succeeded(run) or drift.empty else drift


def _succeeded(run: RunInfo) -> bool:
    return run.status == "succeeded"


def dataset_drift(rule: RuleConfig, run: RunInfo, results: RunResults) -> Finding | None:
    """Fires when the run's summary says ``dataset_drift``: drifted share >= the monitor's ``drift_share``."""
    summary = run.summary
    if not _succeeded(run) or summary.get("dataset_drift") is None:
        return None
    share, n_drifted, n_features = summary.get("drifted_share"), summary.get("n_drifted"), summary.get("n_features")
    evidence = {
        "drifted_share": share, "n_drifted": n_drifted, "n_features": n_features,
        "drift_share": summary.get("drift_share"), "prediction_drift": summary.get("prediction_drift"),
        "drifted_features": drifted_features(results.drift),
    }
    share_text = "" if _number(share) is None else f" ({float(share):.0%})"
    title = f"dataset drift: {n_drifted} of {n_features} features drifted{share_text}"
    return Finding(bool(summary["dataset_drift"]), title, evidence)


def feature_drift(rule: RuleConfig, run: RunInfo, results: RunResults) -> Finding | None:
    """Fires when ``rule.feature`` drifted, or any feature when the rule names none."""
    drift = _judged_features(rule, run, results)
    if drift is None:
        return None
    drifted = drifted_features(drift)
    names = [d["feature"] for d in drifted]
    if len(drifted) == 1:
        d = drifted[0]
        figures = f"{d['method']} {_fmt(d['statistic'])} vs threshold {_fmt(d['threshold'])}"
        title = f"feature drift: {d['feature']} ({figures})"
    else:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        title = f"feature drift: {len(names)} features ({shown})"
    return Finding(bool(drifted), title, {"drifted_features": drifted, "n_tested": len(drift)})


def _metric_row(rule: RuleConfig, results: RunResults) -> dict[str, Any] | None:
    """The rule's metric with a verdict (status ``ok``, finite value), else None."""
    metrics = results.metrics
    rows = metrics[metrics["metric"] == rule.metric] if not metrics.empty else metrics
    if rows.empty or rows.iloc[0]["status"] != "ok" or _number(rows.iloc[0]["value"]) is None:
        return None
    row = rows.iloc[0]
    keys = ("value", "ci_low", "ci_high", "reference_value", "p_value", "threshold")
    details = row["details"] if isinstance(row["details"], dict) else {}
    higher = details.get("higher_is_better", rule.metric not in LOWER_IS_BETTER)
    return {"metric": rule.metric, **{k: _number(row[k]) for k in keys}, "n": int(row["n"]),
            "flagged": bool(row["flagged"]), "higher_is_better": bool(higher)}


def metric_below(rule: RuleConfig, run: RunInfo, results: RunResults) -> Finding | None:
    """Fires when the metric's value is below ``rule.value`` (the floor)."""
    metric = _metric_row(rule, results) if _succeeded(run) else None
    if metric is None or rule.value is None:
        return None
    title = f"{rule.metric} {_fmt(metric['value'])} below the floor {_fmt(rule.value)}{_ci(metric)}"
    return Finding(metric["value"] < rule.value, title, {"metric": {**metric, "floor": rule.value}})


def metric_drop(rule: RuleConfig, run: RunInfo, results: RunResults) -> Finding | None:
    """Fires on a significant drop against the reference value.

    Significant: the performance monitor's one-sided bootstrap test flagged the metric (p-value
    below its alpha, stored as ``threshold``); without a test (no p-value), the bootstrap interval
    lies entirely on the worse side of the reference. Worse is lower, or higher for error metrics
    (``details.higher_is_better``, else :data:`LOWER_IS_BETTER`). With ``rule.value`` set, the drop
    (in the metric's units) must also be at least that large.
    """
    metric = _metric_row(rule, results) if _succeeded(run) else None
    if metric is None or metric["reference_value"] is None:
        return None
    higher = metric["higher_is_better"]
    value, reference = metric["value"], metric["reference_value"]
    drop = reference - value if higher else value - reference
    bound = metric["ci_high"] if higher else metric["ci_low"]
    if metric["p_value"] is not None or bound is None:
        significant = metric["flagged"]
    else:
        significant = bound < reference if higher else bound > reference
    fired = significant and drop > 0 and (rule.value is None or drop >= rule.value)
    verb = "dropped" if higher else "rose"
    title = f"{rule.metric} {verb} from {_fmt(reference)} to {_fmt(value)}{_ci(metric)}"
    return Finding(bool(fired), title, {"metric": {**metric, "drop": drop, "min_drop": rule.value}})


def missing_values(rule: RuleConfig, run: RunInfo, results: RunResults) -> Finding | None:
    """Fires when a feature's missing share in the window exceeds its reference share by ``rule.value``.

    The margin is absolute (a share in [0, 1]; default :data:`DEFAULT_MISSING_MARGIN`): a feature
    missing in 2 % of the reference rows fires at 12 % missing in the window with the default 0.1.
    With ``rule.feature`` only that feature is judged.
    """
    drift = _judged_features(rule, run, results)
    if drift is None:
        return None
    margin = DEFAULT_MISSING_MARGIN if rule.value is None else rule.value
    rise = drift["missing_share_current"].astype(float) - drift["missing_share_reference"].astype(float)
    hit = drift.loc[rise >= margin, ["feature", "missing_share_reference", "missing_share_current"]]
    hit = hit.assign(rise=rise[rise >= margin]).sort_values("rise", ascending=False, kind="stable")
    rows = hit.to_dict("records")
    if rows:
        top = rows[0]
        title = (f"missing values: {top['feature']} missing in {top['missing_share_current']:.0%} of rows "
                 f"(reference {top['missing_share_reference']:.0%})")
        if len(rows) > 1:
            title += f" and {len(rows) - 1} more features"
    else:
        title = "missing values: no feature above its reference share"
    return Finding(bool(rows), title, {"features": rows, "margin": margin})


def detector_fired(rule: RuleConfig, run: RunInfo, results: RunResults) -> Finding | None:
    """Fires when a concept-drift detector (``rule.detector``, or any) found a change point."""
    if not _succeeded(run) or "concept_drift" not in run.summary:
        return None
    events = results.events
    names = set(run.summary.get("detectors_fired") or []) | set(events["detector"] if not events.empty else [])
    if rule.detector is not None:
        names &= {rule.detector}
        events = events[events["detector"] == rule.detector] if not events.empty else events
    change_points = events[["detector", "detected_at", "details"]].to_dict("records") if not events.empty else []
    evidence = {
        "detectors": sorted(names), "change_points": change_points,
        "label_coverage": run.summary.get("label_coverage"),
    }
    title = f"concept drift: {', '.join(sorted(names))} fired" if names else "concept drift: no detector fired"
    return Finding(bool(names), title, evidence)


def run_failed(rule: RuleConfig, run: RunInfo, results: RunResults) -> Finding | None:
    """Fires when the monitor run failed; a succeeded run is clean."""
    if run.status not in ("succeeded", "failed"):
        return None
    error = (run.error or "no error recorded").strip().splitlines()[0]
    return Finding(run.status == "failed", f"monitor {run.monitor} failed: {error}"[:300], {"error": run.error})


def no_data_finding(
    rule: RuleConfig, *, last_seen: datetime, activity: dict[str, datetime | None], now: datetime
) -> Finding:
    """``no_data``: fires when nothing arrived for ``rule.hours`` hours since ``last_seen``."""
    hours = float(rule.hours or 0)
    silent = (now - last_seen) / timedelta(hours=1)
    evidence = {"hours": hours, "silent_hours": round(silent, 3), **activity}
    return Finding(silent >= hours, f"no data for {silent:.1f} h (limit {hours:g} h)", evidence)


def _fmt(value: Any) -> str:
    """Four significant digits, whole numbers with separators from 1,000 on, never scientific notation."""
    number = _number(value)
    if number is None:
        return "n/a"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    return np.format_float_positional(number, precision=4, unique=False, fractional=False, trim="-").rstrip(".")


def _ci(metric: dict[str, Any]) -> str:
    if metric["ci_low"] is None or metric["ci_high"] is None:
        return ""
    return f" (CI [{_fmt(metric['ci_low'])}, {_fmt(metric['ci_high'])}])"


CHECKS: dict[str, Check] = {
    "dataset_drift": dataset_drift,
    "feature_drift": feature_drift,
    "metric_below": metric_below,
    "metric_drop": metric_drop,
    "detector_fired": detector_fired,
    "missing_values": missing_values,
    "run_failed": run_failed,
}
