"""The http source: a JSON API paged by cursor, ``{"items": [...], "next": "<cursor>"}``.

The first page is ``url``; a ``next`` that is a URL (absolute or starting with ``/``) is followed as
it is, any other ``next`` is sent as the ``cursor`` query parameter of ``url``. A missing or null
``next`` ends the run, and so does a ``next`` equal to the page's own cursor.

Safety (issue #18): a ``next`` URL on another origin (scheme, host or port) than ``url`` is refused
with an error, never followed: the bearer token must not reach a host the configuration did not
name, and an API that pages across hosts is better configured as two sources. A cursor seen before in
the same run (``A -> B -> A``) is an error rather than an endless loop. ``timeout`` is a hard
deadline per attempt of a request (sending, waiting, reading the headers and the whole body; see
:mod:`driftscope.collectors.deadline`), so a server that trickles its answer byte by byte or goes
silent half-way fails the request in time: at most ``(retries + 1) * timeout`` plus the backoffs.

The watermark is the cursor of the page to read next and how many of its items are already
stored: after the last page it stays on that page, so the next run re-reads it, skips the items
taken, and follows ``next`` once the API adds one. The bearer token comes from the environment
through the config (``token: ${VAR}``). 5xx answers, 429 and connection errors are retried
``retries`` times by urllib3's :class:`~urllib3.util.Retry`: exponential backoff (0.25 s factor, at
most 8 s), or the server's ``Retry-After`` when it sends one (at most 60 s). Redirects are not
followed. Any other error fails the run with the status and the start of the body; messages name the
source and the URL.
"""

import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import numpy as np
import pandas as pd
import requests
from urllib3.exceptions import HTTPError

from driftscope.collectors.base import Batch, Rejected, SourceState, WatermarkCheckpoint
from driftscope.collectors.config import SourceConfig
from driftscope.collectors.deadline import AttemptRetry, Deadline, deadline_session, watch
from driftscope.errors import SourceError

log = logging.getLogger(__name__)

BACKOFF_FACTOR_S = 0.25
BACKOFF_MAX_S = 8.0
RETRY_AFTER_MAX_S = 60
RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_PAGES_PER_RUN = 1_000_000
CHUNK_BYTES = 64 * 1024


def encode_cursor(cursor: str | None, taken: int) -> str:
    """Watermark text of the page ``cursor`` (None: the first page) with ``taken`` items stored.

    Examples
    --------
    >>> decode_cursor(encode_cursor("abc", 3))
    ('abc', 3)
    """
    return json.dumps({"cursor": cursor, "taken": taken})


