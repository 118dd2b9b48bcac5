"""PerformanceMonitor: verdicts, coverage, insufficient labels, comparison with the reference."""

import numpy as np
import pandas as pd
import pytest
from helpers_monitor import credit_frame
from hypothesis import given, settings
from hypothesis import strategies as st

from driftscope.errors import NotFittedError, SchemaError
from driftscope.monitors.performance import PerformanceMonitor, holm_adjust


def monitor(**kwargs) -> PerformanceMonitor:
    settings_ = {"has_probability": True, "n_bootstrap": 300, "min_labels": 100} | kwargs
    return PerformanceMonitor("binary_classification", **settings_)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return credit_frame(3000, seed=100)


@pytest.mark.parametrize(("kind", "verdict"), [("none", "ok"), ("covariate", "ok"), ("performance", "degraded")])
def test_verdict_follows_the_injected_change(reference: pd.DataFrame, kind: str, verdict: str) -> None:
    result = monitor().fit(reference).evaluate(credit_frame(1500, kind=kind, seed=7))
    assert result.verdict == verdict
    flagged = {m.metric for m in result.metrics if m.flagged}
    assert (flagged >= {"accuracy", "roc_auc", "log_loss", "brier"}) if verdict == "degraded" else not flagged


def test_results_carry_interval_reference_and_conventions(reference: pd.DataFrame) -> None:
    result = monitor(metrics=["roc_auc", "log_loss"]).fit(reference).evaluate(credit_frame(1500, seed=8))
    auc, loss = result.metrics
    assert auc.ci_low < auc.value < auc.ci_high and loss.ci_low < loss.value < loss.ci_high
    assert auc.reference_value == pytest.approx(0.86, abs=0.03)
    assert 0 < auc.p_value <= 1 and auc.threshold == 0.05 and auc.n == 1500
    assert auc.details["higher_is_better"] and not loss.details["higher_is_better"]
    assert {"n_bootstrap": 300, "seed": 0, "confidence": 0.95}.items() <= auc.row()["details"].items()


def test_coverage_and_insufficient_labels(reference: pd.DataFrame) -> None:
    window = credit_frame(1000, kind="performance", seed=9)
    window.loc[window.index[60:], "label"] = np.nan
    result = monitor().fit(reference).evaluate(window)
    assert result.n_labels == 60 and result.label_coverage == pytest.approx(0.06)
    assert result.verdict == "insufficient_labels"
    assert all(m.status == "insufficient_labels" and not m.flagged and m.p_value is None for m in result.metrics)
    assert all(m.value is not None for m in result.metrics)


def test_a_window_without_labels_or_rows(reference: pd.DataFrame) -> None:
    fitted = monitor().fit(reference)
    unlabelled = credit_frame(50, seed=1).assign(label=np.nan)
    for window in (unlabelled, unlabelled.iloc[:0], unlabelled.drop(columns="label")):
        result = fitted.evaluate(window)
        assert result.n_labels == 0 and result.verdict == "insufficient_labels"
        assert all(m.value is None for m in result.metrics)
    assert fitted.evaluate(unlabelled).label_coverage == 0.0


def test_undefined_metric_has_its_own_status(reference: pd.DataFrame) -> None:
    window = credit_frame(400, seed=3).assign(label=1)
    result = monitor(metrics=["roc_auc", "recall"]).fit(reference).evaluate(window)
    auc, recall = result.metrics
    assert auc.status == "undefined" and auc.value is not None and np.isnan(auc.value)
    assert auc.row()["value"] is None and recall.status == "ok"


def test_text_labels_and_a_text_positive_label() -> None:
    frame = credit_frame(2000, seed=4)
    as_text = frame.assign(label=frame["label"].map({1: "bad", 0: "good"}),
                           prediction=frame["prediction"].map({1: "bad", 0: "good"}))
    numeric = monitor(metrics=["precision", "roc_auc"]).fit(frame.iloc[:1000]).evaluate(frame.iloc[1000:])
    text = monitor(metrics=["precision", "roc_auc"], positive_label="bad").fit(as_text.iloc[:1000])
    result = text.evaluate(as_text.iloc[1000:])
    assert [m.value for m in result.metrics] == pytest.approx([m.value for m in numeric.metrics])


