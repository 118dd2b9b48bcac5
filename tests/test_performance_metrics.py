"""Performance metrics against scikit-learn and Evidently; the vectorised bootstrap against a plain loop."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from driftscope.monitors.bootstrap import drop_p_value, percentile_interval, resample, weight_blocks
from driftscope.monitors.metrics import (
    EPS,
    METRICS,
    classification_data,
    default_metrics,
    regression_data,
    weighted_roc_auc,
)

BINARY = ("accuracy", "precision", "recall", "f1", "f1_macro", "roc_auc", "log_loss", "brier")
MULTICLASS = ("accuracy", "precision", "recall", "f1", "f1_macro")
REGRESSION = ("mae", "rmse", "mape", "r2")


def sklearn_binary(name: str, y: np.ndarray, pred: np.ndarray, proba: np.ndarray) -> float:
    return {
        "accuracy": lambda: skm.accuracy_score(y, pred),
        "precision": lambda: skm.precision_score(y, pred, zero_division=0),
        "recall": lambda: skm.recall_score(y, pred, zero_division=0),
        "f1": lambda: skm.f1_score(y, pred, zero_division=0),
        "f1_macro": lambda: skm.f1_score(y, pred, average="macro", zero_division=0),
        "roc_auc": lambda: skm.roc_auc_score(y, proba),
        "log_loss": lambda: skm.log_loss(y, proba, labels=[0, 1]),
        "brier": lambda: skm.brier_score_loss(y, proba, pos_label=1),
    }[name]()


def sklearn_multiclass(name: str, y: np.ndarray, pred: np.ndarray) -> float:
    if name == "accuracy":
        return skm.accuracy_score(y, pred)
    scorer = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score,
              "f1_macro": skm.f1_score}[name]
    return scorer(y, pred, average="macro", zero_division=0)


def sklearn_regression(name: str, y: np.ndarray, pred: np.ndarray) -> float:
    return {
        "mae": lambda: skm.mean_absolute_error(y, pred),
        "rmse": lambda: np.sqrt(skm.mean_squared_error(y, pred)),
        "mape": lambda: skm.mean_absolute_percentage_error(y, pred),
        "r2": lambda: skm.r2_score(y, pred),
    }[name]()


def binary_sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    proba = np.clip(0.35 * y + rng.uniform(size=n) * 0.65, 0, 1)
    proba[rng.uniform(size=n) < 0.1] = 0.5  # ties
    return y, (proba > 0.5).astype(int), proba


def point(name: str, data) -> float:
    return float(METRICS[name].func(data, np.ones((1, data.n)))[0])


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_metrics_equal_sklearn(name: str, seed: int) -> None:
    y, pred, proba = binary_sample(500, seed)
    data = classification_data(pd.Series(y), pd.Series(pred), binary=True, probability=pd.Series(proba))
    assert point(name, data) == pytest.approx(sklearn_binary(name, y, pred, proba), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", MULTICLASS)
def test_multiclass_metrics_are_sklearn_macro_averages(name: str) -> None:
    rng = np.random.default_rng(3)
    y = rng.choice(["cat", "dog", "eel", "fox"], 400)
    pred = np.where(rng.uniform(size=400) < 0.6, y, rng.choice(["cat", "dog", "gnu"], 400))
    data = classification_data(pd.Series(y), pd.Series(pred), binary=False)
    assert point(name, data) == pytest.approx(sklearn_multiclass(name, y, pred), rel=1e-12)


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_metrics_equal_sklearn(name: str) -> None:
    rng = np.random.default_rng(4)
    y = rng.normal(10, 4, 300)
    y[:3] = 0.0  # MAPE divides by EPS, like sklearn
    pred = y + rng.normal(0, 1.5, 300)
    data = regression_data(pd.Series(y), pd.Series(pred))
    assert point(name, data) == pytest.approx(sklearn_regression(name, y, pred), rel=1e-10)


def test_log_loss_clips_at_machine_epsilon_with_natural_log() -> None:
    data = classification_data(pd.Series([1, 0]), pd.Series([0, 1]), binary=True, probability=pd.Series([0.0, 1.0]))
    assert point("log_loss", data) == pytest.approx(-np.log(EPS), rel=1e-12)
    assert point("log_loss", data) == pytest.approx(skm.log_loss([1, 0], [0.0, 1.0]), rel=1e-12)


@pytest.mark.parametrize(
    ("name", "y", "pred", "proba", "expected"),
    [
        ("precision", [1, 1, 0], [0, 0, 0], None, 0.0),
        ("recall", [0, 0, 0], [1, 0, 1], None, 0.0),
        ("roc_auc", [1, 1, 1], [1, 1, 1], [0.2, 0.4, 0.9], None),
    ],
    ids=["precision-no-predicted-positive", "recall-no-positive", "roc-auc-one-class"],
)
def test_degenerate_cases(name, y, pred, proba, expected) -> None:
    data = classification_data(pd.Series(y), pd.Series(pred), binary=True,
                               probability=None if proba is None else pd.Series(proba))
    value = point(name, data)
    assert (np.isnan(value) if expected is None else value == expected)


def test_r2_of_a_constant_target_is_undefined() -> None:
    assert np.isnan(point("r2", regression_data(pd.Series([3.0] * 5), pd.Series([1.0, 2, 3, 4, 5]))))


@settings(max_examples=40, deadline=None)
@given(
    scores=st.lists(st.sampled_from([0.1, 0.2, 0.3, 0.5, 0.7, 0.9]), min_size=4, max_size=40),
    data=st.data(),
)
def test_weighted_auc_equals_sklearn_on_repeated_rows(scores: list[float], data: st.DataObject) -> None:
    positive = np.array(data.draw(st.lists(st.integers(0, 1), min_size=len(scores), max_size=len(scores))))
    counts = np.array(data.draw(st.lists(st.integers(0, 3), min_size=len(scores), max_size=len(scores))))
    y, s = np.repeat(positive, counts), np.repeat(np.array(scores), counts)
    value = weighted_roc_auc(np.array(scores), positive.astype(float), counts[None, :].astype(float))[0]
    if len(set(y)) < 2:
        assert np.isnan(value)
    else:
        assert value == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)


@pytest.mark.parametrize("name", BINARY + REGRESSION)
def test_bootstrap_equals_a_loop_over_explicit_resamples(name: str) -> None:
    n, resamples, seed = 60, 25, 7
    if name in REGRESSION:
        rng = np.random.default_rng(1)
        y, pred = rng.normal(5, 2, n), rng.normal(5, 2, n)
        data = regression_data(pd.Series(y), pd.Series(pred))

        def expected(rows: np.ndarray) -> float:
            return sklearn_regression(name, y[rows], pred[rows])
    else:
        y, pred, proba = binary_sample(n, 5)
        data = classification_data(pd.Series(y), pd.Series(pred), binary=True, probability=pd.Series(proba))

        def expected(rows: np.ndarray) -> float:
            return sklearn_binary(name, y[rows], pred[rows], proba[rows])
    samples = resample({name: lambda w: METRICS[name].func(data, w)}, n, resamples, seed)[name]
    draws = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    assert samples == pytest.approx([expected(rows) for rows in draws], rel=1e-9, abs=1e-12)


def test_weights_are_multinomial_counts_in_bounded_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("driftscope.monitors.bootstrap.BLOCK_CELLS", 1000)
    blocks = list(weight_blocks(300, 10, seed=0))
    assert [b.shape for b in blocks] == [(3, 300), (3, 300), (3, 300), (1, 300)]
    assert all((b.sum(axis=1) == 300).all() for b in blocks)


def test_percentile_interval_covers_the_true_mean_at_about_the_nominal_rate() -> None:
    rng = np.random.default_rng(11)
    covered = 0
    for trial in range(100):
        x = rng.exponential(1.0, 80)
        samples = resample({"mean": lambda w, x=x: w @ x / w.sum(axis=1)}, 80, 400, trial)["mean"]
        low, high = percentile_interval(samples, 0.9)
        covered += low <= 1.0 <= high
    assert 78 <= covered <= 97


@given(st.lists(st.floats(0, 1), min_size=1, max_size=50), st.lists(st.floats(0, 1), min_size=1, max_size=50),
       st.booleans())
def test_drop_p_value_is_a_probability_and_mirrors_with_direction(current, reference, higher) -> None:
    c, r = np.array(current), np.array(reference)
    p = drop_p_value(c, r, higher_is_better=higher)
    assert 0 < p <= 1
    size = min(c.size, r.size)
    assert p == pytest.approx((1 + np.count_nonzero((c[:size] - r[:size]) * (1 if higher else -1) >= 0)) / (1 + size))


def test_default_metrics_follow_task_and_probability() -> None:
    assert default_metrics("binary_classification", True) == BINARY
    assert default_metrics("multiclass_classification", False) == MULTICLASS
    assert default_metrics("multiclass_classification", True) == (
        *MULTICLASS[:5], "roc_auc", "roc_auc_weighted", "log_loss", "brier")
    assert default_metrics("regression", True) == REGRESSION


@pytest.fixture(scope="module")
def evidently_values() -> dict[str, float]:
    """Evidently 0.7's values of the shared metrics on one binary and one regression sample."""
    with warnings.catch_warnings():  # evidently's web stack (litestar) warns about its own deprecations
        warnings.simplefilter("ignore", DeprecationWarning)
        from evidently import BinaryClassification, DataDefinition, Dataset, Regression, Report
        from evidently.metrics import MAE, MAPE, RMSE, Accuracy, F1Score, LogLoss, Precision, R2Score, Recall, RocAuc

    y, _, proba = binary_sample(700, 9)
    pred = (proba >= 0.5).astype(int)  # Evidently's labels from probabilities: p >= 0.5 is positive
    frame = pd.DataFrame({"target": y, "prediction": proba})
    definition = DataDefinition(classification=[BinaryClassification(target="target", prediction_probas="prediction")])
    snapshot = Report([Accuracy(), Precision(), Recall(), F1Score(), RocAuc(), LogLoss()]).run(
        Dataset.from_pandas(frame, data_definition=definition), None)
    values = dict(zip(["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"],
                      [m["value"] for m in snapshot.dict()["metrics"]], strict=True))
    rng = np.random.default_rng(2)
    target = rng.normal(10, 3, 400)
    frame = pd.DataFrame({"target": target, "prediction": target + rng.normal(0, 1, 400)})
    definition = DataDefinition(regression=[Regression(target="target", prediction="prediction")],
                                numerical_columns=["target", "prediction"])
    snapshot = Report([MAE(), RMSE(), MAPE(), R2Score()]).run(Dataset.from_pandas(frame, data_definition=definition))
    raw = [m["value"] for m in snapshot.dict()["metrics"]]
    values |= {"mae": raw[0]["mean"], "rmse": raw[1], "mape": raw[2]["mean"] / 100.0, "r2": raw[3]}
    values["_binary"], values["_regression"] = (y, pred, proba), frame
    return values


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name", ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", *REGRESSION])
def test_metrics_agree_with_evidently(name: str, evidently_values: dict) -> None:
    if name in REGRESSION:
        frame = evidently_values["_regression"]
        data = regression_data(frame["target"], frame["prediction"])
    else:
        y, pred, proba = evidently_values["_binary"]
        data = classification_data(pd.Series(y), pd.Series(pred), binary=True, probability=pd.Series(proba))
    assert point(name, data) == pytest.approx(evidently_values[name], rel=1e-9)
