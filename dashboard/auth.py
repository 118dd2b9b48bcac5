"""Optional login and the two roles: ``viewer`` browses, ``operator`` also acknowledges, resolves and retrains.

With login off (the local demo) everyone is the operator ``local``: bind the dashboard to localhost
then. With local users, a password form checks PBKDF2 hashes from the config or
``DRIFTSCOPE_DASHBOARD_USERS``; with ``auth.oidc: true``, Streamlit's ``st.login`` signs users in
through the OIDC provider configured in ``.streamlit/secrets.toml`` and ``auth.operators`` lists the
e-mails given the operator role, granted only when the provider marks the e-mail verified. The
sign-in page and its throttle are in :mod:`driftscope.dashboard.login`. See ``docs/dashboard.md``.
"""

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Literal

import streamlit as st

from driftscope.config.passwords import DEFAULT_ITERATIONS, hash_password, verify_password
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

    An unknown name costs the same PBKDF2 work as a known one (a dummy hash with the configured
    users' iteration count is checked), so the answer time does not reveal which names exist.

    Raises
    ------
    ConfigError
        The user's stored hash is malformed (the message names the user).
    """
    match = next((u for u in settings.users if hmac.compare_digest(u.username.encode(), username.encode())), None)
    if match is None:
        verify_password(password, _dummy_hash(_iterations(settings)))
        return None
    try:
        ok = verify_password(password, match.password_hash.get_secret_value())
    except ConfigError as exc:
        raise ConfigError(f"dashboard user {username!r}: {exc}") from exc
    return User(name=username, role=match.role, method="password") if ok else None


def _iterations(settings: Settings) -> int:
    """The PBKDF2 iteration count of the configured users' hashes (the largest; the default if none parse)."""
    counts = [int(p[1]) for u in settings.users if len(p := u.password_hash.get_secret_value().split("$")) == 4
              and p[1].isdigit()]
    return max(counts, default=DEFAULT_ITERATIONS)


@cache
def _dummy_hash(iterations: int) -> str:
    return hash_password(secrets.token_hex(16), iterations=iterations)


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
            return oidc_user(info, settings.oidc_operators)
    return None


def oidc_user(info: Mapping[str, object], operators: frozenset[str]) -> User:
    """The user of an OIDC sign-in: operator only when the provider says the e-mail is verified.

    The display name (``name``) never grants a role: anyone can choose it. An unverified or missing
    e-mail signs in as a viewer.

    Examples
    --------
    >>> ops = frozenset({"ann@example.com"})
    >>> oidc_user({"email": "Ann@example.com", "email_verified": True}, ops).role
    'operator'
    >>> oidc_user({"email": "ann@example.com", "email_verified": False}, ops).role
    'viewer'
    >>> oidc_user({"name": "ann@example.com"}, ops).role
    'viewer'
    """
    email = str(info.get("email") or "")
    verified = info.get("email_verified") is True or str(info.get("email_verified")).lower() == "true"
    name = email or str(info.get("name") or "unknown")
    role: Role = "operator" if verified and email and email.lower() in operators else "viewer"
    return User(name=name if verified or not email else f"{email} (unverified)", role=role, method="oidc")


def sign_in(user: User) -> None:
    """Keep ``user`` signed in for this browser session."""
    st.session_state[_SESSION_KEY] = user


def logout(user: User) -> None:
    """Sign ``user`` out (local session, or the OIDC cookie)."""
    st.session_state.pop(_SESSION_KEY, None)
    if user.method == "oidc":
        st.logout()
    st.rerun()