def test_reference_without_labels_gives_values_but_no_verdict(reference: pd.DataFrame) -> None:
    result = monitor().fit(reference.drop(columns="label")).evaluate(credit_frame(800, kind="performance", seed=5))
    assert result.verdict == "ok"
    assert all(m.reference_value is None and m.p_value is None and m.status == "ok" for m in result.metrics)


def test_regression_drop_is_flagged() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(100, 20, 3000)
    reference = pd.DataFrame({"label": y[:1500], "prediction": y[:1500] + rng.normal(0, 5, 1500)})
    worse = pd.DataFrame({"label": y[1500:], "prediction": y[1500:] + rng.normal(0, 9, 1500)})
    result = PerformanceMonitor("regression", n_bootstrap=300).fit(reference).evaluate(worse)
    assert result.verdict == "degraded"
    assert {m.metric for m in result.metrics if m.flagged} == {"mae", "rmse", "mape", "r2"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metrics": ["mae"]}, "does not apply to a binary_classification model"),
        ({"metrics": ["roc_auc"], "has_probability": False}, "needs the probability of the positive class"),
        ({"metrics": ["auc"]}, "unknown metric 'auc'"),
    ],
    ids=["wrong-task", "no-probability", "unknown"],
)
def test_bad_metric_configuration_is_refused_at_fit(reference: pd.DataFrame, kwargs: dict, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        monitor(**kwargs).fit(reference)


def test_evaluate_before_fit() -> None:
    with pytest.raises(NotFittedError, match=r"call fit\(reference\) first"):
        monitor().evaluate(credit_frame(10))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(150, 600))
def test_the_reference_itself_is_never_a_significant_drop(seed: int, n: int) -> None:
    frame = credit_frame(n, seed=seed)
    result = monitor(n_bootstrap=100).fit(frame).evaluate(frame)
    assert result.verdict == "ok"
    assert all(m.p_value is None or m.p_value > 0.05 for m in result.metrics)
    assert all(m.value == pytest.approx(m.reference_value) for m in result.metrics)


@given(st.lists(st.floats(0, 1), min_size=1, max_size=12))
def test_holm_adjustment_properties(p: list[float]) -> None:
    raw = np.array(p)
    adjusted = holm_adjust(raw)
    assert (adjusted >= raw - 1e-15).all() and (adjusted <= 1).all()
    order = np.argsort(raw, kind="stable")
    assert (np.diff(adjusted[order]) >= -1e-15).all()
    assert adjusted.min() == pytest.approx(min(1.0, raw.min() * raw.size))


def test_stored_p_values_are_holm_adjusted(reference: pd.DataFrame) -> None:
    result = monitor().fit(reference).evaluate(credit_frame(1500, kind="performance", seed=7))
    raw = np.array([m.details["p_value_unadjusted"] for m in result.metrics])
    assert [m.p_value for m in result.metrics] == pytest.approx(holm_adjust(raw).tolist())


def test_multiclass_text_labels_use_macro_averages() -> None:
    rng = np.random.default_rng(2)
    classes = np.array(["low", "mid", "high"])
    y = rng.choice(classes, 3000)
    good = np.where(rng.uniform(size=3000) < 0.85, y, rng.choice(classes, 3000))
    bad = np.where(rng.uniform(size=3000) < 0.55, y, rng.choice(classes, 3000))
    reference = pd.DataFrame({"label": y[:1500], "prediction": good[:1500]})
    fitted = PerformanceMonitor("multiclass_classification", n_bootstrap=200).fit(reference)
    assert [m.name for m in fitted.metrics_] == ["accuracy", "precision", "recall", "f1", "f1_macro"]
    result = fitted.evaluate(pd.DataFrame({"label": y[1500:], "prediction": bad[1500:]}))
    assert result.verdict == "degraded"
    f1, f1_macro = result.metrics[3], result.metrics[4]
    assert f1.value == f1_macro.value and f1.flagged
