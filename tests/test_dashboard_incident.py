"""From the alert's link to the cause: the alert's windows from the store, the range its link opens, and
numbers that read the right way for a regression model (a rising MAE is worse, in red).

The stores are built through storage functions only; pages run under Streamlit's AppTest.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from driftscope.metric_direction import LOWER_IS_BETTER, higher_is_better
from driftscope.monitors.metrics import METRICS
from driftscope.storage import alerts, incidents, results
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.predictions import write_predictions
from driftscope.storage.registry import ensure_model, ensure_monitor, ensure_version

APP = Path(__file__).resolve().parent.parent / "dashboard" / "entry" / "driftscope_dashboard.py"
T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
DAYS = 20
RISE_FROM = 12  # MAE rises from this day on; the alert fires on days 12 and 13
REFERENCE_MAE = 19_779.4


def _house(session) -> tuple[int, int, int]:
    model_id, _ = ensure_model(session, name="house-price", task="regression", retrain_webhook=None)
    schema = {"id": "id", "timestamp": "ts", "prediction": "pred", "probability": None, "target": "price",
              "positive_label": None, "features": {"sqft": "numeric"}}
    version_id, _ = ensure_version(session, model_id=model_id, version="3.1", column_schema=schema, status="active")
    monitor_id, _ = ensure_monitor(session, name="house-performance", model_id=model_id, kind="performance",
                                   schedule=None, window_seconds=86_400, settings={})
    return model_id, version_id, monitor_id


def fill(engine: Engine) -> dict[str, int]:
    """A regression version with daily MAE (rising from day 12), an MAE alert fired twice and a no_data alert."""
    with transaction(engine) as session:
        _, version_id, monitor_id = _house(session)
        n = DAYS * 24
        frame = pd.DataFrame({"prediction_id": [f"h{i}" for i in range(n)],
                              "ts": pd.date_range(T0, periods=n, freq="h", tz="UTC"),
                              "prediction": np.linspace(1e5, 2e5, n), "sqft": np.linspace(50, 150, n)})
        write_predictions(session, model_version_id=version_id, frame=frame, source="test")
        for day in range(DAYS):
            mae = REFERENCE_MAE + (733.0 * (day - RISE_FROM + 1) if day >= RISE_FROM else 0.0)
            run_id = results.start_run(session, monitor_id=monitor_id, model_version_id=version_id,
                                       window_start=T0 + day * DAY, window_end=T0 + (day + 1) * DAY)
            results.add_metric_values(session, run_id=run_id, rows=[{
                "metric": "mae", "status": "ok", "value": mae, "ci_low": mae - 300, "ci_high": mae + 300,
                "reference_value": REFERENCE_MAE, "threshold": 0.05, "p_value": 1e-9 if day >= RISE_FROM else 0.4,
                "flagged": day >= RISE_FROM, "n": 24}])
            results.finish_run(session, run_id=run_id, status="succeeded", n_rows=24, n_labels=24, duration_s=0.2)
        ids = {"version": version_id}
        for day in (RISE_FROM, RISE_FROM + 1):
            end = T0 + (day + 1) * DAY
            state = alerts.fire_alert(session, rule="house-mae", kind="metric_drop", model_version_id=version_id,
                                      severity="critical", title="mae rose above the reference",
                                      evidence={"metric": {"metric": "mae", "p_value": 1e-9}},
                                      window_start=end - DAY, window_end=end, now=end + timedelta(minutes=5))
            ids["mae"] = state.id
        gap = alerts.fire_alert(session, rule="house-no-data", kind="no_data", model_version_id=version_id,
                                severity="warning", title="no data for 7 h", evidence={"silent_hours": 7},
                                window_start=T0 + 15 * DAY + HOUR * 8, window_end=T0 + 15 * DAY + HOUR * 15,
                                now=T0 + 15 * DAY + HOUR * 15)
        alerts.resolve_alert(session, alert_id=gap.id, actor="driftscope", note="data is back")
        ids["gap"] = gap.id
    return ids


def test_alert_windows_are_the_windows_it_fired_on(engine: Engine) -> None:
    ids = fill(engine)
    with transaction(engine) as session:
        mae = incidents.alert_windows(session, alert_id=ids["mae"])
        gap = incidents.alert_windows(session, alert_id=ids["gap"])
    days = [(T0 + d * DAY, T0 + (d + 1) * DAY) for d in (RISE_FROM, RISE_FROM + 1)]
    assert mae.windows == tuple(days) and mae.began == days[0][0] and mae.reached == days[1][1]
    assert mae.width == DAY and (mae.model, mae.version, mae.status) == ("house-price", "3.1", "open")
    assert gap.kind == "no_data" and gap.status == "resolved" and gap.width == timedelta(hours=7)
    assert gap.began == T0 + 15 * DAY + timedelta(hours=8)


def test_the_metric_registry_and_the_shared_direction_agree() -> None:
    assert {name for name, m in METRICS.items() if not m.higher_is_better} == LOWER_IS_BETTER
    assert all(higher_is_better(name) == m.higher_is_better for name, m in METRICS.items())


@pytest.fixture(scope="module")
def house_store(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[tuple[str, dict]]:
    path = tmp_path_factory.mktemp("incident") / "driftscope.db"
    path.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    ids = fill(engine)
    engine.dispose()
    yield url, ids


def open_app(monkeypatch: pytest.MonkeyPatch, url: str, **params: str) -> AppTest:
    for name in ("DRIFTSCOPE_CONFIG", "DRIFTSCOPE_DASHBOARD_USERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DRIFTSCOPE_DATABASE_URL", url)
    streamlit.cache_data.clear()
    streamlit.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params.update(params)
    at.run()
    at.switch_page("../views/version.py").run()
    assert [e.value for e in at.exception] == []
    return at


def test_a_rising_mae_reads_as_worse_in_red_with_thousands_separators(
    monkeypatch: pytest.MonkeyPatch, house_store: tuple[str, dict]
) -> None:
    at = open_app(monkeypatch, house_store[0], model="house-price", version="3.1", start="2026-03-01",
                  end="2026-03-21")
    card = next(m for m in at.metric if m.label.startswith("mae"))
    assert card.label == "mae · 2026-03-20"
    assert card.value == "25,643" and "e+" not in card.value
    assert card.delta == "+5,864 (worse)"
    assert card.proto.color == card.proto.MetricColor.RED
    assert "rose by 5,864 (+29.6%) vs reference: worse" in card.help
    chart = at.get("plotly_chart")[0].proto.spec
    assert "significantly higher than reference (worse)" in chart and "alert ceiling" not in chart


def test_the_alert_link_opens_the_incident_with_its_windows(
    monkeypatch: pytest.MonkeyPatch, house_store: tuple[str, dict]
) -> None:
    url, ids = house_store
    at = open_app(monkeypatch, url, model="house-price", version="3.1", alert=str(ids["mae"]),
                  start="2026-03-13", end="2026-03-14")
    assert (at.query_params["start"], at.query_params["end"]) == ("2026-03-08", "2026-03-22")
    assert at.query_params["window"] == "2026-03-14"
    card = next(m for m in at.metric if m.label.startswith("mae"))
    assert card.label == "mae · 2026-03-14" and card.value == "21,245"
    banner = "\n".join(w.value for w in at.warning)
    assert f"Alert #{ids['mae']}" in banner and "2026-03-13 (UTC day) to 2026-03-14 (UTC day)" in banner
    spec = at.get("plotly_chart")[0].proto.spec
    assert '"x0":"2026-03-13T00:00:00+00:00"' in spec.replace(" ", "") and "rgba(214, 40, 40, 0.12)" in spec


def test_a_no_data_link_shows_the_gap_in_hourly_volume_and_lists_the_resolved_alert(
    monkeypatch: pytest.MonkeyPatch, house_store: tuple[str, dict]
) -> None:
    url, ids = house_store
    at = open_app(monkeypatch, url, alert=str(ids["gap"]))
    assert (at.query_params["start"], at.query_params["end"]) == ("2026-03-15T08:00Z", "2026-03-17T15:00Z")
    assert f"Alert #{ids['gap']}" in "\n".join(i.value for i in at.info) and "resolved" in at.info[0].value
    spec = at.get("plotly_chart")[0].proto.spec
    assert "Predictions per hour" in spec and "no data" in spec
