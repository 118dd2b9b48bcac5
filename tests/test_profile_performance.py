"""Performance from label profiles agrees with the rows path and scikit-learn within the documented bounds."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from driftscope.monitors.performance import PerformanceMonitor
from driftscope.monitors.profiles.moments import r2_standard_error
from driftscope.monitors.profiles.performance import ProfilePerformanceMonitor
from driftscope.storage.profiles.labelled import LEGACY_MOMENTS, LabelledProfile, merge_all, profile_rows

CONFUSION = ("accuracy", "precision", "recall", "f1", "f1_macro", "specificity")
BINARY = (*CONFUSION, "roc_auc", "brier", "log_loss")
REGRESSION = ("mae", "rmse", "mape", "r2")


def _binary(n: int, seed: int, flip: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    probability = rng.uniform(size=n)
    label = (rng.uniform(size=n) < probability).astype(np.int64)
    label = np.where(rng.uniform(size=n) < flip, 1 - label, label)
    return pd.DataFrame({"prediction": (probability > 0.5).astype(np.int64), "probability": probability,
                         "label": label})


def _both(task: str, metrics: tuple[str, ...], reference: pd.DataFrame, window: pd.DataFrame, **kwargs: object
          ) -> tuple[dict, dict]:
    params = {"metrics": list(metrics), "n_bootstrap": 200, "min_labels": 50, **kwargs}
    rows = PerformanceMonitor(task, **params).fit(reference).evaluate(window)  # type: ignore[arg-type]
    text = window.assign(label=window["label"].astype(str))
    profile = merge_all(profile_rows(text.iloc[i::5], task) for i in range(5))  # parts, merged
    by_profile = ProfilePerformanceMonitor(task, **params).fit(reference).evaluate_profile(  # type: ignore[arg-type]
        profile, n_rows=len(window))
    assert (by_profile.n_labels, by_profile.n_rows) == (rows.n_labels, rows.n_rows)
    return {m.metric: m for m in rows.metrics}, {m.metric: m for m in by_profile.metrics}


@settings(max_examples=25, deadline=None)
@given(n=st.integers(60, 600), seed=st.integers(0, 10_000), flip=st.floats(0.0, 0.5))
def test_binary_metrics_from_profiles_match_rows_and_sklearn(n: int, seed: int, flip: float) -> None:
    rows, profile = _both("binary_classification", BINARY, _binary(2000, 1, 0.0), window := _binary(n, seed, flip),
                          has_probability=True)
    y, pred, p = window["label"], window["prediction"], window["probability"]
    sklearn = {"accuracy": skm.accuracy_score(y, pred), "precision": skm.precision_score(y, pred, zero_division=0),
               "recall": skm.recall_score(y, pred, zero_division=0), "f1": skm.f1_score(y, pred, zero_division=0),
               "f1_macro": skm.f1_score(y, pred, average="macro", zero_division=0),
               "specificity": skm.recall_score(1 - y, 1 - pred, zero_division=0),
               "brier": skm.brier_score_loss(y, p), "log_loss": skm.log_loss(y, p, labels=[0, 1])}
    for name in CONFUSION:  # counts of the confusion matrix: exact
        assert profile[name].value == pytest.approx(rows[name].value, abs=1e-12) == pytest.approx(sklearn[name])
        assert profile[name].error_bound is None and profile[name].path == "profile"
    for name in ("brier", "log_loss"):  # sums of the probabilities: exact up to rounding
        assert profile[name].value == pytest.approx(sklearn[name], rel=1e-9)
    auc = profile["roc_auc"]
    if y.nunique() == 2:  # binned scores: within the bound computed from the histograms
        exact = skm.roc_auc_score(y, p)
        assert rows["roc_auc"].value == pytest.approx(exact)
        assert 0 <= auc.error_bound < 0.01
        assert abs(auc.value - exact) <= auc.error_bound + 1e-12
    else:
        assert auc.status == "undefined"


def test_binned_roc_auc_is_exact_when_no_bin_holds_both_classes() -> None:
    window = pd.DataFrame({"prediction": [0, 0, 1, 1], "probability": [0.1, 0.35, 0.4, 0.8], "label": [0, 1, 0, 1]})
    _, profile = _both("binary_classification", ("roc_auc",), _binary(500, 1, 0.0), window, has_probability=True,
                       min_labels=1)
    assert profile["roc_auc"].value == skm.roc_auc_score(window["label"], window["probability"]) == 0.75
    assert profile["roc_auc"].error_bound == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_regression_metrics_from_moments_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.normal(100, 25, 400)

    def frame(values: np.ndarray, noise: float) -> pd.DataFrame:
        return pd.DataFrame({"prediction": values + rng.normal(0, noise, values.size), "label": values})

    rows, profile = _both("regression", REGRESSION, frame(rng.normal(100, 25, 1000), 5.0), window := frame(y, 8.0))
    truth, estimate = window["label"], window["prediction"]
    sklearn = {"mae": skm.mean_absolute_error(truth, estimate),
               "rmse": np.sqrt(skm.mean_squared_error(truth, estimate)),
               "mape": skm.mean_absolute_percentage_error(truth, estimate), "r2": skm.r2_score(truth, estimate)}
    for name in REGRESSION:
        assert profile[name].value == pytest.approx(sklearn[name], rel=1e-9) == pytest.approx(rows[name].value)
    for name in REGRESSION:  # the error grew from 5 to 8: both paths call the drop
        assert rows[name].flagged and profile[name].flagged, name
        low, high = profile[name].ci_low, profile[name].ci_high
        assert low < profile[name].value < high
        assert "no_interval" not in profile[name].details


def _regression_rows(kind: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Targets and predictions: normal, skewed (lognormal target, errors growing with it), heavy-tailed errors."""
    if kind == "normal":
        y = rng.normal(100, 25, n)
        return y, y + rng.normal(0, 10, n)
    if kind == "skewed":
        y = rng.lognormal(3, 0.6, n)
        return y, y + rng.normal(0, 0.3, n) * y
    y = rng.normal(1e6, 50, n)  # a large offset: the centred sums keep their precision
    return y, y + rng.standard_t(5, n) * 20


