"""Dashboard login and roles under AppTest: viewers browse, operators acknowledge, resolve and retrain.

Writes go through the real app into real SQLite and PostgreSQL stores and are checked in the store.
"""

from pathlib import Path

import pytest
import streamlit
import yaml
from helpers_dashboard import Seeded, seed_store
from streamlit.testing.v1 import AppTest

from driftscope.config.passwords import hash_password
from driftscope.dashboard import data
from driftscope.dashboard.auth import AccessDenied, User
from driftscope.storage import alerts, retraining
from driftscope.storage.db import make_engine, transaction

APP = Path(__file__).resolve().parent.parent / "dashboard" / "entry" / "driftscope_dashboard.py"
RANGE = {"start": "2026-01-01", "end": "2026-01-15"}
FAST = 1_000


pytestmark = pytest.mark.usefixtures("clean_streamlit")  # tests/conftest.py


@pytest.fixture
def seeded_sqlite(sqlite_url: str) -> tuple[str, Seeded]:
    engine = make_engine(sqlite_url)
    seeded = seed_store(engine)
    engine.dispose()
    return sqlite_url, seeded


def write_config(tmp_path: Path, url: str, auth: dict) -> Path:
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump({"database_url": url, "dashboard": {"auth": auth}}))
    return path


def app(monkeypatch: pytest.MonkeyPatch, config: Path | None = None, url: str | None = None) -> AppTest:
    if config is not None:
        monkeypatch.setenv("DRIFTSCOPE_CONFIG", str(config))
    if url is not None:
        monkeypatch.setenv("DRIFTSCOPE_DATABASE_URL", url)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params.update({"model": "credit-default", "version": "1.0", **RANGE})
    return at


def sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="login.username").input(username)
    at.text_input(key="login.password").input(password)
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert [e.value for e in at.exception] == []
    return at


def button(at: AppTest, label: str) -> streamlit.testing.v1.element_tree.Button:
    return next(b for b in at.button if b.label == label)


def local_users(tmp_path: Path, url: str) -> Path:
    users = [
        {"username": "vic", "role": "viewer", "password_hash": hash_password("view-pw", iterations=FAST)},
        {"username": "olga", "role": "operator", "password_hash": hash_password("op-pw", iterations=FAST)},
    ]
    return write_config(tmp_path, url, {"enabled": True, "users": users})


def test_login_is_required_and_checks_the_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seeded_sqlite: tuple[str, Seeded]
) -> None:
    at = app(monkeypatch, local_users(tmp_path, seeded_sqlite[0])).run()
    assert at.title[0].value == "Sign in to driftscope"
    assert not at.sidebar.selectbox and not at.metric
    sign_in(at, "olga", "wrong")
    assert [e.value for e in at.error] == ["Wrong username or password."]
    sign_in(at, "olga", "op-pw")
    assert at.title[0].value == "Overview"
    assert "Signed in as **olga** (operator)" in [c.value for c in at.sidebar.caption]
    at.sidebar.button(key="auth.signout").click().run()
    assert at.title[0].value == "Sign in to driftscope"


