"""What each rule kind concludes from one monitor run: fired, clean, or no verdict.

A check is a pure function ``(rule, run, results) -> Finding | None`` over the stored run and its
result frames; ``None`` means the run says nothing about the rule (a failed run for a drift rule, a
metric without enough labels), so the alert neither fires nor counts a clean run. Checks are
registered by rule kind in :data:`CHECKS`; ``no_data`` is evaluated from activity, see
:func:`no_data_finding`.

Besides the verdict, a finding carries its ``clearance`` (how far the compared value is on the
clean side of its threshold, as a share of the threshold; negative when breaching; the rules'
hysteresis reads it) and its ``effect`` (the size of the problem in the rule's own terms; severity
escalation reads it): see the table in ``docs/configuration.md``.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from driftscope.alerting.config import RuleConfig
from driftscope.alerting.rules.figures import compared, number, p_value_text
from driftscope.storage.results import RunInfo

LOWER_IS_BETTER = frozenset({"log_loss", "brier", "mae", "rmse", "mape"})
DRIFT_COLUMNS = ["feature", "method", "statistic", "p_value", "threshold"]
OPTIONAL_DRIFT_COLUMNS = ["role", "effect_size", "effect_size_kind", "threshold_mode", "q_value"]
"""Columns shown when the data-drift monitor stores them (role: feature or model output; effect size, calibrated
thresholds)."""
DEFAULT_MISSING_MARGIN = 0.1


@dataclass(frozen=True)
class Finding:
    """A rule's verdict on one run: ``fired``, a one-line ``title`` and the key numbers as ``evidence``."""

    fired: bool
    title: str
    evidence: dict[str, Any] = field(default_factory=dict)
    clearance: float | None = None
    effect: float | None = None


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
    columns = DRIFT_COLUMNS + [c for c in OPTIONAL_DRIFT_COLUMNS if c in drift.columns]
    rows = drift.loc[drift["drifted"].astype(bool), columns].copy()
    rows = rows.assign(_clear=feature_clearance(rows)).sort_values("_clear", kind="stable")
    return rows.drop(columns="_clear").to_dict("records", into=dict)


def feature_clearance(drift: pd.DataFrame) -> pd.Series:
    """Per row: how far the test is on the clean side of its threshold, as a share of the threshold.

    A p-value test (a p-value stored) is clean above its threshold: ``(p - threshold) / threshold``;
    a distance is clean below it: ``(threshold - statistic) / threshold``. Negative means drifted;
    rows without a threshold give 0.

    Examples
    --------
    >>> frame = pd.DataFrame({"statistic": [0.3, 0.14], "p_value": [None, 0.5], "threshold": [0.2, 0.05]})
    >>> feature_clearance(frame).round(2).tolist()
    [-0.5, 9.0]
    """
    threshold = drift["threshold"].astype(float)
    p_value, statistic = drift["p_value"].astype(float), drift["statistic"].astype(float)
    margin = (p_value - threshold).where(p_value.notna(), threshold - statistic)
    return (margin / threshold.where(threshold != 0)).fillna(0.0)


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
    limit, drifted = _number(summary.get("drift_share")), _number(share)
    share_text = "" if drifted is None else f" ({drifted:.0%}"
    if share_text and limit is not None:
        share_text += f"; drift declared at {limit:.0%} or more"
    title = f"dataset drift: {n_drifted} of {n_features} features drifted{share_text + ')' if share_text else ''}"
    clearance = None if drifted is None or not limit else (limit - drifted) / limit
    return Finding(bool(summary["dataset_drift"]), title, evidence, clearance, drifted)


def feature_drift(rule: RuleConfig, run: RunInfo, results: RunResults) -> Finding | None:
    """Fires when ``rule.feature`` drifted, or any feature when the rule names none."""
    drift = _judged_features(rule, run, results)
    if drift is None:
        return None
    drifted = drifted_features(drift)
    names = [d["feature"] for d in drifted]
    if len(drifted) == 1:
        title = f"feature drift: {drifted[0]['feature']} ({compared(drifted[0])})"
    else:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        title = f"feature drift: {len(names)} features ({shown})"
    clearance = float(feature_clearance(drift).min())
    effects = [e for e in (_number(d.get("effect_size")) for d in drifted) if e is not None]
    return Finding(bool(drifted), title, {"drifted_features": drifted, "n_tested": len(drift)}, clearance,
                   max(effects) if effects else None)


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
    figure: dict[str, Any] = {"metric": rule.metric, **{k: _number(row[k]) for k in keys}, "n": int(row["n"]),
              "flagged": bool(row["flagged"]), "higher_is_better": bool(higher)}
    state = row.get("state")
    if isinstance(state, str):  # an estimated_performance figure: judge the realized value once there
        realized = _number(row.get("realized_value"))
        if state == "realized" and realized is None:
            return None
        figure |= {"state": state, "unreliable": bool(details.get("unreliable")),
                   "unreliable_reasons": list(details.get("unreliable_reasons") or [])}
        figure["band"] = [figure.pop("ci_low"), figure.pop("ci_high")]
        figure |= {"ci_low": None, "ci_high": None}
        if state == "realized":
            figure |= {"estimate": figure["value"], "value": realized}
    return figure