@pytest.mark.parametrize("kind", ["normal", "skewed", "heavy_tailed"])
def test_r2_standard_error_matches_a_bootstrap_of_r2_on_rows(kind: str) -> None:
    """The delta-method SE from the merged moments is within 10 % of the sd of 4000 row-bootstrap R² values."""
    rng = np.random.default_rng(7)
    y, y_hat = _regression_rows(kind, 2000, rng)
    frame = pd.DataFrame({"label": y.astype(str), "prediction": y_hat})
    moments = merge_all(profile_rows(frame.iloc[i::7], "regression") for i in range(7)).moments
    se = r2_standard_error(moments)
    draws = rng.integers(0, y.size, (4000, y.size))
    boot = np.array([skm.r2_score(y[i], y_hat[i]) for i in draws])
    assert se == pytest.approx(boot.std(ddof=1), rel=0.10)
    assert 1.0 - moments[3] / moments[8] == pytest.approx(skm.r2_score(y, y_hat), rel=1e-9)


def test_r2_of_legacy_moments_has_no_interval_and_the_other_metrics_are_unaffected() -> None:
    rng = np.random.default_rng(2)
    y, y_hat = _regression_rows("normal", 500, rng)
    window = profile_rows(pd.DataFrame({"label": y.astype(str), "prediction": y_hat}), "regression")
    legacy = LabelledProfile.from_json(*(lambda cells, moments: (cells, moments[:LEGACY_MOMENTS]))(*window.to_json()))
    assert window.has_r2_sums and not legacy.has_r2_sums
    y_ref, y_hat_ref = _regression_rows("normal", 1000, rng)
    monitor = ProfilePerformanceMonitor("regression", metrics=list(REGRESSION), n_bootstrap=200, min_labels=50).fit(
        pd.DataFrame({"label": y_ref, "prediction": y_hat_ref}))
    new = {m.metric: m for m in monitor.evaluate_profile(window, n_rows=500).metrics}
    old = {m.metric: m for m in monitor.evaluate_profile(legacy, n_rows=500).metrics}
    assert old["r2"].value == new["r2"].value and new["r2"].ci_low is not None and new["r2"].p_value is not None
    assert old["r2"].ci_low is old["r2"].p_value is None and "backfill-profiles" in old["r2"].details["no_interval"]
    for name in ("mae", "rmse", "mape"):
        assert (old[name].value, old[name].ci_low, old[name].ci_high) == (new[name].value, new[name].ci_low,
                                                                          new[name].ci_high)
        assert "no_interval" not in old[name].details


