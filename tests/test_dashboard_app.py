"""Every dashboard page under Streamlit's AppTest, on seeded SQLite and PostgreSQL stores: the numbers shown
are the store's, selection travels in the URL, empty and broken stores explain themselves."""

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from helpers_dashboard import DAY, DAYS, T0, Seeded, fresh_store_url, seed_store
from streamlit.testing.v1 import AppTest

from driftscope.alerting.notify.messages import dashboard_link
from driftscope.dashboard import ui
from driftscope.storage import run_history
from driftscope.storage.db import make_engine, transaction

APP = Path(__file__).resolve().parent.parent / "dashboard" / "entry" / "driftscope_dashboard.py"
END = T0 + DAYS * DAY
RANGE = {"start": "2026-01-01", "end": "2026-01-15"}
# Page logic that does not depend on the database runs on SQLite only; the queries behind it run on both
# databases in test_dashboard_queries.py.
SQLITE_ONLY = pytest.mark.parametrize("store", ["sqlite"], indirect=True)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    """One seeded store per database, read (never written) by this module's tests."""
    url = fresh_store_url(request, tmp_path_factory)
    engine = make_engine(url)
    seeded = seed_store(engine)
    engine.dispose()
    yield url, seeded


pytestmark = pytest.mark.usefixtures("clean_streamlit")  # tests/conftest.py


def open_app(monkeypatch: pytest.MonkeyPatch, url: str, page: str | None = None, **params: str) -> AppTest:
    """Run the app on the store at ``url`` with query parameters, then switch to ``page``."""
    monkeypatch.setenv("DRIFTSCOPE_DATABASE_URL", url)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params.update(params)
    at.run()
    if page is not None:
        at.switch_page(f"../views/{page}.py").run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert [e.value for e in at.exception] == []


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(at: AppTest, kind: str) -> str:
    """The elements' Markdown as shown: backslash escapes (of values from the data) removed."""
    return re.sub(r"\\(.)", r"\1", "\n".join(str(e.value) for e in getattr(at, kind)))


def test_overview_shows_the_store_numbers(monkeypatch: pytest.MonkeyPatch, store: tuple[str, Seeded]) -> None:
    url, seeded = store
    at = open_app(monkeypatch, url, **RANGE)
    assert metrics(at) == {"Model versions": "3", "Critical": "1", "Warning": "1", "Open alerts": "2",
                           "Predictions in range": f"{sum(seeded.predictions.values()):,}"}
    table = at.dataframe[0].value.set_index("Version")
    assert table.loc["1.0", "Health"] == "critical" and table.loc["3.1", "Health"] == "warning"
    assert table["Predictions"].to_dict() == {"1.0": 2016, "2.0": 504, "3.1": 672}
    assert table.loc["1.0", "Label coverage"] == pytest.approx(720 / 2016)
    assert float(table.loc["1.0", "Value"]) == pytest.approx(seeded.roc_auc[-1])
    assert table.loc["1.0", "Δ vs reference"] == f"-{0.86 - seeded.roc_auc[-1]:.3f} vs reference (worse)"
    assert "scheduler-1" in texts(at, "caption")


def test_version_page_shows_metric_volume_drift_and_alerts(
    monkeypatch: pytest.MonkeyPatch, store: tuple[str, Seeded]
) -> None:
    url, seeded = store
    at = open_app(monkeypatch, url, "version", model="credit-default", version="1.0", **RANGE)
    assert at.title[0].value == "credit-default · version 1.0"
    shown = metrics(at)
    assert shown["Predictions in range"] == "2,016" and shown["Label coverage"] == "35.7%"
    assert shown["roc_auc · 2026-01-14"] == f"{seeded.roc_auc[-1]:.4g}"
    assert at.metric[-1].delta == f"-{0.86 - seeded.roc_auc[-1]:.3f} (worse)"
    assert len(at.get("plotly_chart")) == 1  # the Performance tab; the others run when opened
    assert "CRITICAL" in texts(at, "markdown")
    at.session_state["version.tab"] = "Data drift"
    at.run()
    assert len(at.get("plotly_chart")) == 2 and "Data drift by feature" in at.get("plotly_chart")[0].proto.spec
    at.session_state["version.tab"] = "Alerts"
    at.run()
    alerts = at.dataframe[0].value
    assert alerts["title"].tolist() == ["roc_auc 0.694 below 0.70"]


