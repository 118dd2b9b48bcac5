"""A hard deadline for each attempt of an HTTP request made through :func:`deadline_session`.

Socket timeouts bound each read, not a request: a server that trickles its headers or body a byte
at a time, each in time for the per-read timeout, or that goes silent just before the deadline,
holds a request far longer than ``timeout``. Here a watchdog timer shuts down the sockets an
attempt uses when its time is up, so whatever read is blocked returns at once, in every phase
(sending, waiting for the status line, headers, body). The watchdog restarts when urllib3's
:class:`~urllib3.util.Retry` begins a new attempt (after its backoff or ``Retry-After`` sleep), so
``timeout`` bounds each attempt and a request with ``retries`` takes at most ``(retries + 1) *
timeout`` plus the sleeps. Connecting is bounded by the connect timeout of the request (the socket
is watched from the moment it is connected).

The sockets are found through the connection classes of the session's pools (they enlist their
socket with the current :class:`Deadline` when they connect and when a kept-alive connection sends
a request); the deadline in force is a context variable, set by :func:`watch` for one request.
"""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.response import BaseHTTPResponse
from urllib3.util import Retry


class Deadline:
    """``seconds`` per attempt; when they pass, every socket enlisted since the attempt began is shut down."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        """Whether any attempt ran out of time (its sockets were shut down)."""
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._over = False  # the current attempt's time is up
        self._attempt = 0
        self._done = False

    def start(self) -> None:
        """Begin an attempt: ``seconds`` from now, its sockets are shut down."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._sockets, self._over = [], False
            self._attempt += 1
            self._timer = threading.Timer(self.seconds, self._expire, args=(self._attempt,))
            self._timer.daemon = True
            self._timer.start()

    def enlist(self, sock: socket.socket | None) -> None:
        """Watch ``sock`` for the current attempt (shut down at once if the attempt is already over)."""
        if sock is None:
            return
        with self._lock:
            if self._done:
                return
            if not self._over:
                self._sockets.append(sock)
                return
        _shut(sock)

    def stop(self) -> None:
        """The request is over: nothing is shut down any more (sockets go back to the pool intact)."""
        with self._lock:
            self._done = True
            self._sockets = []
            if self._timer is not None:
                self._timer.cancel()

    def _expire(self, attempt: int) -> None:
        with self._lock:
            if self._done or attempt != self._attempt:  # a timer of an earlier attempt, cancelled too late
                return
            self.expired = self._over = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


_current: ContextVar[Deadline | None] = ContextVar("driftscope_http_deadline", default=None)


@contextmanager
def watch(seconds: float) -> Iterator[Deadline]:
    """The deadline of one request made inside the block (its first attempt starts now)."""
    deadline = Deadline(seconds)
    token = _current.set(deadline)
    deadline.start()
    try:
        yield deadline
    finally:
        deadline.stop()
        _current.reset(token)


def _enlist(sock: socket.socket | None) -> None:
    deadline = _current.get()
    if deadline is not None:
        deadline.enlist(sock)


class _Enlisting:
    """Connection mix-in: a new or kept-alive connection's socket is watched by the deadline in force."""

    sock: socket.socket | None

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _enlist(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _enlist(self.sock)  # None on a new connection: connect() enlists it
        super().request(*args, **kwargs)  # type: ignore[misc]


class _Connection(_Enlisting, HTTPConnection):
    pass


class _TlsConnection(_Enlisting, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TlsPool(HTTPSConnectionPool):
    ConnectionCls = _TlsConnection


class AttemptRetry(Retry):
    """urllib3's :class:`Retry`; the deadline in force restarts when the next attempt begins."""

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        super().sleep(response)
        deadline = _current.get()
        if deadline is not None:
            deadline.start()


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TlsPool}


def deadline_session(retry: AttemptRetry) -> requests.Session:
    """A session whose requests, made inside :func:`watch`, keep its deadline; redirects are not followed."""
    session = requests.Session()
    session.max_redirects = 0
    adapter = _Adapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
