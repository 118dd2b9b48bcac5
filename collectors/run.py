"""Run configured sources once: open a collector run, drain the source batch by batch, close the run.

A source that fails is recorded as ``failed`` in ``collector_runs`` and in its summary; the
others still run. Within a files source a file that cannot be read, lacks required columns, or
whose batch the store refuses fails alone and the source goes on with the next file; the run is
then ``failed`` and its error lists every file's error (and the source's own, if it then failed).
"""

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from driftscope.collectors.base import (
    Batch,
    FileCheckpoint,
    OffsetCheckpoint,
    Source,
    SourceFailure,
    SourceState,
    SourceSummary,
)
from driftscope.collectors.config import CollectorSettings, SourceConfig
from driftscope.collectors.files import FilesSource
from driftscope.collectors.http import HttpSource
from driftscope.collectors.ingest import Prepared, commit, prepare, quarantine_all
from driftscope.collectors.kafka import KafkaSource
from driftscope.collectors.lake import collect_lake
from driftscope.collectors.prefetch import prefetch
from driftscope.collectors.progress import Progress
from driftscope.collectors.sql import SqlSource
from driftscope.collectors.target import Target, load_target
from driftscope.errors import DriftscopeError, SchemaError
from driftscope.redact import remember, scrub, secrets_in
from driftscope.storage.collector_state import (
    CollectorRunInfo,
    ConcurrentCollectError,
    file_marks,
    finish_collector_run,
    get_watermark,
    start_collector_run,
)
from driftscope.storage.db import transaction
from driftscope.storage.stream_offsets import record_lag, stream_offsets

log = logging.getLogger(__name__)
MAX_ERROR_CHARS = 4000


def collect(
    engine: Engine, config: CollectorSettings, *, sources: list[str] | None = None, progress: bool = False
) -> list[SourceSummary]:
    """Run each selected source (default: all configured) once; one summary per source, in order.

    Never raises for one source's failure; unknown names in ``sources`` raise
    :class:`~driftscope.errors.NotFoundError` before anything runs.
    """
    selected = list(config.sources) if sources is None else [config.source(name) for name in sources]
    return [run_source(engine, spec, progress=progress) for spec in selected]


def run_source(engine: Engine, spec: SourceConfig, *, progress: bool = False, follow_s: float | None = None,
               stop: threading.Event | None = None) -> SourceSummary:
    """Run one configured source once and return its summary (see :func:`collect`).

    ``follow_s`` and ``stop`` apply to stream sources: read for that many seconds (not just up to
    the end offsets found at the start), stopping early between batches once ``stop`` is set.
    """
    remember(secrets_in(spec))  # servers echo tokens: keep them out of the store and the logs
    with transaction(engine) as session:
        run_id = start_collector_run(session, source=spec.name)
    reporter = Progress(spec.name, enabled=progress)
    failures: list[str] = []
    try:
        if spec.kind == "lake":
            collect_lake(engine, spec, run_id)
        else:
            _drain(engine, spec, run_id, reporter, failures, follow_s=follow_s, stop=stop)
    except (DriftscopeError, SQLAlchemyError, OSError, ValueError) as exc:
        log.error("source %s failed: %s", spec.name, exc)
        failures.append(f"{exc.__class__.__name__}: {exc}")
    except Exception as exc:  # one source's bug must not stop the other sources
        log.exception("source %s failed unexpectedly", spec.name)
        failures.append(f"unexpected {exc.__class__.__name__}: {exc}")
    finally:
        reporter.close()
    status, error = ("failed", "; ".join(failures)) if failures else ("succeeded", None)
    with transaction(engine) as session:
        info = finish_collector_run(session, run_id=run_id, status=status, error=_clip(scrub(error)))
    return summary_of(info)


def summary_of(info: CollectorRunInfo) -> SourceSummary:
    """The summary of a finished collector run."""
    return SourceSummary(info.source, info.status, info.rows_read, info.rows_stored, info.rows_duplicate,
                         info.rows_quarantined, info.error, rows_conflict=info.rows_conflict)


