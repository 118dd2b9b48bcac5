"""A version's reference and the windows the collectors store hold features in the same form.

If they did not (int 1 in the reference, float 1.0 in a window), every categorical comparison would
see two different categories, and a domain classifier would tell the sides apart perfectly.
"""

from datetime import timedelta

import pandas as pd
import pytest
from factories import CREDIT_SCHEMA, T0, canonical_predictions, write_project

from driftscope.apply import apply_config, canonical_reference
from driftscope.collectors import log_ground_truth, log_predictions
from driftscope.config import load_config
from driftscope.errors import SchemaError
from driftscope.monitors.domain_classifier import DomainClassifier
from driftscope.monitors.windows import LABEL_COLUMN
from driftscope.storage.db import transaction
from driftscope.storage.labels import labels_for_window
from driftscope.storage.predictions import read_window
from driftscope.storage.registry import get_version, load_reference


def _logged_rows(n: int, seed: int) -> pd.DataFrame:
    rows = canonical_predictions(n, seed=seed).rename(
        columns={"prediction_id": "request_id", "prediction": "predicted_label", "probability": "score"})
    rows["defaulted"] = (rows["score"] > 0.6).astype(int)
    return rows


def test_reference_and_windows_agree(sqlite_engine, tmp_path) -> None:
    config = load_config(write_project(tmp_path, str(sqlite_engine.url), n_reference=1500))
    apply_config(config, sqlite_engine)
    rows = _logged_rows(1500, seed=2)
    assert log_predictions("credit-default", "1.0", rows, engine=sqlite_engine).rows_stored == 1500
    log_ground_truth("credit-default", rows[["request_id", "defaulted", "ts"]], engine=sqlite_engine)
    with transaction(sqlite_engine) as session:
        version = get_version(session, "credit-default", "1.0")
        reference = load_reference(session, model_version_id=version.id)
        window = read_window(session, model_version_id=version.id, start=T0, end=T0 + timedelta(days=2))
        labels = labels_for_window(session, model_id=version.model_id, model_version_id=version.id,
                                   start=T0, end=T0 + timedelta(days=2))
    for feature, kind in CREDIT_SCHEMA["features"].items():
        ref_values, cur_values = reference[feature], window[feature]
        if kind == "numeric":
            assert ref_values.dtype == cur_values.dtype == "float64", feature
        else:
            assert set(map(str, cur_values.dropna().unique())) <= set(map(str, ref_values.dropna().unique())), feature
    window = window.merge(labels, on="prediction_id")
    window[LABEL_COLUMN] = window["label"].astype(int)
    result = DomainClassifier(CREDIT_SCHEMA["features"], regression=False).fit(reference).evaluate(window)
    assert result.auc_features < 0.6 and not result.flagged


def test_reference_with_values_that_do_not_fit_is_refused(tmp_path) -> None:
    rows = _logged_rows(20, seed=3).astype({"has_card": object, "income": object})
    rows.loc[4, "has_card"] = "perhaps"
    rows.loc[7, "income"] = "lots"
    path = tmp_path / "ref.csv"
    rows.to_csv(path, index=False)
    schema = load_config(write_project(tmp_path, "sqlite://")).model("credit-default").schema_
    with pytest.raises(SchemaError) as info:
        canonical_reference(str(path), schema)
    message = str(info.value)
    assert "ref.csv" in message and "has_card (binary): 1 invalid values" in message and "'perhaps'" in message
    assert "income (numeric)" in message and "rows [7]" in message


@pytest.mark.parametrize("spelling", [float, str, lambda v: f"{v}.0"], ids=["float", "text", "text-float"])
def test_domain_classifier_ignores_how_a_category_number_is_spelled(spelling) -> None:
    frame = canonical_predictions(3000, seed=5).rename(columns={"probability": "score"})
    frame[LABEL_COLUMN] = (frame["score"] > 0.6).astype(int)
    reference, current = frame.iloc[:1500], frame.iloc[1500:].copy()
    current["has_card"] = current["has_card"].map(spelling)
    result = DomainClassifier(CREDIT_SCHEMA["features"], regression=False).fit(reference).evaluate(current)
    assert result.auc_features < 0.6
