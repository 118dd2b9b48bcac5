"""Run a source's reading and validation ahead of the writer, in one background thread.

Parquet decoding, pandas validation and Arrow encoding release the GIL for much of their work, as
do the database drivers while the server inserts, so preparing batch n+1 while batch n is being
written keeps both cores busy. The queue is bounded (``depth`` batches), order is preserved, and
an exception in the background thread is raised in the consumer at the batch where it happened.
"""

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
U = TypeVar("U")

_POLL_S = 0.1
_JOIN_S = 60.0
_END = object()


def prefetch(items: Iterable[T], transform: Callable[[T], U], *, depth: int = 2) -> Iterator[U]:
    """Yield ``transform(item)`` for each item, computed in a background thread up to ``depth`` ahead.

    Examples
    --------
    >>> list(prefetch(range(5), lambda x: x * x))
    [0, 1, 4, 9, 16]
    """
    results: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, object]) -> None:
        while not stop.is_set():
            try:
                results.put(entry, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def work() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                put((True, transform(item)))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put((False, exc))
        put((True, _END))

    worker = threading.Thread(target=work, name="collector-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            ok, value = results.get()
            if not ok:
                raise value  # type: ignore[misc]
            if value is _END:
                return
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=_JOIN_S)