def _drain(engine: Engine, spec: SourceConfig, run_id: int, reporter: Progress, failures: list[str], *,
           follow_s: float | None = None, stop: threading.Event | None = None) -> None:
    """Ingest every batch; add to ``failures`` the parts (files, partitions) that failed and were passed."""
    with transaction(engine) as session:
        target = load_target(
            session, source=spec.name, records=spec.records, model=spec.model, version=spec.version,
            version_column=spec.version_column, mapping=spec.columns,
            label_time_column=spec.watermark if spec.kind == "sql" else None, max_future_skew=spec.max_future_skew,
        )
        offsets = stream_offsets(session, source=spec.name, topic=spec.topic) if spec.topic else {}
        state = SourceState(watermark=get_watermark(session, source=spec.name),
                            files=file_marks(session, source=spec.name),
                            offsets={p: offset for p, (offset, _) in offsets.items()})
    failed_files: set[str] = set()
    source = build_source(spec, target, follow_s=follow_s, stop=stop)
    for item in prefetch(source.batches(state), lambda batch: _prepare(batch, target)):
        if isinstance(item, SourceFailure):
            failures.append(item.error)
            continue
        checkpoint = item.batch.checkpoint
        path = checkpoint.mark.path if isinstance(checkpoint, FileCheckpoint) else None
        if path in failed_files:
            continue
        try:
            counts = commit(engine, target, item, run_id=run_id)
        except (DriftscopeError, SQLAlchemyError, ValueError) as exc:
            if path is None or isinstance(exc, ConcurrentCollectError):
                raise
            database = isinstance(exc, SQLAlchemyError)
            detail = f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}" if database else str(exc)
            failures.append(f"{path}: {detail}")
            failed_files.add(path)
            continue
        reporter.add(counts)
    if isinstance(source, KafkaSource):
        _record_lag(engine, source, run_id)


def _record_lag(engine: Engine, source: "KafkaSource", run_id: int) -> None:
    """Store each partition's lag at the end of the run (what was committed against the end offsets now)."""
    with transaction(engine) as session:
        committed = stream_offsets(session, source=source.name, topic=source.topic)
    lags = source.lag(committed)
    with transaction(engine) as session:
        record_lag(session, run_id=run_id, source=source.name, lags=lags)


def _prepare(item: Batch | SourceFailure, target: Target) -> Prepared | SourceFailure:
    if isinstance(item, SourceFailure):
        return item
    try:
        prepared = prepare(item, target, now=datetime.now(UTC))
    except (ValueError, TypeError, ArithmeticError) as exc:  # a value validation did not foresee: fail the batch alone
        log.exception("source %s: validating %s failed", target.source, item.origin)
        error = SchemaError(f"source {target.source!r}, {item.origin}: validation failed on an unexpected value "
                            f"({exc.__class__.__name__}: {exc}); please report it")
        prepared = Prepared(item, None, None, error=error)
    if prepared.error is not None and isinstance(item.checkpoint, OffsetCheckpoint):
        return quarantine_all(prepared)
    return prepared


def build_source(spec: SourceConfig, target: Target, *, follow_s: float | None = None,
                 stop: threading.Event | None = None) -> Source:
    """The source object of a configured source (``follow_s`` and ``stop``: see :func:`run_source`)."""
    factories: dict[str, Callable[[], Source]] = {
        "files": lambda: FilesSource(spec, dictionary_columns=target.dictionary_columns),
        "sql": lambda: SqlSource(spec, key_column=target.column(target.label_plan.schema["id"])),
        "http": lambda: HttpSource(spec),
        "kafka": lambda: KafkaSource(spec, follow_s=follow_s, stop=stop),
    }
    return factories[spec.kind]()


def _clip(error: str | None) -> str | None:
    if error is None or len(error) <= MAX_ERROR_CHARS:
        return error
    return error[:MAX_ERROR_CHARS] + f"... ({len(error) - MAX_ERROR_CHARS} more characters)"