def test_multiclass_confusion_metrics_match_rows() -> None:
    rng = np.random.default_rng(3)

    def frame(n: int, noise: float) -> pd.DataFrame:
        label = rng.choice(["a", "b", "c"], n)
        return pd.DataFrame({"prediction": np.where(rng.uniform(size=n) < noise, rng.choice(["a", "b", "c"], n), label),
                             "label": label})

    metrics = ("accuracy", "precision", "recall", "f1_macro")
    rows, profile = _both("multiclass_classification", metrics, frame(1000, 0.1), frame(500, 0.5))
    for name in metrics:
        assert profile[name].value == pytest.approx(rows[name].value, abs=1e-12)
        assert profile[name].flagged == rows[name].flagged is True


def test_an_unchanged_window_is_not_called_degraded_on_either_path() -> None:
    rows, profile = _both("binary_classification", BINARY, _binary(3000, 1, 0.0), _binary(1500, 2, 0.0),
                          has_probability=True)
    assert not any(m.flagged for m in rows.values()) and not any(m.flagged for m in profile.values())


MULTICLASS_PROBA = ("roc_auc", "roc_auc_weighted", "log_loss", "brier")


def _multiclass(n: int, seed: int, signal: float, classes: list[str]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Rows with softmax probabilities per class (``signal`` on the true class's logit); every class labelled."""
    rng = np.random.default_rng(seed)
    k = len(classes)
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), y] += signal
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    frame = pd.DataFrame({"label": np.array(classes)[y], "prediction": np.array(classes)[p.argmax(axis=1)]})
    for i, name in enumerate(classes):
        frame[f"probability:{name}"] = p[:, i]
    return frame, y, p


@settings(max_examples=20, deadline=None)
@given(n=st.integers(60, 600), seed=st.integers(0, 10_000), signal=st.floats(0.0, 4.0), k=st.integers(3, 5))
def test_multiclass_probability_metrics_from_profiles_match_rows_and_sklearn(n: int, seed: int, signal: float,
                                                                             k: int) -> None:
    classes = ["ant", "bee", "cat", "dog", "eel"][:k]
    window, y, p = _multiclass(n, seed, signal, classes)
    rows, profile = _both("multiclass_classification", MULTICLASS_PROBA, _multiclass(1500, 1, 2.0, classes)[0],
                          window, has_probability=True, probability_classes=classes)
    sklearn = {"roc_auc": skm.roc_auc_score(y, p, multi_class="ovr", average="macro"),
               "roc_auc_weighted": skm.roc_auc_score(y, p, multi_class="ovr", average="weighted"),
               "log_loss": skm.log_loss(y, p, labels=list(range(k))),
               "brier": np.mean(((p - np.eye(k)[y]) ** 2).sum(axis=1))}
    for name in ("log_loss", "brier"):  # sums of the true class's probability: exact up to rounding
        assert profile[name].value == pytest.approx(sklearn[name], rel=1e-9) == pytest.approx(rows[name].value)
        assert profile[name].error_bound is None and profile[name].ci_low < profile[name].value < profile[name].ci_high
    for name in ("roc_auc", "roc_auc_weighted"):  # binned scores per class: within the mean of the class bounds
        assert rows[name].value == pytest.approx(sklearn[name], rel=1e-12)
        assert 0 <= profile[name].error_bound < 0.01 and profile[name].path == "profile"
        assert abs(profile[name].value - sklearn[name]) <= profile[name].error_bound + 1e-12