def test_viewer_sees_disabled_actions_and_cannot_write(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seeded_sqlite: tuple[str, Seeded]
) -> None:
    url, seeded = seeded_sqlite
    at = sign_in(app(monkeypatch, local_users(tmp_path, url)).run(), "vic", "view-pw")
    at.switch_page("../views/alerts.py").run()
    assert button(at, "Acknowledge").disabled and button(at, "Resolve").disabled
    assert any("only operators can act here" in c.value for c in at.caption)
    at.switch_page("../views/version.py").run()
    at.session_state["version.tab"] = "Retraining"
    at.run()
    assert button(at, "Request retraining").disabled
    store = data.open_store(url)
    viewer = User(name="vic", role="viewer", method="password")
    with pytest.raises(AccessDenied, match="acknowledging an alert needs the operator role; vic is a viewer"):
        data.acknowledge_alert(store, user=viewer, alert_id=seeded.alert_ids["auc"], note=None)
    with pytest.raises(AccessDenied, match="requesting retraining"):
        data.request_retraining(store, user=viewer, version_id=seeded.version_ids["credit-1.0"], reason="x")
    with transaction(store.engine) as session:
        assert alerts.get_alert(session, alert_id=seeded.alert_ids["auc"])["status"] == "open"
        assert retraining.list_requests(session).empty


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_operator_acknowledges_resolves_and_requests_retraining(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    engine = make_engine(db_url)
    seeded = seed_store(engine)
    monkeypatch.setenv("DRIFTSCOPE_DASHBOARD_USERS", f"olga:operator:{hash_password('op-pw', iterations=FAST)}")
    at = sign_in(app(monkeypatch, url=db_url).run(), "olga", "op-pw")
    auc = seeded.alert_ids["auc"]
    at.switch_page("../views/alerts.py").run()
    at.selectbox(key="alerts.selected").set_value(auc).run()
    at.text_input(key=f"alert.note.{auc}").input("checking the January cohort")
    button(at, "Acknowledge").click().run()
    assert f"Alert #{auc} acknowledged." in [s.value for s in at.success]
    button(at, "Resolve").click().run()
    with transaction(engine) as session:
        assert alerts.get_alert(session, alert_id=auc)["status"] == "resolved"
        history = alerts.alert_history(session, alert_id=auc)
    acted = history[history["actor"] == "olga"]
    assert acted[["action", "note"]].values.tolist() == [
        ["acknowledged", "checking the January cohort"], ["resolved", None]]

    version_id = seeded.version_ids["credit-1.0"]
    at.switch_page("../views/version.py").run()
    at.session_state["version.tab"] = "Retraining"
    at.run()
    at.text_area(key=f"retrain.reason.{version_id}").input("roc_auc below the floor since Jan 11")
    button(at, "Request retraining").click().run()
    assert "Tick the confirmation and give a reason to request retraining." in [e.value for e in at.error]
    at.text_area(key=f"retrain.reason.{version_id}").input("roc_auc below the floor since Jan 11")
    at.checkbox(key=f"retrain.confirm.{version_id}").check()
    button(at, "Request retraining").click().run()
    with transaction(engine) as session:
        requests = retraining.list_requests(session, model_version_id=version_id)
    engine.dispose()
    assert requests[["requested_by", "reason", "status", "trigger"]].values.tolist() == [
        ["olga", "roc_auc below the floor since Jan 11", "pending", "manual"]]
    shown = "\n".join(m.value for m in at.markdown)
    assert f"Latest request **#{requests['id'].iloc[0]}** is **pending**" in shown


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ({"is_logged_in": True, "email": "Ops@Example.com", "email_verified": True},
         "Signed in as **Ops@Example.com** (operator)"),
        ({"is_logged_in": True, "email": "ann@example.com", "email_verified": True},
         "Signed in as **ann@example.com** (viewer)"),
        ({"is_logged_in": True, "email": "ops@example.com"},
         r"Signed in as **ops@example.com \(unverified\)** (viewer)"),
        ({"is_logged_in": True, "email": "ops@example.com", "email_verified": False},
         r"Signed in as **ops@example.com \(unverified\)** (viewer)"),
        ({"is_logged_in": True, "name": "ops@example.com"}, "Signed in as **ops@example.com** (viewer)"),
        ({"is_logged_in": False}, None),
    ],
    ids=["operator", "viewer", "unverified-email", "email-verified-false", "display-name-only", "signed-out"],
)
def test_oidc_roles_come_from_the_operator_list(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seeded_sqlite: tuple[str, Seeded], user: dict,
    expected: str | None,
) -> None:
    config = write_config(tmp_path, seeded_sqlite[0], {"oidc": True, "operators": ["ops@example.com"]})
    at = app(monkeypatch, config)
    at.user = user
    at.run()
    assert [e.value for e in at.exception] == []
    if expected is None:
        assert at.title[0].value == "Sign in to driftscope"
        assert [b.label for b in at.button] == ["Sign in with single sign-on"]
    else:
        assert at.title[0].value == "Overview"
        assert expected in [c.value for c in at.sidebar.caption]


def test_login_without_users_explains_the_setup(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seeded_sqlite: tuple[str, Seeded]
) -> None:
    at = app(monkeypatch, write_config(tmp_path, seeded_sqlite[0], {"enabled": True})).run()
    assert "no users are configured" in at.error[0].value
    assert "driftscope dashboard hash-password" in at.error[0].value
