"""Dashboard passwords: PBKDF2-SHA256 hashes and users given in the environment.

A hash is ``pbkdf2_sha256$<iterations>$<salt>$<hex digest>``: PBKDF2-HMAC-SHA256 of the UTF-8
password with the salt's UTF-8 text, 32-byte digest in lowercase hex. ``DRIFTSCOPE_DASHBOARD_USERS`` lists users as
``username:role:hash`` entries separated by commas or whitespace (``role`` is ``viewer`` or
``operator``; ``username:hash`` means a viewer). Make a hash with ``driftscope dashboard hash-password``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import TYPE_CHECKING

from driftscope.errors import ConfigError

if TYPE_CHECKING:
    from driftscope.config.schema import UserConfig

ALGORITHM = "pbkdf2_sha256"
DEFAULT_ITERATIONS = 600_000
USERS_ENV = "DRIFTSCOPE_DASHBOARD_USERS"
ROLES = ("viewer", "operator")
_SALT = re.compile(r"^[A-Za-z0-9./+_-]{1,128}$")


def hash_password(password: str, *, iterations: int = DEFAULT_ITERATIONS, salt: str | None = None) -> str:
    """Hash ``password`` as ``pbkdf2_sha256$<iterations>$<salt>$<hex>`` (random 32-hex-digit salt by default).

    Examples
    --------
    >>> encoded = hash_password("s3cret", iterations=1_000, salt="abc")
    >>> encoded.split("$")[:3]
    ['pbkdf2_sha256', '1000', 'abc']
    >>> verify_password("s3cret", encoded), verify_password("wrong", encoded)
    (True, False)
    """
    if not password:
        raise ConfigError("the password is empty; choose a non-empty password")
    if iterations < 1:
        raise ConfigError(f"iterations must be at least 1, got {iterations}")
    salt = secrets.token_hex(16) if salt is None else salt
    if not _SALT.match(salt):
        raise ConfigError(f"salt {salt!r} must be 1-128 characters of letters, digits and ./+_-")
    return f"{ALGORITHM}${iterations}${salt}${_digest(password, salt, iterations)}"


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches the hash ``encoded`` (constant-time comparison).

    Raises
    ------
    ConfigError
        ``encoded`` is not a ``pbkdf2_sha256$<iterations>$<salt>$<hex>`` hash.
    """
    parts = encoded.split("$")
    if len(parts) != 4 or parts[0] != ALGORITHM or not parts[1].isdigit() or int(parts[1]) < 1:
        raise ConfigError(
            "a dashboard password hash must look like pbkdf2_sha256$<iterations>$<salt>$<hex>; "
            "make one with `driftscope dashboard hash-password`"
        )
    _, iterations, salt, expected = parts
    return hmac.compare_digest(_digest(password, salt, int(iterations)), expected.lower())


def _digest(password: str, salt: str, iterations: int) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations).hex()


def parse_users(text: str, *, origin: str = USERS_ENV) -> list[UserConfig]:
    """Users from ``username:role:hash`` entries separated by commas or whitespace.

    Examples
    --------
    >>> users = parse_users("ann:operator:pbkdf2_sha256$1$s$ab, bob:pbkdf2_sha256$1$s$cd")
    >>> [(u.username, u.role) for u in users]
    [('ann', 'operator'), ('bob', 'viewer')]
    """
    from driftscope.config.schema import UserConfig

    users = []
    for number, entry in enumerate(re.split(r"[,\s]+", text.strip()), start=1):
        if not entry:
            continue
        fields = entry.split(":")
        if len(fields) == 2:
            fields.insert(1, "viewer")
        if len(fields) != 3 or not fields[0] or fields[1] not in ROLES or not fields[2].startswith(ALGORITHM):
            raise ConfigError(
                f"{origin}: entry {number} ({fields[0] or '?'}) must be username:role:hash with role "
                f"viewer or operator and a {ALGORITHM} hash (`driftscope dashboard hash-password`)"
            )
        users.append(UserConfig(username=fields[0], role=fields[1], password_hash=fields[2]))
    return users