@SQLITE_ONLY
def test_alert_email_link_opens_the_version_page_on_the_alert_window(
    monkeypatch: pytest.MonkeyPatch, store: tuple[str, Seeded]
) -> None:
    event = {"type": "alert.fired", "alert": {"model": "credit-default", "version": "1.0", "window": {
        "start": "2026-01-13T00:00:00+00:00", "end": "2026-01-14T00:00:00+00:00"}}}
    link = urlsplit(dashboard_link("http://dash:8501", event))
    assert link.path == f"/{ui.URL_PATHS['version']}"
    params = {k: v[0] for k, v in parse_qs(link.query).items()}
    at = open_app(monkeypatch, store[0], "version", **params)
    assert at.title[0].value == "credit-default · version 1.0"
    assert metrics(at)["Predictions in range"] == "144"
    assert (at.query_params["start"], at.query_params["end"]) == ("2026-01-13", "2026-01-14")


@SQLITE_ONLY
def test_the_feature_page_opens_on_the_most_drifting_feature_of_the_window(
    monkeypatch: pytest.MonkeyPatch, store: tuple[str, Seeded]
) -> None:
    at = open_app(monkeypatch, store[0], "feature", model="credit-default", version="1.0", **RANGE)
    assert at.title[0].value == "Feature"
    assert at.query_params["feature"] == "region" and at.query_params["window"] == "2026-01-14"
    assert metrics(at)["Verdict"] == "DRIFT"


def test_feature_page_shows_the_test_and_new_categories(
    monkeypatch: pytest.MonkeyPatch, store: tuple[str, Seeded]
) -> None:
    at = open_app(monkeypatch, store[0], "feature", model="credit-default", version="1.0", feature="region", **RANGE)
    assert metrics(at) == {"Statistic": "40", "p-value": "< 0.001", "Threshold": "0.05", "Verdict": "DRIFT",
                           "Missing (current)": "8.0%"}
    assert "chisquare" in texts(at, "markdown") and "2026-01-14 (UTC day)" in texts(at, "markdown")
    assert "1 category not in the reference: `west`" in texts(at, "warning")
    assert len(at.get("plotly_chart")) == 2
    at.selectbox(key="w.window").set_value("2026-01-01").run()
    assert metrics(at)["Verdict"] == "no drift"


def test_compare_page_aligns_the_two_versions(monkeypatch: pytest.MonkeyPatch, store: tuple[str, Seeded]) -> None:
    url, seeded = store
    at = open_app(monkeypatch, url, "compare", model="credit-default", version="1.0", **RANGE)
    assert at.query_params["compare"] == "2.0"
    table = at.dataframe[0].value
    assert len(table) == 7
    assert float(table["1.0"].iloc[0]) == pytest.approx(seeded.roc_auc[-1])
    assert table["1.0 vs 2.0"].iloc[0].endswith("(worse)")  # the selected version first: 1.0 is the worse one
    at.session_state["compare.tab"] = "Prediction volume"
    at.run()
    assert metrics(at) == {"1.0: predictions": "2,016", "2.0: predictions": "504"}


def test_alerts_page_lists_history_and_deliveries(monkeypatch: pytest.MonkeyPatch, store: tuple[str, Seeded]) -> None:
    url, seeded = store
    at = open_app(monkeypatch, url, "alerts", **RANGE)
    assert sorted(at.dataframe[0].value["id"]) == sorted([seeded.alert_ids["auc"], seeded.alert_ids["house"]])
    at.selectbox(key="alerts.selected").set_value(seeded.alert_ids["auc"]).run()
    history, evidence, log = at.dataframe[1].value, at.dataframe[2].value, at.dataframe[3].value
    assert evidence.set_index("what")["value"].to_dict() == {"metric": "roc_auc", "value": "0.694"}
    assert history["action"].tolist() == ["opened", "notified"]
    assert log["ok"].tolist() == [False, True] and log["error"].iloc[0] == "connection refused"
    at.segmented_control(key="alerts.status").set_value("Resolved").run()
    assert at.dataframe[0].value["id"].tolist() == [seeded.alert_ids["resolved"]]
    at.selectbox(key="alerts.severity").set_value("critical").run()
    assert "No alerts match these filters." in texts(at, "info")


