"""CBPE and DLE (pure): convergence on calibrated synthetic models, bands, limits; multiclass metrics vs sklearn."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    log_loss,
    multilabel_confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)

from driftscope.errors import NotFittedError
from driftscope.monitors.estimation.cbpe import CBPE, CBPE_METRICS, _count_metrics, _expected_auc, _rank_auc
from driftscope.monitors.estimation.dle import DLE
from driftscope.monitors.estimation.monitor import EstimatedPerformanceMonitor
from driftscope.monitors.metrics import METRICS, classification_data
from driftscope.monitors.performance import PerformanceMonitor

CLASSES = ("basic", "plus", "premium")


def _binary(n: int, seed: int) -> pd.DataFrame:
    """A perfectly calibrated binary model: the score is P(y = 1 | x)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = 1.0 / (1.0 + np.exp(-(1.2 * x - 0.4)))
    y = (rng.uniform(size=n) < p).astype(np.int64)
    return pd.DataFrame({"x": x, "probability": p, "prediction": (p >= 0.5).astype(np.int64), "label": y})


def _multiclass(n: int, seed: int) -> pd.DataFrame:
    """A calibrated three-class model: labels drawn from the logged probabilities."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    logits = np.column_stack([x[:, 0], x[:, 1], 0.5 - x[:, 0] * 0.5])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    codes = (rng.uniform(size=(n, 1)) > np.cumsum(p, axis=1)).sum(axis=1)
    names = np.array(CLASSES, dtype=object)
    frame = pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "prediction": names[p.argmax(axis=1)], "label": names[codes]})
    for k, cls in enumerate(CLASSES):
        frame[f"probability:{cls}"] = p[:, k]
    return frame


def _realized(monitor: EstimatedPerformanceMonitor, window: pd.DataFrame) -> dict[str, float | None]:
    return monitor._realized(window)


@pytest.mark.parametrize("task", ["binary_classification", "multiclass_classification"])
def test_cbpe_converges_to_the_realized_metrics_as_the_window_grows(task) -> None:
    binary = task == "binary_classification"
    make = _binary if binary else _multiclass
    features = {"x": "numeric"} if binary else {"x0": "numeric", "x1": "numeric"}
    monitor = EstimatedPerformanceMonitor(task, features, probability_classes=None if binary else CLASSES,
                                          min_labels=1).fit(make(20_000, seed=1))
    errors = {}
    for n in (500, 5_000, 100_000):
        window = make(n, seed=n)
        result = monitor.evaluate(window)
        assert result.state == "realized" and not result.unreliable_reasons
        errors[n] = max(abs(m.value - result.realized[m.metric]) for m in result.metrics)
        for m in result.metrics:
            assert m.ci_low <= result.realized[m.metric] <= m.ci_high, (n, m.metric)
    assert errors[100_000] < 0.01
    assert errors[100_000] < errors[500]


def test_band_narrows_like_one_over_root_n() -> None:
    monitor = EstimatedPerformanceMonitor("binary_classification", {"x": "numeric"}).fit(_binary(20_000, seed=1))
    widths = [monitor.evaluate(_binary(n, seed=3).drop(columns="label")).metrics[0] for n in (1_000, 16_000)]
    ratio = (widths[0].ci_high - widths[0].ci_low) / (widths[1].ci_high - widths[1].ci_low)
    assert ratio == pytest.approx(4.0, rel=0.25)


def test_windows_without_labels_are_estimated_and_the_realized_value_waits() -> None:
    monitor = EstimatedPerformanceMonitor("binary_classification", {"x": "numeric"}, min_labels=100)
    monitor.fit(_binary(5_000, seed=1))
    window = _binary(2_000, seed=2)
    window.loc[50:, "label"] = np.nan
    result = monitor.evaluate(window)
    assert result.state == "estimated" and result.n_labels == 50
    rows = result.metric_rows()
    assert {r["state"] for r in rows} == {"estimated"} and all(r["realized_value"] is None for r in rows)
    assert [r["metric"] for r in rows] == list(CBPE_METRICS)


def test_expected_auc_of_certain_outcomes_is_the_ordinary_auc() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 20, 300).astype(float)  # ties on purpose
    y = rng.integers(0, 2, 300).astype(float)
    assert _expected_auc(scores[:, None], y[:, None]) == pytest.approx(roc_auc_score(y, scores), abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 4), data=st.data())
def test_cbpe_metrics_of_certain_labels_are_sklearns_macro_metrics(k, data) -> None:
    """With 0/1 labels CBPE's formulas are the realized metrics: binary of the positive class, multiclass
    macro over all K classes (a class never predicted or never seen scores 0, sklearn's zero_division=0)."""
    n = data.draw(st.integers(2, 60))
    classes = max(k, 2)
    y = data.draw(arrays(np.int64, n, elements=st.integers(0, classes - 1)))
    pred = data.draw(arrays(np.int64, n, elements=st.integers(0, classes - 1)))
    scores = data.draw(arrays(np.float64, (n, k), elements=st.integers(0, 9).map(float)))  # ties on purpose
    onehot = (lambda v: (v[:, None] == np.arange(k)).astype(np.float64)) if k > 1 else (
        lambda v: v[:, None].astype(np.float64))
    got = _count_metrics(onehot(y)[None], onehot(pred))
    labels = list(range(classes))
    common = {"average": "binary"} if k == 1 else {"average": "macro", "labels": labels}
    confusion = multilabel_confusion_matrix(y, pred, labels=labels)[1:] if k == 1 else \
        multilabel_confusion_matrix(y, pred, labels=labels)  # binary: of the positive class only
    tn, fp = confusion[:, 0, 0], confusion[:, 0, 1]
    precision, recall, f1, _ = precision_recall_fscore_support(y, pred, zero_division=0, **common)
    expected = {
        "accuracy": accuracy_score(y, pred), "precision": precision, "recall": recall, "f1": f1,
        "specificity": np.mean(np.where(tn + fp > 0, tn / np.maximum(tn + fp, 1), 0.0)),
    }
    for name, value in expected.items():
        assert got[name][0] == pytest.approx(value, abs=1e-12), name
    present = onehot(y).sum(axis=0)
    assume(bool(((present > 0) & (present < n)).all()))
    ranks = np.column_stack([pd.Series(scores[:, j]).rank().to_numpy() for j in range(k)])
    auc = roc_auc_score(y, scores[:, 0]) if k == 1 else np.mean(
        [roc_auc_score(y == j, scores[:, j]) for j in range(k)])
    assert _rank_auc(onehot(y)[None], ranks)[0] == pytest.approx(auc, abs=1e-12)
    assert _expected_auc(scores, onehot(y)) == pytest.approx(auc, abs=1e-12)


def test_a_reference_too_small_to_calibrate_flags_the_estimate_unreliable() -> None:
    monitor = EstimatedPerformanceMonitor("binary_classification", {"x": "numeric"}).fit(_binary(60, seed=4))
    result = monitor.evaluate(_binary(1_000, seed=5))
    assert result.unreliable_reasons and "calibration error" in result.unreliable_reasons[0]
    assert result.summary()["unreliable"] is True
    drifted = EstimatedPerformanceMonitor("binary_classification", {"x": "numeric"}).fit(_binary(5_000, seed=4))
    flagged = drifted.evaluate(_binary(1_000, seed=5)).with_concept_drift(["credit-concept"])
    assert "credit-concept" in flagged.metric_rows()[0]["details"]["unreliable_reasons"][0]


def test_evaluate_before_fit_says_how_to_fix() -> None:
    with pytest.raises(NotFittedError, match=r"call fit\(reference\) first"):
        EstimatedPerformanceMonitor("regression", {"x": "numeric"}).evaluate(pd.DataFrame())
    with pytest.raises(NotFittedError, match=r"call fit\(reference\) first"):
        CBPE().calibrate(np.zeros((1, 1)))


def _regression(n: int, seed: int) -> pd.DataFrame:
    """Heteroscedastic noise: the error's size depends on ``x`` and on the category, which DLE learns."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 3, n)
    group = rng.choice(["a", "b"], n)
    noise = rng.normal(size=n) * (0.2 + x) * np.where(group == "a", 1.0, 2.0)
    return pd.DataFrame({"x": x, "group": group, "prediction": 2 * x, "label": 2 * x + noise})


def test_dle_estimates_mae_and_rmse_of_a_shifted_window() -> None:
    features = {"x": "numeric", "group": "categorical"}
    monitor = EstimatedPerformanceMonitor("regression", features, min_labels=1).fit(_regression(20_000, seed=1))
    window = _regression(40_000, seed=2)
    window = window[window["x"] > 1.5].reset_index(drop=True)  # covariate shift to noisier rows
    result = monitor.evaluate(window)
    for m in result.metrics:
        realized = result.realized[m.metric]
        assert m.value == pytest.approx(realized, rel=0.03), m.metric
        assert m.ci_low <= realized <= m.ci_high
        assert realized > 1.3 * m.reference_value  # the shift made it worse, and DLE saw it without labels


def test_dle_of_a_model_without_error_on_the_reference_estimates_zero() -> None:
    reference = _regression(500, seed=3).assign(label=lambda f: f["prediction"])  # Poisson needs a positive total
    dle = DLE({"x": "numeric", "group": "categorical"}).fit(reference, reference["label"].to_numpy())
    for estimate in dle.estimate(_regression(200, seed=4)):
        assert (estimate.value, estimate.low, estimate.high) == (0.0, 0.0, 0.0), estimate.metric


def _multiclass_data(frame: pd.DataFrame):
    probabilities = frame[[f"probability:{c}" for c in CLASSES]].set_axis(list(CLASSES), axis=1)
    return classification_data(frame["label"], frame["prediction"], binary=False, probabilities=probabilities)


def test_multiclass_probability_metrics_match_sklearn() -> None:
    frame = _multiclass(3_000, seed=7)
    data = _multiclass_data(frame)
    ones = np.ones((1, data.n))
    proba = frame[[f"probability:{c}" for c in CLASSES]].to_numpy()
    y = frame["label"].to_numpy()

    def value(name: str) -> float:
        return float(METRICS[name].func(data, ones)[0])

    assert value("roc_auc") == pytest.approx(roc_auc_score(y, proba, multi_class="ovr", average="macro"), abs=1e-12)
    assert value("roc_auc_weighted") == pytest.approx(
        roc_auc_score(y, proba, multi_class="ovr", average="weighted"), abs=1e-12)
    assert value("log_loss") == pytest.approx(log_loss(y, proba, labels=list(CLASSES)), abs=1e-12)
    assert value("brier") == pytest.approx(brier_score_loss(y, proba, labels=list(CLASSES), scale_by_half=False),
                                           abs=1e-12)


def test_performance_monitor_computes_multiclass_probability_metrics() -> None:
    reference, window = _multiclass(2_000, seed=1), _multiclass(1_500, seed=2)
    monitor = PerformanceMonitor("multiclass_classification", metrics=["roc_auc", "log_loss", "brier", "f1"],
                                 has_probability=True, probability_classes=CLASSES, n_bootstrap=100).fit(reference)
    result = {m.metric: m for m in monitor.evaluate(window).metrics}
    proba = window[[f"probability:{c}" for c in CLASSES]].to_numpy()
    assert result["roc_auc"].value == pytest.approx(roc_auc_score(window["label"], proba, multi_class="ovr"))
    assert result["log_loss"].value == pytest.approx(log_loss(window["label"], proba, labels=list(CLASSES)))
    assert result["brier"].ci_low < result["brier"].value < result["brier"].ci_high


CHURN_SCHEMA = {"id": "customer_id", "timestamp": "scored_at", "prediction": "plan",
                "probabilities": {"basic": "p_basic", "plus": "p_plus", "premium": "p_premium"},
                "target": "actual_plan", "features": {"tenure_months": "numeric", "region": "categorical"}}


def test_the_churn_model_with_per_class_probabilities_is_accepted_and_its_columns_validated(tmp_path) -> None:
    from driftscope.collectors.target import Target, VersionPlan
    from driftscope.collectors.validate import validate_batch
    from driftscope.config import parse_config
    from driftscope.config.references import reference_errors

    document = {
        "models": [{"name": "churn", "task": "multiclass_classification",
                    "versions": [{"version": "2", "reference": "r.parquet"}], "schema": CHURN_SCHEMA}],
        "monitors": [
            {"name": "perf", "model": "churn", "kind": "performance",
             "metrics": ["roc_auc", "log_loss", "brier", "f1"]},
            {"name": "est", "model": "churn", "kind": "estimated_performance", "metrics": ["roc_auc", "accuracy"]},
        ],
    }
    assert reference_errors(parse_config(document, base_dir=tmp_path)) == []
    plan = VersionPlan(1, "2", CHURN_SCHEMA, prediction_kind="str", label_kind="str", categories={})
    target = Target(source="t", records="predictions", model="churn", model_id=1, versions={"2": plan},
                    default_version="2", version_column=None, mapping={})
    raw = pd.DataFrame({"customer_id": ["a", "b"], "scored_at": ["2026-01-01T00:00:00Z"] * 2,
                        "plan": ["basic", "plus"],
                        "p_basic": [0.7, 0.2], "p_plus": [0.2, 1.3], "p_premium": [0.1, 0.1],
                        "tenure_months": [3, 4], "region": ["n", "s"]})
    validated = validate_batch(raw, target, origin="test", now=pd.Timestamp("2026-01-02", tz="UTC"))
    [rows] = validated.predictions
    stored = rows.frame[["probability:basic", "probability:plus", "probability:premium"]]
    assert stored.iloc[0].tolist() == [0.7, 0.2, 0.1]
    assert validated.bad_positions.tolist() == [1] and "p_plus" in validated.bad_reasons[0]


def test_a_multiclass_model_refuses_a_single_probability_column(tmp_path) -> None:
    from driftscope.config import parse_config
    from driftscope.errors import ConfigError

    schema = {k: v for k, v in CHURN_SCHEMA.items() if k != "probabilities"} | {"probability": "p_basic"}
    document = {"models": [{"name": "churn", "task": "multiclass_classification",
                            "versions": [{"version": "2", "reference": "r.parquet"}], "schema": schema}]}
    with pytest.raises(ConfigError, match="probabilities"):
        parse_config(document, base_dir=tmp_path)


def test_estimated_chart_draws_the_estimate_dashed_with_its_band_and_the_realized_value_solid() -> None:
    from driftscope.dashboard.charts import estimated_chart

    series = pd.DataFrame({
        "window_end": pd.date_range("2026-01-02", periods=3, freq="D", tz="UTC"), "metric": "roc_auc",
        "state": ["realized", "realized", "estimated"], "value": [0.80, 0.78, 0.70], "ci_low": [0.75, 0.73, 0.65],
        "ci_high": [0.85, 0.83, 0.75], "realized_value": [0.81, 0.77, None], "unreliable": [False, False, True],
        "n_labels": [500, 480, 0],
    })
    fig = estimated_chart(series, "roc_auc", floor=0.72)
    traces = {t.name: t for t in fig.data if t.name}
    assert traces["roc_auc estimated"].line.dash == "dash"
    assert traces["roc_auc realized"].line.dash is None and list(traces["roc_auc realized"].y) == [0.81, 0.77]
    assert traces["estimate band"].fill == "tonexty"
    assert len(traces["estimate unreliable"].x) == 1 and "alert floor" in traces
