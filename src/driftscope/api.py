"""The Python API for serving code: ``driftscope.log_predictions`` and ``driftscope.log_ground_truth``.

The store is found, in order, from ``engine=`` (an engine you own), ``url=`` (a SQLAlchemy URL),
``config=`` (a ``driftscope.yaml`` path: its ``database.url``) or ``$DRIFTSCOPE_DATABASE_URL``
(else ``sqlite:///driftscope.db``). Each URL is checked once per process to be migrated to the
newest revision; an engine made here is disposed after the call. Every failure is a
:class:`~driftscope.errors.DriftscopeError` whose message says what to run: an unmigrated store
(``driftscope db upgrade``), an unregistered model or version (``driftscope apply``), an
unreachable store (its URL, password hidden). Documented with examples in ``docs/python-api.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from driftscope.errors import ConfigError, StorageError

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine

    from driftscope.collectors.base import SourceSummary

_CHECKED: set[str] = set()
T = TypeVar("T")


def log_predictions(
    model: str,
    version: str,
    df: pd.DataFrame,
    *,
    engine: Engine | None = None,
    url: str | None = None,
    config: str | Path | None = None,
) -> SourceSummary:
    """Store predictions of a registered ``model`` ``version``; invalid rows go to quarantine.

    Parameters
    ----------
    model, version : str
        Names as registered by ``driftscope apply``.
    df : pandas.DataFrame
        One row per prediction, columns named as in the version's schema: the id, the timestamp
        (when the prediction was made; tz-naive means UTC), the prediction, the probability if the
        schema has one, and every feature.
    engine, url, config : optional
        Where the store is (at most one; see the module docstring).

    Returns
    -------
    SourceSummary
        ``rows_read``, ``rows_stored``, ``rows_duplicate`` (ids stored before: a retried call
        stores nothing twice), ``rows_quarantined``, ``status`` and the collector ``run_id``.

    Raises
    ------
    SchemaError
        A required column is missing (nothing is stored).
    NotFoundError
        The model or version is not registered: run ``driftscope apply``.
    StorageError
        The store is not migrated (run ``driftscope db upgrade``) or cannot be reached.
    """
    from driftscope.collectors.python_api import log_predictions as log

    with _store(engine, url, config) as store:
        return _guarded(lambda: log(model, version, df, engine=store), store)


def log_ground_truth(
    model: str,
    df: pd.DataFrame,
    *,
    engine: Engine | None = None,
    url: str | None = None,
    config: str | Path | None = None,
) -> SourceSummary:
    """Store labels (ground truth) of ``model``, matched to predictions by prediction id.

    Parameters
    ----------
    model : str
        The model's name; labels belong to the model, not to a version.
    df : pandas.DataFrame
        The schema's id and target columns, and optionally its timestamp column: the label's own
        time (when it became known). Without it the label is stamped with the time of the call
        (arrival time). Monitors place a label in the window of its *prediction's* timestamp, so
        the label time only records when it arrived.
    engine, url, config : optional
        Where the store is (at most one; see the module docstring).

    Returns
    -------
    SourceSummary
        As :func:`log_predictions`. A label whose prediction is not stored yet is kept and joins
        when the prediction arrives; a changed label replaces the old one (the change is kept).

    Raises
    ------
    SchemaError, NotFoundError, StorageError
        As :func:`log_predictions`.
    """
    from driftscope.collectors.python_api import log_ground_truth as log

    with _store(engine, url, config) as store:
        return _guarded(lambda: log(model, df, engine=store), store)


def log_outcomes(
    model: str,
    df: pd.DataFrame,
    *,
    engine: Engine | None = None,
    url: str | None = None,
    config: str | Path | None = None,
) -> SourceSummary:
    """Store business outcomes (``schema.outcomes``: clicks, conversions, revenue) of ``model``, joined by id.

    Parameters
    ----------
    model : str
        The model's name; outcomes belong to the model and join its predictions by prediction id.
    df : pandas.DataFrame
        The schema's id column and at least one declared outcome column (binary: 0/1, true/false,
        yes/no; numeric: a finite number), optionally the schema's timestamp column (when the
        outcome was observed; without it, the time of the call). Empty outcome cells are allowed
        as long as a row has one value.
    engine, url, config : optional
        Where the store is (at most one; see the module docstring).

    Returns
    -------
    SourceSummary
        As :func:`log_predictions`: ``rows_stored`` counts rows with at least one new outcome value;
        a retried call stores nothing twice. An outcome whose prediction is not stored yet is kept
        and joins when the prediction arrives.

    Raises
    ------
    SchemaError, NotFoundError, StorageError
        As :func:`log_predictions`.
    """
    from driftscope.collectors.python_api import log_outcomes as log

    with _store(engine, url, config) as store:
        return _guarded(lambda: log(model, df, engine=store), store)


@contextmanager
def _store(engine: Engine | None, url: str | None, config: str | Path | None) -> Iterator[Engine]:
    """The engine to log into, checked to be migrated; one made here is disposed afterwards."""
    given = [name for name, value in (("engine", engine), ("url", url), ("config", config)) if value is not None]
    if len(given) > 1:
        raise ConfigError(f"pass at most one of engine=, url= and config= (got {', '.join(given)})")
    from driftscope.storage.db import database_url, make_engine

    if config is not None:
        from driftscope.config import load_config

        url = load_config(config).database_url
    own = engine is None
    store = engine if engine is not None else make_engine(database_url(url))
    try:
        _require_migrated(store)
        yield store
    finally:
        if own:
            store.dispose()


def _require_migrated(engine: Engine) -> None:
    from driftscope.storage.migrations import require_current

    key = engine.url.render_as_string(hide_password=False)
    if key in _CHECKED:
        return
    _guarded(lambda: require_current(engine), engine)
    _CHECKED.add(key)


def _guarded(call: Callable[[], T], engine: Engine) -> T:
    """Run ``call``; a database error becomes a StorageError naming the store (password hidden)."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return call()
    except SQLAlchemyError as exc:
        where = engine.url.render_as_string(hide_password=True)
        first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise StorageError(
            f"the store at {where} failed: {exc.__class__.__name__}: {first}; check the URL "
            "(url=, config= or $DRIFTSCOPE_DATABASE_URL) and run `driftscope db upgrade` on a new store"
        ) from exc