@SQLITE_ONLY
def test_runs_page_counts_runs_and_shows_failures(monkeypatch: pytest.MonkeyPatch, store: tuple[str, Seeded]) -> None:
    url, seeded = store
    at = open_app(monkeypatch, url, "runs", start="2026-01-01", end="2026-01-16")
    engine = make_engine(url)
    with transaction(engine) as session:
        expected = run_history.monitor_runs(session, start=T0, end=END + DAY)
    engine.dispose()
    shown = metrics(at)
    assert shown["Monitor runs"] == str(len(expected)) and shown["Monitor runs failed"] == "1"
    failed = int(expected.loc[expected["status"] == "failed", "run_id"].iloc[0])
    assert [e.label for e in at.expander] == [f"Run {failed} failed: house-drift on house-price 3.1"]
    assert seeded.failed_run_error in texts(at, "code")
    assert set(at.dataframe[0].value["duration"]) >= {"500 ms", "1.0 s"}
    assert shown["Collector runs failed (7 days)"] == "1" and shown["Quarantined rows (7 days)"] == "3"
    at.session_state["runs.tab"] = "Evidently report"
    at.run()
    assert "Evidently's data-drift report of" in texts(at, "markdown")
    at.session_state["runs.tab"] = "Collector runs"
    at.run()
    assert [e.label for e in at.expander] == ["Collector run 2 of house-predictions: failed"]
    assert seeded.collector_error in texts(at, "code")
    collector_table = next(d.value for d in at.dataframe if "rows_conflict" in d.value.columns)
    assert collector_table["rows_conflict"].tolist() == [0, 0]
    at.session_state["runs.tab"] = "Quarantine"
    at.run()
    sample = at.dataframe[-1].value
    assert sample["reason"].tolist()[-1] == "income: not a number ('n/a')" and len(sample) == 3


@SQLITE_ONLY
def test_selection_travels_between_pages_in_the_url(monkeypatch: pytest.MonkeyPatch, store: tuple[str, Seeded]) -> None:
    at = open_app(monkeypatch, store[0], "version", model="house-price", version="3.1", **RANGE)
    assert at.title[0].value == "house-price · version 3.1"
    at.switch_page("../views/feature.py").run()
    assert {k: at.query_params[k] for k in ("model", "version", "start", "end")} == {
        "model": "house-price", "version": "3.1", **RANGE}
    assert at.selectbox(key="w.feature").options == ["city (categorical)", "sqft (numeric)"]
    at.sidebar.selectbox(key="w.model").select("credit-default").run()
    assert_clean(at)
    assert at.query_params["model"] == "credit-default" and at.query_params["version"] == "1.0"


@SQLITE_ONLY
def test_date_range_picker_sets_the_range(monkeypatch: pytest.MonkeyPatch, store: tuple[str, Seeded]) -> None:
    at = open_app(monkeypatch, store[0], **RANGE)
    at.sidebar.date_input[0].set_value((date(2026, 1, 14), date(2026, 1, 14))).run()
    assert (at.query_params["start"], at.query_params["end"]) == ("2026-01-14", "2026-01-15")
    assert metrics(at)["Predictions in range"] == f"{144 + 72 + 48:,}"


def page_messages(at: AppTest) -> str:
    return "\n".join(texts(at, kind) for kind in ("info", "warning", "error"))


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_empty_store_says_how_to_add_a_model(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    at = open_app(monkeypatch, db_url)
    assert "No models yet" in page_messages(at) and "driftscope apply" in page_messages(at)
    assert "No scheduler heartbeat yet" in page_messages(at)
    for page in ("version", "feature", "compare"):
        at.switch_page(f"../views/{page}.py").run()
        assert_clean(at)
        assert "No models yet" in page_messages(at)
    at.switch_page("../views/alerts.py").run()
    assert "No alerts match these filters." in page_messages(at)
    at.switch_page("../views/runs.py").run()
    assert "No monitor runs in this range." in page_messages(at)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("blank", "run `driftscope db upgrade`"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "opening the store failed"),
    ],
    ids=["unmigrated-sqlite", "unreachable-postgres"],
)
def test_store_errors_are_readable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str, expected: str) -> None:
    target = f"sqlite:///{tmp_path / 'blank.db'}" if url == "blank" else url
    at = open_app(monkeypatch, target)
    message = texts(at, "error")
    assert "StorageError" in message and expected in message
    assert not at.title or at.title[0].value != "Overview"


def test_config_errors_are_readable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DRIFTSCOPE_CONFIG", str(tmp_path / "missing.yaml"))
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert_clean(at)
    assert "DRIFTSCOPE_CONFIG=" in texts(at, "error") and "no such configuration file" in texts(at, "error")

