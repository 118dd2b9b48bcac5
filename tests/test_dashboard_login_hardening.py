"""Sign-in hardening (issue #18 item 13): unknown names cost the same as known ones, failed attempts lock
with a growing delay shared through the store, and a deep link survives the sign-in."""

import time
from pathlib import Path

import pytest
from helpers_dashboard import Seeded, seed_store
from test_dashboard_auth import app, local_users, sign_in

from driftscope.config.passwords import hash_password
from driftscope.config.schema import UserConfig
from driftscope.dashboard.auth import authenticate
from driftscope.dashboard.settings import Settings
from driftscope.storage import login_throttle
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.models import LoginThrottle

SLOW = 60_000


pytestmark = pytest.mark.usefixtures("clean_streamlit")  # tests/conftest.py


@pytest.fixture
def seeded_sqlite(sqlite_url: str) -> tuple[str, Seeded]:
    engine = make_engine(sqlite_url)
    seeded = seed_store(engine)
    engine.dispose()
    return sqlite_url, seeded


def _timed(settings: Settings, name: str) -> float:
    started = time.perf_counter()
    assert authenticate(settings, name, "wrong-password") is None
    return time.perf_counter() - started


def test_an_unknown_name_costs_as_much_as_a_known_one() -> None:
    user = UserConfig(username="olga", role="operator", password_hash=hash_password("op-pw", iterations=SLOW))
    settings = Settings(database_url="sqlite://", auth_enabled=True, users=(user,))
    _timed(settings, "nobody")  # the dummy hash is made once
    pairs = [(_timed(settings, "olga"), _timed(settings, f"nobody{i}")) for i in range(9)]  # interleaved
    known, unknown = min(k for k, _ in pairs), min(u for _, u in pairs)  # the least disturbed by other load
    assert 0.5 < unknown / known < 2.0, (known, unknown)


def test_failures_lock_with_a_growing_delay_and_a_success_clears_the_user(engine) -> None:
    keys = [login_throttle.throttle_key("user", "olga"), login_throttle.throttle_key("client", "10.0.0.9")]
    delays = []
    for _ in range(6):
        with transaction(engine) as session:
            delays.append(login_throttle.record_login_failure(session, keys=keys).total_seconds())
    assert delays[:3] == [0, 0, 0] and [round(d) for d in delays[3:]] == [1, 2, 4]
    with transaction(engine) as session:
        assert 3 < login_throttle.login_wait(session, keys=keys[:1]).total_seconds() <= 4
        login_throttle.clear_login_failures(session, keys=keys[:1])
    with transaction(engine) as session:
        assert login_throttle.login_wait(session, keys=keys[:1]).total_seconds() == 0
        assert login_throttle.login_wait(session, keys=keys[1:]).total_seconds() > 3  # the client stays locked


def test_the_lock_holds_across_sessions_and_refuses_even_the_right_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seeded_sqlite: tuple[str, Seeded]
) -> None:
    url = seeded_sqlite[0]
    config = local_users(tmp_path, url)
    at = app(monkeypatch, config).run()
    for _ in range(3):
        sign_in(at, "olga", "wrong")
    assert [e.value for e in at.error] == ["Wrong username or password."]
    user_key = login_throttle.throttle_key("user", "olga")
    engine = make_engine(url)  # another dashboard process on the same store adds its failures
    with transaction(engine) as session:
        assert session.get(LoginThrottle, user_key).failures == 3
        for _ in range(5):
            login_throttle.record_login_failure(session, keys=[user_key])
    engine.dispose()
    fresh = app(monkeypatch, config).run()  # another browser session, or a restarted dashboard
    sign_in(fresh, "olga", "op-pw")
    assert fresh.title[0].value == "Sign in to driftscope"
    assert any("Too many failed sign-ins" in e.value for e in fresh.error)


def test_a_deep_link_survives_the_sign_in(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seeded_sqlite: tuple[str, Seeded]
) -> None:
    at = app(monkeypatch, local_users(tmp_path, seeded_sqlite[0]))
    at.query_params["feature"] = "region"
    at.switch_page("../views/feature.py").run()
    assert at.title[0].value == "Sign in to driftscope"
    sign_in(at, "olga", "op-pw")
    assert at.title[0].value == "Feature"
    assert at.query_params["feature"] == "region" and at.query_params["model"] == "credit-default"


def test_the_throttle_table_is_shared_by_two_engines(db_url) -> None:
    first, second = make_engine(db_url), make_engine(db_url)
    keys = [login_throttle.throttle_key("user", "pat")]
    try:
        for engine in (first, second, first, second):
            with transaction(engine) as session:
                login_throttle.record_login_failure(session, keys=keys)
        with transaction(second) as session:
            assert login_throttle.login_wait(session, keys=keys).total_seconds() > 0
    finally:
        first.dispose()
        second.dispose()
