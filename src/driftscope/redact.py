"""One scrubber for every configured secret, applied to stored error text and to every log record.

Servers echo credentials back (a 401 body quoting the bearer token, an SMTP 535 quoting the
password or the whole ``AUTH PLAIN`` line), and such text ends up in ``collector_runs.error``,
``delivery_attempts.error`` and the logs. :func:`remember` is fed the secrets of every loaded
configuration (:func:`secrets_in`: every ``SecretStr``, the password of every URL-valued setting,
e.g. ``database_url``, and the path and query of a URL marked :class:`SecretInPath`, where Slack,
Teams and Discord webhooks keep their token); :func:`scrub` replaces each of them with ``***`` in
every form it travels in: plain, percent-encoded, and base64 (standard and URL-safe alphabets, at
each of the three byte alignments, so the password inside ``base64("\\0user\\0password")`` or a
Basic ``user:password`` header is found too; the one or two characters at each end of such a
span, shared with the bytes around the secret, stay visible).

The first :func:`remember` installs a log record factory, so records of every logger and handler
(including formatted tracebacks) are scrubbed before any handler sees them. Secrets shorter than
:data:`MIN_SECRET_CHARS` cannot be scrubbed without masking ordinary words, so they are not;
``driftscope config check`` refuses them (:func:`short_secrets`), and loading a configuration that
holds one logs a warning.
"""

import base64
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from pydantic import BaseModel, SecretStr

MIN_SECRET_CHARS = 4
TOKEN_CHARS = 16
"""A URL path segment or query value this long, in a :class:`SecretInPath` URL, is taken for a token."""
MASK = "***"

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()
_installed = False
_URLSAFE = str.maketrans("+/", "-_")


@dataclass(frozen=True)
class SecretInPath:
    """Field marker (``Annotated[str, SecretInPath()]``): the URL's path and query hold a credential.

    Slack's incoming webhooks (``/services/T.../B.../<token>``), Teams' and Discord's put the token in
    the path, so a server, a proxy or urllib3's debug log quoting the path leaks it.
    """


def secret_items(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """``(key path, secret)`` for every secret in a config object; see :func:`secrets_in`.

    Examples
    --------
    >>> from pydantic import BaseModel, SecretStr
    >>> class Section(BaseModel):
    ...     tokens: list[SecretStr]
    >>> list(secret_items(Section(tokens=[SecretStr("tok-123")]), "auth"))
    [('auth.tokens[0]', 'tok-123')]
    """
    if isinstance(value, SecretStr):
        yield path, value.get_secret_value()
    elif isinstance(value, BaseModel):
        fields = type(value).model_fields
        for name, info in fields.items():
            field, where = getattr(value, name), f"{path}.{name}" if path else name
            if isinstance(field, str) and any(isinstance(m, SecretInPath) for m in info.metadata):
                yield from ((where, s) for s in _path_secrets(field))
            elif isinstance(field, str) and name.endswith("url"):
                yield from ((where, s) for s in _url_password(field))
            else:
                yield from secret_items(field, where)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from secret_items(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from secret_items(item, f"{path}[{i}]")
    elif isinstance(value, set | frozenset):
        for item in value:
            yield from secret_items(item, path)


def secrets_in(value: Any) -> set[str]:
    """Every scrubbable secret in a config object: ``SecretStr`` values, passwords in ``*url`` strings,
    the path and query of :class:`SecretInPath` URLs.

    Examples
    --------
    >>> from pydantic import BaseModel, SecretStr
    >>> class Section(BaseModel):
    ...     token: SecretStr
    ...     database_url: str
    >>> sorted(secrets_in(Section(token=SecretStr("tok-123"), database_url="postgresql://u:pw-456@db/x")))
    ['pw-456', 'tok-123']
    """
    return {s for _, s in secret_items(value) if len(s) >= MIN_SECRET_CHARS}


def short_secrets(value: Any) -> list[str]:
    """Key paths of secrets too short to scrub (under :data:`MIN_SECRET_CHARS` characters, but set).

    Examples
    --------
    >>> from pydantic import BaseModel, SecretStr
    >>> class Section(BaseModel):
    ...     token: SecretStr
    >>> short_secrets(Section(token=SecretStr("abc")))
    ['token']
    """
    return [where for where, s in secret_items(value) if 0 < len(s) < MIN_SECRET_CHARS]


def _path_secrets(url: str) -> set[str]:
    """The path and query of a URL whose path holds a token (a segment or value of :data:`TOKEN_CHARS`+).

    Examples
    --------
    >>> sorted(_path_secrets("https://hooks.example/services/T01/B02/Xq7bP2mZ8rT4vW9yK3nL6cD1"))
    ['/services/T01/B02/Xq7bP2mZ8rT4vW9yK3nL6cD1', 'Xq7bP2mZ8rT4vW9yK3nL6cD1']
    >>> _path_secrets("http://127.0.0.1:9200/alerts")
    set()
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return set()
    tokens = {p for p in parts.path.split("/") if len(p) >= TOKEN_CHARS}
    tokens |= {v for _, v in parse_qsl(parts.query) if len(v) >= TOKEN_CHARS}
    if not tokens:
        return set()
    whole = {parts.path, parts.query, f"{parts.path}?{parts.query}" if parts.query else parts.path}
    return {s for s in whole | tokens if len(s) >= MIN_SECRET_CHARS}


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
        variants = {v for s in secrets if len(s) >= MIN_SECRET_CHARS for v in forms(s)}
        _secrets = tuple(sorted(variants | set(_secrets), key=len, reverse=True))
        if not _installed:
            _install_log_scrubbing()
            _installed = True


def forms(secret: str) -> set[str]:
    """The texts a secret travels as: itself, percent-encoded, and its base64 cores.

    A base64 core is the part of the encoding that depends on the secret's bytes alone, for each of
    the three positions the secret can start at in the encoded bytes (standard and URL-safe alphabet).

    Examples
    --------
    >>> import base64
    >>> line = base64.b64encode(b"\\0alerts\\0smtp-pw-77c1e0").decode()
    >>> any(core in line for core in forms("smtp-pw-77c1e0"))
    True
    """
    raw = secret.encode()
    found = {secret, quote(secret, safe="")}
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        core = encoded[-(-8 * shift // 6):(8 * (shift + len(raw))) // 6]
        if len(core) >= MIN_SECRET_CHARS:
            found |= {core, core.translate(_URLSAFE)}
    return found


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
    more = {v for s in extra if len(s) >= MIN_SECRET_CHARS for v in forms(s)}
    secrets = _secrets + tuple(sorted(more, key=len, reverse=True))
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
