"""Scenario: covariate-only drift, concept-only drift and a performance drop, each caught by the right monitor.

Four consecutive days go through the whole path (store -> runner -> results): a stable day, a day
whose inputs move while ``P(label | inputs)`` stays (covariate), a day whose inputs stay while the
relation changes (concept), and a day where the served model breaks (performance). See
``tests/helpers_monitor.py`` for how each change is injected.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers_monitor import applied, credit_frame, make_config, standard_monitors, store_rows
from sqlalchemy import Engine

from driftscope.monitors.runner import run_monitors
from driftscope.storage.db import transaction
from driftscope.storage.results import metric_values

T0 = datetime(2026, 2, 1, tzinfo=UTC)
DAYS = ("none", "covariate", "concept", "performance")


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> dict:
    """Summaries and metric rows per (day kind, monitor kind) after one backfill."""
    import shutil

    from driftscope.storage.db import make_engine

    folder = tmp_path_factory.mktemp("scenario")
    shutil.copy(sqlite_template, folder / "store.db")
    engine: Engine = make_engine(f"sqlite:///{folder / 'store.db'}")
    config = applied(engine, make_config(folder, str(engine.url), standard_monitors(), n=4000))
    for day, kind in enumerate(DAYS):
        store_rows(engine, config, credit_frame(2000, kind=kind, seed=200 + day, id_prefix=f"{kind}-",
                                                start=(T0 + timedelta(days=day)).replace(tzinfo=None)))
    runs = run_monitors(engine, config, backfill_from=T0, now=T0 + timedelta(days=len(DAYS)))
    out = {}
    with transaction(engine) as session:
        for run in runs:
            kind = DAYS[(run.window_start - T0).days]
            assert run.status == "succeeded", run.error
            rows = metric_values(session, run_id=run.id)
            out[(kind, run.kind)] = (run.summary, {r.metric: r for r in rows.itertuples()})
    engine.dispose()
    return out


@pytest.mark.parametrize(("kind", "data", "performance", "concept"), [
    ("none", False, "ok", False),
    ("covariate", True, "ok", False),
    ("concept", False, "degraded", True),
    ("performance", False, "degraded", False),
])
def test_each_change_is_caught_by_the_right_monitor(verdicts: dict, kind: str, data: bool, performance: str,
                                                    concept: bool) -> None:
    drift, _ = verdicts[(kind, "data_drift")]
    perf, _ = verdicts[(kind, "performance")]
    concept_summary, concept_rows = verdicts[(kind, "concept_drift")]
    assert drift["dataset_drift"] is data
    assert perf["verdict"] == performance
    assert concept_summary["concept_drift"] is concept
    assert concept_rows["domain_classifier"].flagged is concept


def test_inputs_moving_is_told_apart_from_the_relation_changing(verdicts: dict) -> None:
    _, covariate = verdicts[("covariate", "concept_drift")]
    _, concept = verdicts[("concept", "concept_drift")]
    # the features alone tell the covariate day from the reference, not the concept day ...
    assert covariate["domain_auc_features"].value > 0.8 > 0.6 > concept["domain_auc_features"].value
    # ... and the label adds separation only on the concept day
    assert concept["domain_classifier"].value > 0.05 > covariate["domain_classifier"].value


def test_model_outputs_do_not_move_under_concept_drift(verdicts: dict) -> None:
    drift, _ = verdicts[("concept", "data_drift")]
    assert drift["prediction_drift"] is False and drift["n_drifted"] == 0


def test_the_performance_drop_is_significant_and_sized(verdicts: dict) -> None:
    _, rows = verdicts[("performance", "performance")]
    auc = rows["roc_auc"]
    assert auc.flagged and auc.p_value < 0.05
    assert auc.ci_high < auc.reference_value - 0.05