def test_multiclass_auc_interval_is_conservative_and_drops_are_called_on_both_paths() -> None:
    """The comonotone coupling: the AUC interval is wider than the rows path's, not narrower; a real drop is called."""
    classes = ["a", "b", "c", "d"]
    rows, profile = _both("multiclass_classification", ("accuracy", *MULTICLASS_PROBA),
                          _multiclass(3000, 1, 2.0, classes)[0], _multiclass(800, 2, 1.5, classes)[0],
                          has_probability=True, probability_classes=classes, n_bootstrap=1000)
    for name in ("roc_auc", "roc_auc_weighted"):
        width = profile[name].ci_high - profile[name].ci_low
        assert 1.0 < width / (rows[name].ci_high - rows[name].ci_low) < 2.5, name
    for name in ("accuracy", *MULTICLASS_PROBA):
        assert rows[name].flagged and profile[name].flagged, name


def test_an_unchanged_multiclass_window_is_not_called_degraded() -> None:
    classes = ["a", "b", "c"]
    rows, profile = _both("multiclass_classification", MULTICLASS_PROBA, _multiclass(3000, 1, 2.0, classes)[0],
                          _multiclass(1500, 5, 2.0, classes)[0], has_probability=True, probability_classes=classes)
    assert not any(m.flagged for m in rows.values()) and not any(m.flagged for m in profile.values())


def test_a_multiclass_profile_without_scores_leaves_the_probability_metrics_undefined() -> None:
    """Stored before per-class probabilities were profiled: undefined with the reason; confusion metrics unaffected."""
    classes = ["a", "b", "c"]
    window = _multiclass(400, 3, 1.0, classes)[0]
    cells, moments = profile_rows(window, "multiclass_classification").to_json()
    legacy = LabelledProfile.from_json({k: v for k, v in cells.items() if k != "scores"}, moments)
    assert legacy.scores is None
    monitor = ProfilePerformanceMonitor("multiclass_classification", metrics=["accuracy", *MULTICLASS_PROBA],
                                        has_probability=True, probability_classes=classes, n_bootstrap=200).fit(
        _multiclass(1000, 1, 2.0, classes)[0])
    result = {m.metric: m for m in monitor.evaluate_profile(legacy, n_rows=400).metrics}
    assert result["accuracy"].status == "ok" and result["accuracy"].value == np.mean(window["label"] ==
                                                                                     window["prediction"])
    for name in MULTICLASS_PROBA:
        assert result[name].status == "undefined" and "backfill-profiles" in result[name].details["reason"]


def test_lake_label_profiles_carry_the_per_class_probabilities() -> None:
    """The lake's record batches (local engine and Spark tasks alike) give the profile ingesting the rows gives."""
    import pyarrow as pa

    from driftscope.collectors.lake_labels import batch_label_profiles

    classes = ["a", "b", "c"]
    frame = _multiclass(300, 4, 1.0, classes)[0]
    dataset = frame.rename(columns={f"probability:{c}": f"p_{c}" for c in classes} | {"label": "kind"})
    columns = {"prediction": "prediction", **{f"probability:{c}": f"p_{c}" for c in classes}, "label": "kind"}
    got = batch_label_profiles(pa.RecordBatch.from_pandas(dataset), np.zeros(300, dtype=np.int64), columns,
                               "multiclass_classification", {})[0]
    want = profile_rows(frame, "multiclass_classification")
    assert got.scores is not None and want.scores is not None
    assert got.scores.ovr == want.scores.ovr and sorted(got.scores.pairs) == sorted(want.scores.pairs)
