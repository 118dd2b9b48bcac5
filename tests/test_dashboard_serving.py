"""The Model version page's Serving tab under Streamlit's AppTest (issue #13): requests, failure rates, latency
percentiles, outcome KPIs and model age of the operational monitor, as stored; empty states that say what to do."""

import json
from collections.abc import Iterator

import pandas as pd
import pytest
import yaml
from helpers_collect import MODEL
from helpers_dashboard import DAY, T0, Serving, fresh_store_url, seed_serving, seed_store
from streamlit.testing.v1 import AppTest
from test_dashboard_app import APP, RANGE, assert_clean, metrics, texts
from test_operational_monitor import serving_document

from driftscope.dashboard import charts_serving
from driftscope.dashboard.settings import load_settings
from driftscope.storage.db import make_engine

SQLITE_ONLY = pytest.mark.parametrize("store", ["sqlite"], indirect=True)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Serving]]:
    """The dashboard tests' seeded store plus the operational monitor's windows, per database."""
    url = fresh_store_url(request, tmp_path_factory)
    engine = make_engine(url)
    serving = seed_serving(engine, seed_store(engine))
    engine.dispose()
    yield url, serving


pytestmark = pytest.mark.usefixtures("clean_streamlit")  # tests/conftest.py


def serving_tab(monkeypatch: pytest.MonkeyPatch, url: str, **params: str) -> AppTest:
    """The Model version page with ``params``, on its Serving tab."""
    monkeypatch.setenv("DRIFTSCOPE_DATABASE_URL", url)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params.update(params)
    at.run()
    at.switch_page("../views/version.py").run()
    at.session_state["version.tab"] = "Serving"
    at.run()
    assert_clean(at)
    return at


def chart_titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def chart_data(at: AppTest, title: str) -> list[dict]:
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return next(s["data"] for s in specs if s["layout"]["title"]["text"] == title)


def test_serving_tab_shows_the_stored_figures(monkeypatch: pytest.MonkeyPatch, store: tuple[str, Serving]) -> None:
    url, serving = store
    at = serving_tab(monkeypatch, url, model="credit-default", version="1.0", **RANGE)
    shown = metrics(at)
    assert shown["Requests · 2026-01-14"] == "144"
    assert shown["Error rate"] == f"{serving.error_rate[-1]:.2%}" == "8.00%"
    assert shown["Timeout rate"] == "0.50%"
    assert shown["Latency p95"] == "420 ms" and shown["Model age"] == "44.0 days"
    deltas = {m.label: m.delta for m in at.metric}
    assert deltas["Error rate"] == "+7.0 pp vs recent (worse)"
    assert deltas["Latency p95"] == "+300 vs recent (worse)"
    assert chart_titles(at) == ["Requests per window", "Error and timeout rates per window",
                                "Latency percentiles per window", "clicked per window"]
    errors = next(t for t in chart_data(at, "Error and timeout rates per window") if t.get("name") == "error rate")
    assert errors["y"] == pytest.approx(serving.error_rate)
    latency = {t["name"]: t["y"] for t in chart_data(at, "Latency percentiles per window")}
    assert latency["p95"] == pytest.approx(serving.latency_p95) and latency["p50"] == pytest.approx([40.0] * 14)
    clicks = {t.get("name"): t for t in chart_data(at, "clicked per window")}
    assert clicks["clicked"]["y"] == pytest.approx(serving.clicked)
    assert clicks["recent median"]["y"] == pytest.approx([0.11] * 14)
    assert clicks["clicked 95% interval"]["y"] == pytest.approx([c - 0.04 for c in serving.clicked])


@SQLITE_ONLY
def test_the_outcome_picker_shows_each_kpi(monkeypatch: pytest.MonkeyPatch, store: tuple[str, Serving]) -> None:
    at = serving_tab(monkeypatch, store[0], model="credit-default", version="1.0", **RANGE)
    at.selectbox(key="version.serving_outcome").set_value("outcome_share").run()
    assert_clean(at)
    share = next(t for t in chart_data(at, "outcome_share per window") if t.get("name") == "outcome_share")
    assert share["y"] == pytest.approx([0.6] * 14)


@SQLITE_ONLY
def test_a_latency_alert_link_opens_the_serving_tab(monkeypatch: pytest.MonkeyPatch,
                                                    store: tuple[str, Serving]) -> None:
    url, serving = store
    monkeypatch.setenv("DRIFTSCOPE_DATABASE_URL", url)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params.update({"model": "credit-default", "version": "1.0", "alert": str(serving.alert_id)})
    at.run()
    at.switch_page("../views/version.py").run()
    assert_clean(at)
    assert "Latency percentiles per window" in chart_titles(at)
    assert f"Alert #{serving.alert_id}" in texts(at, "warning")


@SQLITE_ONLY
@pytest.mark.parametrize(("model", "version", "expected"), [
    ("credit-default", "2.0", "The operational monitor has no result for credit-default 2.0 in this range."),
    ("house-price", "3.1", "No `kind: operational` monitor is configured for house-price."),
])
def test_empty_states_say_what_to_do(monkeypatch: pytest.MonkeyPatch, store: tuple[str, Serving], model: str,
                                     version: str, expected: str) -> None:
    at = serving_tab(monkeypatch, store[0], model=model, version=version, **RANGE)
    assert expected in texts(at, "info")
    assert at.get("plotly_chart") == []


def test_latency_metrics_sort_by_percentile() -> None:
    frame = pd.DataFrame({"metric": ["latency_p99", "latency_p50", "latency_p99.9", "latency_p95", "error_rate"]})
    assert charts_serving.latency_metrics(frame) == ["latency_p50", "latency_p95", "latency_p99", "latency_p99.9"]


def test_alert_limits_come_from_the_serving_rules_and_are_drawn(tmp_path) -> None:
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump(serving_document(tmp_path, f"sqlite:///{tmp_path / 'd.db'}"), sort_keys=False))
    settings = load_settings(str(path), None, None)
    assert settings.metric_ceiling(MODEL, "latency_p95") == 250
    assert settings.metric_ceiling(MODEL, "error_rate") == 0.05
    assert settings.metric_ceiling(MODEL, "latency_p50") is None
    series = pd.DataFrame({"metric": ["error_rate", "latency_p95"], "value": [0.1, 300.0], "ci_low": [0.05, None],
                           "ci_high": [0.2, None], "window_start": pd.Timestamp(T0),
                           "window_end": pd.Timestamp(T0 + DAY)})
    failures = charts_serving.failure_chart(series, settings.metric_ceiling(MODEL, "error_rate"))
    latency = charts_serving.latency_chart(series, {"latency_p95": 250.0})
    assert [shape.y0 for shape in failures.layout.shapes] == [0.05]
    assert [shape.y0 for shape in latency.layout.shapes] == [250.0]
