"""Values from the data never break out of the dashboard's Markdown (issue #18 item 12): a category with
backticks stays inside its code span and no image or link is created, on SQLite and PostgreSQL."""

import re
from collections.abc import Iterator

import pytest
from helpers_dashboard import DAY, T0, Seeded, fresh_store_url, seed_store
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest
from test_dashboard_app import APP

from driftscope.dashboard import markdown as md
from driftscope.storage import alerts, results
from driftscope.storage.db import make_engine, transaction

PAYLOAD = "x` ![t](http://127.0.0.1:9/track.png) `[click](http://127.0.0.1:9/) <img src=x onerror=alert(1)>"
RANGE = {"start": "2026-01-01", "end": "2026-01-17"}
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)


def outside_code(markdown: str) -> str:
    """The Markdown with every code span removed (CommonMark: a span ends at a run of the same length)."""
    return _CODE_SPAN.sub("", markdown)


def hostile(markdown: str) -> bool:
    """True when text outside code spans would render an image, a link or raw HTML."""
    rest = outside_code(markdown)
    return bool(re.search(r"(?<!\\)!(?<!\\)\[|(?<!\\)\]\(|(?<!\\)<img", rest))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    url = fresh_store_url(request, tmp_path_factory)
    engine = make_engine(url)
    seeded = seed_store(engine)
    with transaction(engine) as session:
        run_id = results.start_run(session, monitor_id=seeded.monitor_ids["credit-data-drift"],
                                   model_version_id=seeded.version_ids["credit-1.0"],
                                   window_start=T0 + 15 * DAY, window_end=T0 + 16 * DAY)
        results.finish_run(session, run_id=run_id, status="succeeded", n_rows=10, n_reference=1000,
                           summary={"dataset_drift": False}, duration_s=0.1)
        hist = {"type": "categorical", "categories": ["north", PAYLOAD], "reference": [10, 0], "current": [5, 5],
                "other_reference": 0, "other_current": 0}
        results.add_drift_results(session, run_id=run_id, rows=[{
            "feature": "region", "role": "feature", "feature_type": "categorical", "status": "ok", "drifted": True,
            "missing_share_reference": 0.0, "missing_share_current": 0.0, "out_of_range_share": None,
            "new_categories": [PAYLOAD], "histogram": hist, "method": "chisquare", "statistic": 9.0,
            "p_value": 0.001, "threshold": 0.05}])
        alerts.fire_alert(session, rule="region-new", kind="feature_drift", severity="warning",
                          model_version_id=seeded.version_ids["credit-1.0"], title=f"new category {PAYLOAD}",
                          evidence={}, window_start=T0 + 15 * DAY, window_end=T0 + 16 * DAY, now=T0 + 16 * DAY)
    engine.dispose()
    yield url, seeded


pytestmark = pytest.mark.usefixtures("clean_streamlit")  # tests/conftest.py


def open_page(monkeypatch: pytest.MonkeyPatch, url: str, page: str, **params: str) -> AppTest:
    monkeypatch.setenv("DRIFTSCOPE_DATABASE_URL", url)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params.update(params)
    at.run()
    at.switch_page(f"../views/{page}.py").run()
    assert [e.value for e in at.exception] == []
    return at


def every_markdown(at: AppTest) -> list[str]:
    kinds = ("markdown", "caption", "title", "subheader", "warning", "info", "error", "success")
    found = [str(e.value) for kind in kinds for e in getattr(at, kind)]
    return found + [e.label for e in at.expander]


def test_a_category_with_backticks_stays_in_its_code_span(monkeypatch, store) -> None:
    at = open_page(monkeypatch, store[0], "feature", model="credit-default", version="1.0", feature="region", **RANGE)
    warnings = "\n".join(str(w.value) for w in at.warning)
    assert md.code(PAYLOAD) in warnings
    assert [m for m in every_markdown(at) if hostile(m)] == []


def test_an_alert_title_from_the_data_is_escaped(monkeypatch, store) -> None:
    at = open_page(monkeypatch, store[0], "alerts", **RANGE)
    chooser = at.selectbox(key="alerts.selected")
    [index] = [i for i, label in enumerate(chooser.options) if "new category" in label]
    chooser.select_index(index).run()
    assert any("new category" in m for m in every_markdown(at))
    assert [m for m in every_markdown(at) if hostile(m)] == []


def test_the_check_itself_spots_a_breakout() -> None:
    assert hostile(f"`{PAYLOAD}`") and not hostile(md.code(PAYLOAD)) and not hostile(md.text(PAYLOAD))


@given(st.text(max_size=40))
def test_code_spans_hold_any_text(value: str) -> None:
    span = md.code(value)
    assert outside_code(span) == "" or value.strip() == "" or "\n" in value or "\r" in value