def metric_below(rule: RuleConfig, run: RunInfo, results: RunResults) -> Finding | None:
    """Fires when the metric's value is below ``rule.value`` (the floor)."""
    metric = _metric_row(rule, results) if _succeeded(run) else None
    if metric is None or rule.value is None:
        return None
    below = metric["value"] < rule.value
    relation = "below" if below else "at or above"
    title = f"{rule.metric} {number(metric['value'])} {relation} the floor {number(rule.value)}{_ci(metric)}"
    if metric.get("state") == "estimated":
        low, high = metric["band"]
        title = f"estimated {title} (band [{number(low)}, {number(high)}], labels pending)"
    elif metric.get("state") == "realized":
        low, high = metric["band"]
        estimate = number(metric["estimate"])
        title += f" (realized from labels; estimated {estimate}, band [{number(low)}, {number(high)}])"
    if metric.get("unreliable") and metric.get("state") != "realized":
        title += " - estimate unreliable: " + "; ".join(metric["unreliable_reasons"])
    clearance = (metric["value"] - rule.value) / abs(rule.value) if rule.value else None
    return Finding(below, title, {"metric": {**metric, "floor": rule.value}}, clearance,
                   rule.value - metric["value"])


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
    title = f"{rule.metric} {_movement(value, reference, higher)}{_ci(metric)}{_test(metric)}"
    clearance = None
    if metric["p_value"] is not None and metric["threshold"]:
        clearance = (metric["p_value"] - metric["threshold"]) / metric["threshold"]
    return Finding(bool(fired), title, {"metric": {**metric, "drop": drop, "min_drop": rule.value}}, clearance,
                   drop)


def _movement(value: float, reference: float, higher_is_better: bool) -> str:
    """How the metric moved against the reference, with the direction that matters.

    Examples
    --------
    >>> _movement(21530.0, 19770.0, False)
    'rose from 19,770 to 21,530 (worse: lower is better)'
    >>> _movement(0.71, 0.80, True)
    'dropped from 0.8 to 0.71 (worse: higher is better)'
    """
    verb = "rose" if value > reference else "dropped" if value < reference else "held"
    worse = value < reference if higher_is_better else value > reference
    judged = "worse" if worse else "better" if value != reference else "unchanged"
    better = "higher" if higher_is_better else "lower"
    return f"{verb} from {number(reference)} to {number(value)} ({judged}: {better} is better)"


def _test(metric: dict[str, Any]) -> str:
    if metric["p_value"] is None:
        return ""
    return f", one-sided {p_value_text(metric['p_value'], metric['threshold'])}"


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
    top_rise = float(rise.max()) if len(rise) else None
    clearance = None if top_rise is None or not margin else (margin - top_rise) / margin
    if rows:
        top = rows[0]
        title = (f"missing values: {top['feature']} missing in {top['missing_share_current']:.0%} of rows "
                 f"(reference {top['missing_share_reference']:.0%})")
        if len(rows) > 1:
            title += f" and {len(rows) - 1} more features"
    else:
        title = "missing values: no feature above its reference share"
    return Finding(bool(rows), title, {"features": rows, "margin": margin}, clearance, top_rise)


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


def _above(rule: RuleConfig, run: RunInfo, results: RunResults, metric: str, limit: float | None,
           describe: str) -> Finding | None:
    """Fires when ``metric`` of the run is above ``limit``; no verdict without a value."""
    row = _metric_row(rule.model_copy(update={"metric": metric}), results) if _succeeded(run) else None
    if row is None or limit is None:
        return None
    above = row["value"] > limit
    title = f"{describe} {number(row['value'])} {'above' if above else 'at or below'} the limit {number(limit)}"
    clearance = (limit - row["value"]) / limit if limit else None
    return Finding(bool(above), title + _ci(row), {"metric": {**row, "limit": limit}}, clearance,
                   row["value"] - limit)


def latency_above(rule: RuleConfig, run: RunInfo, results: RunResults) -> Finding | None:
    """Fires when the window's latency percentile ``rule.percentile`` is above ``rule.value`` milliseconds."""
    return _above(rule, run, results, rule.latency_metric, rule.value, f"latency p{rule.percentile or 0:g} (ms)")


def error_rate_above(rule: RuleConfig, run: RunInfo, results: RunResults) -> Finding | None:
    """Fires when the window's error rate (errors / requests, timeouts not included) is above ``rule.value``."""
    return _above(rule, run, results, "error_rate", rule.value, "error rate")


def model_age_above(rule: RuleConfig, run: RunInfo, results: RunResults) -> Finding | None:
    """Fires when the version's age at the window's end (days since ``trained_at``) is above ``rule.days``."""
    return _above(rule, run, results, "model_age_days", rule.days, "model age (days)")


def _ci(metric: dict[str, Any]) -> str:
    if metric["ci_low"] is None or metric["ci_high"] is None:
        return ""
    return f" (CI [{number(metric['ci_low'])}, {number(metric['ci_high'])}])"


CHECKS: dict[str, Check] = {
    "dataset_drift": dataset_drift,
    "feature_drift": feature_drift,
    "metric_below": metric_below,
    "metric_drop": metric_drop,
    "detector_fired": detector_fired,
    "missing_values": missing_values,
    "run_failed": run_failed,
    "latency_above": latency_above,
    "error_rate_above": error_rate_above,
    "model_age_above": model_age_above,
}
