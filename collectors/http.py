"""The http source: a JSON API paged by cursor, ``{"items": [...], "next": "<cursor>"}``.

The first page is ``url``; a ``next`` that is a URL (absolute or starting with ``/``) is followed as
it is, any other ``next`` is sent as the ``cursor`` query parameter of ``url``. A missing or null
``next`` ends the run.

The watermark is the cursor of the page to read next and how many of its items are already
stored: after the last page it stays on that page, so the next run re-reads it, skips the items
taken, and follows ``next`` once the API adds one. The bearer token comes from the environment
through the config (``token: ${VAR}``). Requests time out after ``timeout``; 5xx answers, 429 and
connection errors are retried ``retries`` times with exponential backoff (0.25 s doubling, at most
8 s); any other error fails the run with the status and the start of the body.
"""

import json
import logging
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import numpy as np
import pandas as pd
import requests

from driftscope.collectors.base import Batch, Rejected, SourceState, WatermarkCheckpoint
from driftscope.collectors.config import SourceConfig
from driftscope.errors import SourceError

log = logging.getLogger(__name__)

BACKOFF_START_S = 0.25
BACKOFF_MAX_S = 8.0
MAX_PAGES_PER_RUN = 1_000_000


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

    def __init__(self, spec: SourceConfig, *, sleep: Any = time.sleep) -> None:
        self.name = spec.name
        self.spec = spec
        self._sleep = sleep

    def batches(self, state: SourceState) -> Iterator[Batch]:
        """Yield the items of each page past the committed cursor."""
        cursor, taken = decode_cursor(state.watermark)
        watermark = state.watermark
        with requests.Session() as session:
            if self.spec.token is not None:
                session.headers["Authorization"] = f"Bearer {self.spec.token.get_secret_value()}"
            for _ in range(MAX_PAGES_PER_RUN):
                items, following = self._page(session, cursor)
                new_items = items[taken:]
                position = encode_cursor(following, 0) if following else encode_cursor(cursor, len(items))
                if position != watermark:
                    yield self._batch(new_items, cursor, taken, WatermarkCheckpoint(watermark, position))
                    watermark = position
                if not following or following == cursor:
                    return
                cursor, taken = following, 0

    def _url(self, cursor: str | None) -> tuple[str, dict[str, str]]:
        if cursor is None:
            return str(self.spec.url), {}
        if cursor.startswith(("http://", "https://", "/")):
            return urljoin(str(self.spec.url), cursor), {}
        return str(self.spec.url), {"cursor": cursor}

    def _page(self, session: requests.Session, cursor: str | None) -> tuple[list[Any], str | None]:
        url, params = self._url(cursor)
        response = self._get(session, url, params)
        try:
            page = response.json()
        except ValueError as exc:
            raise SourceError(f"source {self.name!r}: page {cursor or 'first'} at {url} is not JSON: "
                              f"{response.text[:200]!r}") from exc
        if not isinstance(page, dict) or not isinstance(page.get("items"), list):
            raise SourceError(f"source {self.name!r}: page {cursor or 'first'} at {url} is not "
                              '{"items": [...], "next": ...}; got ' + json.dumps(page)[:200])
        following = page.get("next")
        return page["items"], None if following in (None, "") else str(following)

    def _get(self, session: requests.Session, url: str, params: dict[str, str]) -> requests.Response:
        timeout = self.spec.timeout.total_seconds()
        problem = ""
        for attempt in range(self.spec.retries + 1):
            if attempt:
                self._sleep(min(BACKOFF_START_S * 2 ** (attempt - 1), BACKOFF_MAX_S))
            try:
                response = session.get(url, params=params, timeout=timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                problem = f"{exc.__class__.__name__}: {exc}"
                log.info("source %s: %s (attempt %d)", self.name, problem, attempt + 1)
                continue
            if response.status_code < 400:
                return response
            problem = f"HTTP {response.status_code}: {response.text[:200]!r}"
            if response.status_code < 500 and response.status_code != 429:
                hint = "; check the token" if response.status_code in (401, 403) else ""
                raise SourceError(f"source {self.name!r}: GET {url} answered {problem}{hint}")
            log.info("source %s: GET %s answered HTTP %d (attempt %d)", self.name, url, response.status_code,
                     attempt + 1)
        raise SourceError(f"source {self.name!r}: GET {url} failed after {self.spec.retries + 1} attempts; "
                          f"last: {problem}")

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
