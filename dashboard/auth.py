"""Optional login and the two roles: ``viewer`` browses, ``operator`` also acknowledges, resolves and retrains.

With login off (the local demo) everyone is the operator ``local``: bind the dashboard to localhost
then. With local users, a password form checks PBKDF2 hashes from the config or
``DRIFTSCOPE_DASHBOARD_USERS``; with ``auth.oidc: true``, Streamlit's ``st.login`` signs users in
through the OIDC provider configured in ``.streamlit/secrets.toml`` and ``auth.operators`` lists the
e-mails given the operator role. See ``docs/dashboard.md``.
"""

from dataclasses import dataclass
from typing import Literal

import streamlit as st

from driftscope.config.passwords import verify_password
from driftscope.dashboard.settings import Settings
from driftscope.errors import ConfigError, DriftscopeError

Role = Literal["viewer", "operator"]
_SESSION_KEY = "auth.user"


class AccessDenied(DriftscopeError, PermissionError):
    """The signed-in user's role does not allow the action."""


@dataclass(frozen=True)
class User:
    """Who is using the dashboard, and how they signed in (``none``, ``password`` or ``oidc``)."""

    name: str
    role: Role
    method: Literal["none", "password", "oidc"]

    @property
    def is_operator(self) -> bool:
        """True for operators, who may acknowledge and resolve alerts and request retraining."""
        return self.role == "operator"


LOCAL_USER = User(name="local", role="operator", method="none")


def require_operator(user: User, action: str) -> None:
    """Raise :class:`AccessDenied` unless ``user`` is an operator."""
    if not user.is_operator:
        raise AccessDenied(f"{action} needs the operator role; {user.name} is a {user.role}. Ask an operator.")


def authenticate(settings: Settings, username: str, password: str) -> User | None:
    """The local user with that name and password, or None.

    Raises
    ------
    ConfigError
        The user's stored hash is malformed (the message names the user).
    """
    for user in settings.users:
        if user.username == username:
            try:
                ok = verify_password(password, user.password_hash.get_secret_value())
            except ConfigError as exc:
                raise ConfigError(f"dashboard user {username!r}: {exc}") from exc
            return User(name=username, role=user.role, method="password") if ok else None
    return None


def current_user(settings: Settings) -> User | None:
    """The signed-in user, :data:`LOCAL_USER` when login is off, or None when nobody is signed in."""
    if not settings.auth_enabled:
        return LOCAL_USER
    stored = st.session_state.get(_SESSION_KEY)
    if isinstance(stored, User) and any(u.username == stored.name and u.role == stored.role for u in settings.users):
        return stored
    if settings.oidc:
        info = st.user.to_dict()
        if info.get("is_logged_in"):
            email = str(info.get("email") or info.get("name") or "unknown")
            role: Role = "operator" if email.lower() in settings.oidc_operators else "viewer"
            return User(name=email, role=role, method="oidc")
    return None


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
            user = authenticate(settings, username.strip(), password)
            if user is None:
                st.error("Wrong username or password.")
            else:
                st.session_state[_SESSION_KEY] = user
                st.rerun()
    if not settings.oidc and not settings.users:
        st.error(
            "Login is enabled but no users are configured. Add `dashboard.auth.users` to the config "
            "(hashes from `driftscope dashboard hash-password`), set DRIFTSCOPE_DASHBOARD_USERS, "
            "or set `dashboard.auth.oidc: true` with an OIDC provider in .streamlit/secrets.toml."
        )


def logout(user: User) -> None:
    """Sign ``user`` out (local session, or the OIDC cookie)."""
    st.session_state.pop(_SESSION_KEY, None)
    if user.method == "oidc":
        st.logout()
    st.rerun()
