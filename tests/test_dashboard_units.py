"""Pieces of the dashboard that need no store: password hashes, settings, URL state, report paths, charts."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from driftscope.config import passwords
from driftscope.dashboard import charts, charts_drift, data, figures, reports, state
from driftscope.dashboard.settings import load_settings
from driftscope.errors import ConfigError
from driftscope.storage.drift_history import distribution
from driftscope.storage.result_series import drift_score

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_hash_matches_the_rfc_7914_pbkdf2_sha256_vector() -> None:
    encoded = passwords.hash_password("passwd", iterations=1, salt="salt")
    assert encoded == "pbkdf2_sha256$1$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"


@settings(max_examples=25, deadline=None)
@given(password=st.text(min_size=1, max_size=40), other=st.text(min_size=1, max_size=40))
def test_a_hash_accepts_its_password_only(password: str, other: str) -> None:
    encoded = passwords.hash_password(password, iterations=50)
    assert passwords.verify_password(password, encoded)
    assert passwords.verify_password(other, encoded) == (other == password)
    assert passwords.hash_password(password, iterations=50) != encoded


@pytest.mark.parametrize(
    "encoded",
    ["plain-text", "pbkdf2_sha256$x$salt$ab", "md5$1$salt$ab", "pbkdf2_sha256$0$salt$ab", "pbkdf2_sha256$1$salt"],
)
def test_malformed_hashes_are_refused_with_the_fix(encoded: str) -> None:
    with pytest.raises(ConfigError, match="driftscope dashboard hash-password"):
        passwords.verify_password("pw", encoded)


@pytest.mark.parametrize(
    ("text", "problem"),
    [("ann:admin:pbkdf2_sha256$1$s$ab", "entry 1 (ann)"), ("ok:pbkdf2_sha256$1$s$ab, :viewer:x", "entry 2 (?)"),
     ("bob:viewer:secret", "entry 1 (bob)")],
    ids=["unknown-role", "no-name", "not-a-hash"],
)
def test_bad_user_entries_name_the_entry(text: str, problem: str) -> None:
    expected = f"DRIFTSCOPE_DASHBOARD_USERS: {problem} must be username:role:hash"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        passwords.parse_users(text)


def config_file(tmp_path: Path, **dashboard: object) -> Path:
    reference = tmp_path / "ref.csv"
    reference.write_text("id,ts,pred,y,x\n")
    document = {
        "database_url": "sqlite:///store.db",
        "models": [{"name": "m", "task": "binary_classification",
                    "versions": [{"version": "1", "reference": "ref.csv"}],
                    "schema": {"id": "id", "timestamp": "ts", "prediction": "pred", "target": "y",
                               "features": {"x": "numeric"}}}],
        "monitors": [{"name": "perf", "model": "m", "kind": "performance", "metrics": ["roc_auc"]}],
        "alerts": {"rules": [
            {"name": "floor", "monitor": "perf", "when": "metric_below", "metric": "roc_auc", "value": 0.7},
            {"name": "floor2", "model": "m", "monitor": "perf", "when": "metric_below", "metric": "roc_auc",
             "value": 0.75},
        ]},
        "dashboard": dashboard,
    }
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_settings_from_a_config_file(tmp_path: Path) -> None:
    hashed = passwords.hash_password("pw", iterations=10)
    path = config_file(tmp_path, reports_dir="out/reports",
                       auth={"users": [{"username": "ann", "password_hash": hashed, "role": "operator"}]})
    loaded = load_settings(str(path), None, f"bob:{hashed}")
    assert loaded.database_url == f"sqlite:///{tmp_path.resolve() / 'store.db'}"
    assert loaded.reports_dir == tmp_path.resolve() / "out" / "reports"
    assert [(u.username, u.role) for u in loaded.users] == [("ann", "operator"), ("bob", "viewer")]
    assert loaded.auth_enabled and not loaded.oidc
    assert loaded.metric_floor("m", "roc_auc") == 0.75 and loaded.metric_floor("m", "f1") is None
    assert load_settings(str(path), "sqlite:///other.db", None).database_url == "sqlite:///other.db"
    assert not load_settings(str(path), None, None).auth_enabled


def test_settings_without_a_config_file(tmp_path: Path) -> None:
    assert load_settings(None, None, None).database_url == "sqlite:///driftscope.db"
    with pytest.raises(ConfigError, match=r"DRIFTSCOPE_CONFIG=.*no such configuration file"):
        load_settings(str(tmp_path / "nope.yaml"), None, None)


@given(minutes=st.integers(min_value=0, max_value=60 * 24 * 3650))
def test_times_round_trip_through_the_url(minutes: int) -> None:
    value = T0 + timedelta(minutes=minutes)
    assert state.parse_time(state.format_time(value)) == value


def test_report_is_found_in_the_reports_folder(tmp_path: Path) -> None:
    folder = load_settings(str(config_file(tmp_path, reports_dir="reports")), None, None)
    args = (folder, "m", "1.0", T0, T0 + timedelta(days=1))
    assert reports.find_report(*args) is None
    output = tmp_path / "reports" / "m_1.0_20260101T0000Z_20260102T0000Z.html"
    Path(output).parent.mkdir(parents=True)
    Path(output).write_text("<html></html>")
    assert reports.find_report(*args) == Path(output)


def metric_rows(values: list[float], flagged: list[bool]) -> pd.DataFrame:
    n = len(values)
    starts = pd.date_range(T0, periods=n, freq="D", tz="UTC")
    return pd.DataFrame({
        "window_start": starts, "window_end": starts + pd.Timedelta(days=1), "metric": "auc", "value": values,
        "ci_low": np.array(values) - 0.02, "ci_high": np.array(values) + 0.02, "reference_value": 0.9,
        "p_value": 0.5, "n": 100, "flagged": flagged,
    })


def test_metric_chart_draws_band_reference_floor_drops_and_events() -> None:
    rows = metric_rows([0.9, 0.85, 0.7], [False, False, True])
    events = pd.DataFrame({"detector": ["adwin", "ddm"], "detected_at": [T0, T0 + timedelta(days=1)]})
    fig = charts.metric_chart(rows, events, "auc", floor=0.75)
    names = [t.name for t in fig.data]
    assert names == [None, "bootstrap band", "auc", "reference 0.9", "alert floor 0.75",
                     "significantly lower than reference (worse)", "concept-drift event"]
    assert list(fig.data[5].y) == [0.7]
    assert list(fig.data[2].x) == list(rows["window_start"] + pd.Timedelta(hours=12))  # each window on its own day
    lines = sorted((s.y0, s.y1) for s in fig.layout.shapes if s.y0 == s.y1)
    assert lines == [(0.75, 0.75), (0.9, 0.9)] and len(fig.layout.shapes) == 4


def test_a_lower_is_better_metric_is_flagged_as_higher_and_worse() -> None:
    rows = metric_rows([0.9, 0.95, 1.2], [False, False, True]).assign(metric="mae")
    fig = charts.metric_chart(rows, rows.iloc[:0].assign(detector=[], detected_at=[]), "mae", floor=1.1)
    assert [t.name for t in fig.data][-2:] == ["alert ceiling 1.1", "significantly higher than reference (worse)"]


def test_an_alert_window_is_shaded_and_the_axis_spans_the_range() -> None:
    rows = metric_rows([0.9, 0.85, 0.7], [False, False, True])
    frame = charts.Frame(start=T0, end=T0 + timedelta(days=3), highlight=((T0 + timedelta(days=2), T0 + timedelta(
        days=3)),), highlight_label="alert #7")
    fig = charts.metric_chart(rows, rows.iloc[:0].assign(detector=[], detected_at=[]), "auc", frame=frame)
    rect = next(s for s in fig.layout.shapes if s.type == "rect")
    assert pd.Timestamp(rect.x0) == T0 + timedelta(days=2) and fig.layout.annotations[0].text == "alert #7"
    assert [pd.Timestamp(x) for x in fig.layout.xaxis.range] == [T0, T0 + timedelta(days=3)]


def test_event_lines_and_alert_spans_are_shapes_over_the_whole_plot_height() -> None:
    rows = metric_rows([0.9, 0.85, 0.7], [False, False, True])
    when = [T0 + timedelta(hours=h) for h in range(0, 72, 2)]
    events = pd.DataFrame({"detector": "adwin", "detected_at": when})
    spans = ((T0, T0 + timedelta(days=1)), (T0 + timedelta(days=1), T0 + timedelta(days=2)))
    fig = charts.metric_chart(rows, events, "auc", floor=0.75, frame=charts.Frame(T0, T0 + timedelta(days=3), spans))
    vertical = [s for s in fig.layout.shapes if s.type == "line" and s.yref == "y domain"]
    assert [pd.Timestamp(s.x0) for s in vertical] == when and all((s.y0, s.y1) == (0, 1) for s in vertical)
    rects = [s for s in fig.layout.shapes if s.type == "rect"]  # touching windows shade as one span
    assert [(pd.Timestamp(r.x0), pd.Timestamp(r.x1)) for r in rects] == [(T0, T0 + timedelta(days=2))]
    assert len(fig.layout.shapes) == len(when) + 2 + 1 and len(fig.layout.annotations) == 1


def test_a_figure_is_built_once_per_key_and_data_stamp(monkeypatch: pytest.MonkeyPatch) -> None:
    stamps = iter(["s1", "s1", "s1", "s2"])
    monkeypatch.setattr(data, "stamp", lambda store: next(stamps))
    built: list[int] = []

    def build() -> go.Figure:
        built.append(1)
        return go.Figure()

    store = data.Store(url=f"sqlite:///figures-{id(built)}.db", engine=None)
    first, again = figures.cached(store, ("chart", 1), build), figures.cached(store, ("chart", 1), build)
    other, newer = figures.cached(store, ("chart", 2), build), figures.cached(store, ("chart", 1), build)
    assert first is again and other is not first and newer is not first and len(built) == 3


def test_compare_leaves_a_gap_where_a_version_had_no_traffic() -> None:
    starts = pd.date_range(T0, periods=3, freq="D", tz="UTC")
    frame = pd.DataFrame({"window_start": starts, "window_end": starts + pd.Timedelta(days=1), "version": "2.0",
                          "drifted_share": [0.0, 0.0, 0.2], "n_rows": [0, 0, 50]})
    fig = charts.lines_by_version(frame, y="drifted_share", title="t", y_title="y", labels=["2.0"])
    assert np.isnan(fig.data[0].y[:2].astype(float)).all() and fig.data[0].y[2] == 0.2


def test_heatmap_grid_puts_the_most_drifting_feature_on_top() -> None:
    windows = pd.date_range(T0, periods=3, freq="D", tz="UTC")
    matrix = pd.DataFrame({
        "feature": ["a"] * 3 + ["b"] * 3, "window_start": list(windows) * 2,
        "window_end": [w + pd.Timedelta(days=1) for w in windows] * 2, "method": "psi",
        "statistic": [0.01, 0.02, 0.03, 0.5, 0.05, 0.3], "p_value": None, "threshold": 0.1,
        "drifted": [False, False, False, True, False, True],
    })
    matrix["score"] = drift_score(matrix["statistic"], matrix["p_value"], matrix["threshold"])
    features, columns, z, custom = charts_drift.heatmap_grid(matrix)
    assert features == ["a", "b"] and columns == list(windows)
    assert z.shape == (2, 3) and z[1].tolist() == pytest.approx([5.0, 0.5, 3.0])
    assert custom[1, 0].tolist() == ["psi", "0.5", "-", "0.1", "DRIFT", "2026-01-01 (UTC day)"]
    fig = charts_drift.drift_heatmap(matrix)
    point = {"y": "b", "customdata": list(fig.data[1].customdata[3])}
    assert charts_drift.clicked_cell(point) == ("b", "2026-01-01T00:00:00Z")
    assert fig.data[0].zmax == charts_drift.SCORE_MAX and float(np.max(fig.data[0].z)) == charts_drift.SCORE_MAX


@pytest.mark.parametrize(
    ("hist", "kind", "barmode"),
    [({"edges": [0, 1, 2], "reference": [1, 3], "current": [2, 2]}, "numeric", "overlay"),
     ({"categories": ["x", "y"], "reference": [1, 3], "current": [2, 2]}, "categorical", "group")],
    ids=["numeric", "categorical"],
)
def test_distribution_chart_compares_reference_and_current(hist: dict, kind: str, barmode: str) -> None:
    fig = charts_drift.distribution_chart(distribution(hist), feature="f", feature_type=kind)
    assert [t.name for t in fig.data] == ["reference", "current"]
    assert fig.layout.barmode == barmode
    assert list(fig.data[1].y) == [0.5, 0.5]


def test_volume_chart_has_one_series_per_version() -> None:
    volume = pd.DataFrame({"version_id": [1, 1, 2], "bucket": pd.to_datetime([T0, T0, T0], utc=True),
                           "n_rows": [3, 4, 5]})
    fig = charts.volume_chart(volume, freq="D", labels={1: "1.0", 2: "2.0"})
    assert [t.name for t in fig.data] == ["1.0", "2.0"] and fig.layout.showlegend
