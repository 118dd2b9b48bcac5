"""The sign-in page: single sign-on, or a password form throttled per user name and per client.

Failed attempts are counted in the store (:mod:`driftscope.storage.login_throttle`), so the growing
delay holds across dashboard restarts and across several dashboard processes on one store. The
client is Streamlit's ``st.context.ip_address`` (behind a reverse proxy: the proxy's address, so
the per-user limit is the one that counts). A locked attempt is refused before any password is
checked, whether the name exists or not.
"""

import math

import streamlit as st

from driftscope.dashboard import data, ui
from driftscope.dashboard.auth import authenticate, sign_in
from driftscope.dashboard.settings import Settings
from driftscope.errors import DriftscopeError


def login_page(settings: Settings) -> None:
    """The sign-in page: single sign-on when OIDC is configured, a password form for local users."""
    st.title("Sign in to driftscope")
    st.caption("The dashboard needs a login. Viewers browse; operators also acknowledge alerts and retrain.")
    if settings.oidc and st.button("Sign in with single sign-on", type="primary"):
        st.login()
    if settings.users:
        with st.form("login"):
            username = st.text_input("Username", key="login.username")
            password = st.text_input("Password", type="password", key="login.password")
            submitted = st.form_submit_button("Sign in", type="primary")
        if submitted:
            try:
                _attempt(settings, username.strip(), password)
            except DriftscopeError as exc:
                ui.show_error(exc)
    if not settings.oidc and not settings.users:
        st.error(
            "Login is enabled but no users are configured. Add `dashboard.auth.users` to the config "
            "(hashes from `driftscope dashboard hash-password`), set DRIFTSCOPE_DASHBOARD_USERS, "
            "or set `dashboard.auth.oidc: true` with an OIDC provider in .streamlit/secrets.toml."
        )


def _attempt(settings: Settings, username: str, password: str) -> None:
    store = data.open_store(settings.database_url)
    client = st.context.ip_address or "unknown"
    wait = data.login_wait(store, username=username, client=client)
    if wait > 0:
        st.error(f"Too many failed sign-ins for this user or from this address: try again in {math.ceil(wait)} s.")
        return
    user = authenticate(settings, username, password)
    if user is None:
        data.record_login_failure(store, username=username, client=client)
        st.error("Wrong username or password.")
        return
    data.clear_login_failures(store, username=username)
    sign_in(user)
    st.rerun()