def decode_cursor(watermark: str | None) -> tuple[str | None, int]:
    """The ``(cursor, taken)`` pair of :func:`encode_cursor`; ``(None, 0)`` before the first page."""
    if watermark is None:
        return None, 0
    try:
        data = json.loads(watermark)
        return data["cursor"], int(data["taken"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"the stored watermark {watermark[:120]!r} is not an http source position; if the "
                          "source was renamed or changed kind, give it a new name to start from the beginning") from exc


class HttpSource:
    """Pages of a cursor-paged JSON API; see the module docstring."""

    def __init__(self, spec: SourceConfig) -> None:
        self.name = spec.name
        self.spec = spec

    def batches(self, state: SourceState) -> Iterator[Batch]:
        """Yield the items of each page past the committed cursor."""
        cursor, taken = decode_cursor(state.watermark)
        watermark = state.watermark
        seen = {cursor}
        with self._session() as session:
            for _ in range(MAX_PAGES_PER_RUN):
                items, following = self._page(session, cursor)
                new_items = items[taken:]
                position = encode_cursor(following, 0) if following else encode_cursor(cursor, len(items))
                if position != watermark:
                    yield self._batch(new_items, cursor, taken, WatermarkCheckpoint(watermark, position))
                    watermark = position
                if not following or following == cursor:
                    return
                if following in seen:
                    raise SourceError(f"source {self.name!r}: page {cursor} at {self._url(cursor)[0]} names "
                                      f"next={following!r}, a cursor already read in this run: the API's cursors "
                                      "form a cycle; fix the API, or its pages would be read forever")
                seen.add(following)
                cursor, taken = following, 0

    def _session(self) -> requests.Session:
        """A session that retries with urllib3's :class:`Retry` (honouring ``Retry-After``), redirects off."""
        retry = AttemptRetry(
            total=self.spec.retries, connect=self.spec.retries, read=self.spec.retries, status=self.spec.retries,
            redirect=0, status_forcelist=RETRY_STATUSES, allowed_methods=["GET"], backoff_factor=BACKOFF_FACTOR_S,
            backoff_max=BACKOFF_MAX_S, respect_retry_after_header=True, retry_after_max=RETRY_AFTER_MAX_S,
            raise_on_status=False, raise_on_redirect=False,
        )
        session = deadline_session(retry)
        if self.spec.token is not None:
            session.headers["Authorization"] = f"Bearer {self.spec.token.get_secret_value()}"
        return session

    def _url(self, cursor: str | None) -> tuple[str, dict[str, str]]:
        if cursor is None:
            return str(self.spec.url), {}
        if cursor.startswith(("http://", "https://", "/")):
            url = urljoin(str(self.spec.url), cursor)
            if _origin(url) != _origin(str(self.spec.url)):
                raise SourceError(
                    f"source {self.name!r}: a page of {self.spec.url} names next={cursor!r}, on another origin "
                    f"({_origin(url)} instead of {_origin(str(self.spec.url))}); refused, so the token never leaves "
                    "the configured host. Make the API return cursors or same-origin links, or configure that "
                    "host as its own source"
                )
            return url, {}
        return str(self.spec.url), {"cursor": cursor}

    def _page(self, session: requests.Session, cursor: str | None) -> tuple[list[Any], str | None]:
        url, params = self._url(cursor)
        body = self._get(session, url, params)
        try:
            page = json.loads(body)
        except ValueError as exc:
            raise SourceError(f"source {self.name!r}: page {cursor or 'first'} at {url} is not JSON: "
                              f"{body[:200]!r}") from exc
        if not isinstance(page, dict) or not isinstance(page.get("items"), list):
            raise SourceError(f"source {self.name!r}: page {cursor or 'first'} at {url} is not "
                              '{"items": [...], "next": ...}; got ' + json.dumps(page)[:200])
        following = page.get("next")
        return page["items"], None if following in (None, "") else str(following)

    def _get(self, session: requests.Session, url: str, params: dict[str, str]) -> bytes:
        """The body of a GET (retried by the session's :class:`Retry`), within the ``timeout`` deadline."""
        limit = self.spec.timeout.total_seconds()
        attempts = self.spec.retries + 1
        with watch(limit) as deadline:
            try:
                with session.get(url, params=params, timeout=limit, stream=True, allow_redirects=False) as response:
                    body = _read_body(response, deadline)
            except (requests.ConnectionError, requests.Timeout, HTTPError, TimeoutError) as exc:
                if deadline.expired or isinstance(exc, TimeoutError):
                    raise SourceError(
                        f"source {self.name!r}: GET {url} did not finish within timeout {limit:g}s (per attempt, "
                        f"{attempts} attempts; the server answers too slowly or went silent); raise the source's "
                        "timeout or fix the server") from exc
                raise SourceError(f"source {self.name!r}: GET {url} failed after {attempts} attempts; last: "
                                  f"{exc.__class__.__name__}: {exc}") from exc
        if response.status_code < 300:
            return body
        problem = f"HTTP {response.status_code}: {body[:200].decode('utf-8', 'replace')!r}"
        if response.status_code in RETRY_STATUSES:
            raise SourceError(f"source {self.name!r}: GET {url} failed after {attempts} attempts; last: {problem}")
        hint = "; check the token" if response.status_code in (401, 403) else ""
        hint = "; redirects are not followed: configure the final URL" if response.is_redirect else hint
        raise SourceError(f"source {self.name!r}: GET {url} answered {problem}{hint}")

    def _batch(self, items: list[Any], cursor: str | None, offset: int, checkpoint: WatermarkCheckpoint) -> Batch:
        page = cursor or "first"
        is_object = np.fromiter((isinstance(item, dict) for item in items), dtype=bool, count=len(items))
        index = offset + np.flatnonzero(is_object)
        objects = [item for item, ok in zip(items, is_object, strict=True) if ok]
        rejected = Rejected(
            [f"page {page} item {offset + i}" for i in np.flatnonzero(~is_object).tolist()],
            [f"a JSON {type(items[i]).__name__} where an object was expected" for i in np.flatnonzero(~is_object)],
            [json.dumps(items[i]) for i in np.flatnonzero(~is_object).tolist()],
        )
        frame = pd.DataFrame.from_records(objects) if objects else pd.DataFrame()

        def locate(positions: np.ndarray) -> list[str]:
            return [f"page {page} item {i}" for i in index[positions].tolist()]

        def payloads(positions: np.ndarray) -> list[str]:
            return [json.dumps(objects[i], default=str) for i in positions.tolist()]

        return Batch(frame, f"page {page}", locate, payloads, checkpoint, rejected)


def _origin(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` with the scheme's default port filled in."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def _read_body(response: requests.Response, deadline: Deadline) -> bytes:
    """The whole body, or :class:`TimeoutError` when the deadline cut it (its socket shut down mid-read)."""
    chunks = []
    while chunk := response.raw.read1(CHUNK_BYTES, decode_content=True):
        chunks.append(chunk)
    if deadline.expired:
        raise TimeoutError("the answer was not read before the deadline")
    return b"".join(chunks)
