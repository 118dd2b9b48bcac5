"""One scrubber for every configured secret, applied to stored error text and to every log record.

Servers echo credentials back (a 401 body quoting the bearer token, an SMTP 535 quoting the
password), and such text ends up in ``collector_runs.error``, ``delivery_attempts.error`` and the
logs. :func:`remember` is fed the secrets of every loaded configuration (every ``SecretStr``, and
the password of every URL-valued setting, e.g. ``database_url``); :func:`scrub` replaces each of
them, plain or percent-encoded, with ``***``. The first :func:`remember` installs a log record
factory, so records of every logger and handler (including formatted tracebacks) are scrubbed
before any handler sees them. Secrets shorter than :data:`MIN_SECRET_CHARS` are not scrubbed
(they would mask ordinary words); such a secret is too weak to keep anyway.
"""

import logging
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, SecretStr

MIN_SECRET_CHARS = 4
MASK = "***"

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()
_installed = False


def secrets_in(value: Any) -> set[str]:
    """Every secret in a config object: ``SecretStr`` values and passwords in ``*url`` strings.

    Examples
    --------
    >>> from pydantic import BaseModel, SecretStr
    >>> class Section(BaseModel):
    ...     token: SecretStr
    ...     database_url: str
    >>> sorted(secrets_in(Section(token=SecretStr("tok-123"), database_url="postgresql://u:pw-456@db/x")))
    ['pw-456', 'tok-123']
    """
    found: set[str] = set()
    if isinstance(value, SecretStr):
        found.add(value.get_secret_value())
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            field = getattr(value, name)
            if isinstance(field, str) and name.endswith("url"):
                found |= _url_password(field)
            else:
                found |= secrets_in(field)
    elif isinstance(value, dict):
        for item in value.values():
            found |= secrets_in(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            found |= secrets_in(item)
    return {s for s in found if len(s) >= MIN_SECRET_CHARS}


def _url_password(url: str) -> set[str]:
    try:
        password = urlsplit(url).password
    except ValueError:
        return set()
    return {password} if password else set()


def remember(secrets: Iterable[str]) -> None:
    """Scrub ``secrets`` from now on in this process (added to those already remembered)."""
    global _secrets, _installed
    with _lock:
        variants = {v for s in secrets if len(s) >= MIN_SECRET_CHARS for v in (s, quote(s, safe=""))}
        _secrets = tuple(sorted(variants | set(_secrets), key=len, reverse=True))
        if not _installed:
            _install_log_scrubbing()
            _installed = True


def scrub(text: str | None, extra: Iterable[str] = ()) -> str | None:
    """``text`` with every remembered secret (and each of ``extra``) replaced by ``***``.

    Examples
    --------
    >>> scrub("401: bad token Bearer tok-9f3a2c", extra=["tok-9f3a2c"])
    '401: bad token Bearer ***'
    >>> scrub(None) is None
    True
    """
    if not text:
        return text
    secrets = _secrets + tuple(sorted((s for s in extra if len(s) >= MIN_SECRET_CHARS), key=len, reverse=True))
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _install_log_scrubbing() -> None:
    """Wrap the log record factory: messages and tracebacks are scrubbed as records are made."""
    previous = logging.getLogRecordFactory()
    formatter = logging.Formatter()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if not _secrets:
            return record
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: logging reports it as usual
            return record
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(formatter.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return record

    logging.setLogRecordFactory(factory)
