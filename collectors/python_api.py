"""Log predictions, ground truth and outcomes straight from serving code, with the collectors' validation.

The DataFrame's columns use the schema's column names (as registered by ``driftscope apply``); each
call is one transaction and one collector run, recorded under the source name
``python:<model>:<version>`` (predictions), ``python:<model>`` (ground truth) or
``python-outcomes:<model>`` (outcomes). Rows are stored
idempotently by prediction id, so retrying a call after an error stores nothing twice. Log in
batches (a call per request would make one collector run per request).

Values the store cannot take (a ``datetime`` of year 1, an unpaired surrogate, a NUL) are
quarantined with their row like any other invalid value. Whatever a call raises, its collector
run is closed as ``failed`` with the error, never left ``running``; an error that is not a
:class:`~driftscope.errors.DriftscopeError` is raised as a :class:`~driftscope.errors.SchemaError`
naming the model and chained to the original.
"""

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from driftscope.collectors.base import Batch, Records, SourceSummary, rows_as_json
from driftscope.collectors.ingest import ingest_batch
from driftscope.collectors.run import summary_of
from driftscope.collectors.target import load_target
from driftscope.errors import DriftscopeError, SchemaError
from driftscope.storage.collector_state import finish_collector_run, start_collector_run
from driftscope.storage.db import make_engine, transaction

PYTHON_PREFIX = "python:"
OUTCOMES_PREFIX = "python-outcomes:"


def _fail(engine: Engine, run_id: int, exc: BaseException) -> None:
    """Close the run as ``failed`` with ``exc`` as its error."""
    with transaction(engine) as session:
        finish_collector_run(session, run_id=run_id, status="failed", error=f"{exc.__class__.__name__}: {exc}"[:4000])


def python_source(model: str, version: str | None = None) -> str:
    """The source name the Python API records rows under.

    Examples
    --------
    >>> python_source("credit-default", "1.0"), python_source("credit-default")
    ('python:credit-default:1.0', 'python:credit-default')
    """
    return f"{PYTHON_PREFIX}{model}" if version is None else f"{PYTHON_PREFIX}{model}:{version}"


def parse_python_source(source: str) -> tuple[str, str | None] | None:
    """``(model, version)`` of a Python API source name (version None for ground truth), else None.

    Examples
    --------
    >>> parse_python_source("python:credit-default:1.0"), parse_python_source("credit-labels")
    (('credit-default', '1.0'), None)
    """
    if not source.startswith(PYTHON_PREFIX):
        return None
    model, _, version = source[len(PYTHON_PREFIX):].partition(":")
    return model, version or None


def python_outcome_source(model: str) -> str:
    """The source name the Python API records outcomes under.

    Examples
    --------
    >>> python_outcome_source("ranker")
    'python-outcomes:ranker'
    """
    return f"{OUTCOMES_PREFIX}{model}"


def parse_python_outcome_source(source: str) -> str | None:
    """The model of a Python API outcome source name, else None.

    Examples
    --------
    >>> parse_python_outcome_source("python-outcomes:ranker"), parse_python_outcome_source("python:ranker")
    ('ranker', None)
    """
    return source[len(OUTCOMES_PREFIX):] if source.startswith(OUTCOMES_PREFIX) else None


def log_predictions(model: str, version: str, df: pd.DataFrame, *, engine: Engine | None = None) -> SourceSummary:
    """Store predictions of ``model`` ``version``; invalid rows go to quarantine.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per prediction, columns named as in the version's schema (id, timestamp,
        prediction, probability if the schema has it, every feature).
    engine : sqlalchemy.Engine, optional
        The store; default ``make_engine()`` on ``$DRIFTSCOPE_DATABASE_URL``.

    Raises
    ------
    SchemaError
        A required column is missing (nothing is stored).
    NotFoundError
        The model or version is not registered (run ``driftscope apply``).
    """
    return _log(model, version, df, "predictions", engine)


def log_ground_truth(model: str, df: pd.DataFrame, *, engine: Engine | None = None) -> SourceSummary:
    """Store labels of ``model``: columns the schema's id and target, optionally its timestamp.

    Without the timestamp column a label is stamped with the time of the call. A label for a
    prediction not logged yet is kept and joins when the prediction arrives; a changed label
    replaces the old one and the change is recorded. Raises as :func:`log_predictions`.
    """
    return _log(model, None, df, "ground_truth", engine)


def log_outcomes(model: str, df: pd.DataFrame, *, engine: Engine | None = None) -> SourceSummary:
    """Store outcomes (business results) of ``model``: the schema's id, any of its ``outcomes`` columns, optionally
    its timestamp.

    Binary outcomes take 0/1, true/false or yes/no, numeric ones finite numbers; an empty cell means
    "not known (yet)". Without the timestamp column an outcome is stamped with the time of the call.
    An outcome for a prediction not logged yet is kept and joins when the prediction arrives; the
    first value of a (prediction id, outcome) is kept, so a retried call stores nothing twice.
    Raises as :func:`log_predictions`.
    """
    return _log(model, None, df, "outcomes", engine)


def _log(model: str, version: str | None, df: pd.DataFrame, records: Records, engine: Engine | None) -> SourceSummary:
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"log {records} of {model!r}: expected a pandas DataFrame, got {type(df).__name__}")
    own = engine is None
    engine = engine or make_engine()
    source = python_outcome_source(model) if records == "outcomes" else python_source(model, version)
    try:
        with transaction(engine) as session:
            target = load_target(session, source=source, records=records, model=model, version=version)
            run_id = start_collector_run(session, source=source, interrupt_stale=False)
        labels = df.index
        frame = df.reset_index(drop=True)

        def locate(positions: np.ndarray) -> list[str]:
            return [f"dataframe row {labels[i]}" for i in positions.tolist()]

        batch = Batch(frame, "the DataFrame", locate, rows_as_json(frame), checkpoint=None)
        try:
            ingest_batch(engine, target, batch, run_id=run_id)
        except DriftscopeError as exc:
            _fail(engine, run_id, exc)
            raise
        except Exception as exc:
            error = SchemaError(f"log {records} of {model!r}: the DataFrame could not be stored "
                                f"({exc.__class__.__name__}: {exc}); check its column names and values")
            _fail(engine, run_id, error)
            raise error from exc
        except BaseException as exc:  # KeyboardInterrupt, SystemExit: still close the run
            _fail(engine, run_id, exc)
            raise
        with transaction(engine) as session:
            return summary_of(finish_collector_run(session, run_id=run_id, status="succeeded"))
    finally:
        if own:
            engine.dispose()
