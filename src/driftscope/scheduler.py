"""APScheduler wiring: every scheduled source and monitor, plus the tick, as persistent jobs.

Jobs live in the store (``SQLAlchemyJobStore``, table ``apscheduler_jobs``) so a restart resumes
their next run times; ``coalesce`` + ``misfire_grace_time`` make a job that missed runs during
downtime catch up with one run (when the miss is within the grace time), and ``max_instances=1``
keeps one run per process. Across processes a lease row (``job_leases``) admits one holder per job:
a second scheduler started by mistake skips what the first is running; and a claim row
(``job_claims``, one per job and scheduled time) makes it skip what the first has already run, since
both read the same stored jobs and see the same slots. :class:`SlotExecutor` hands each run its
scheduled time (:data:`driftscope.pipeline.scheduled_slot`).

Jobs are module-level functions with plain arguments (the config path and a name) so APScheduler
can pickle them; each loads the config, runs one :mod:`driftscope.pipeline` cycle under the job's
lease and logs one ``logfmt`` line per run: job, model, version, window, rows, duration, outcome.
With ``metrics_endpoint`` configured, :func:`run_scheduler` also serves the Prometheus endpoint of
:mod:`driftscope.exporter` for as long as it runs.
"""

import concurrent.futures
import contextvars
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.executors.base import BaseExecutor, run_job
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from driftscope import pipeline
from driftscope.alerting.notify import DEFAULT_BACKOFF, Backoff
from driftscope.config import Config, load_config
from driftscope.durations import is_interval, parse_duration
from driftscope.errors import DriftscopeError
from driftscope.extras import require
from driftscope.pipeline import JobOutcome
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.migrations import require_current
from driftscope.storage.registry import list_versions
from driftscope.storage.scheduler_state import beat

if TYPE_CHECKING:
    from driftscope.exporter import MetricsServer

log = logging.getLogger(__name__)

TICK_JOB = "tick"
ARCHIVE_JOB = "archive"
MAX_WORKERS = 4
BEAT_EVERY = timedelta(seconds=10)


@dataclass(frozen=True)
class JobSpec:
    """A job as configured: id (``source:<name>``, ``monitor:<name>`` or ``tick``), function, args, trigger."""

    id: str
    func: Callable[..., JobOutcome]
    args: tuple[Any, ...]
    trigger: BaseTrigger


@cache
def _engine(url: str) -> Engine:
    return make_engine(url)


class SlotExecutor(BaseExecutor):
    """A thread pool that runs each job with its scheduled time in :data:`~driftscope.pipeline.scheduled_slot`.

    With ``coalesce`` a job runs once for its latest missed time, so that time names the slot.

    APScheduler 3 hands a job function only its own arguments: no listener, trigger or job option
    passes the scheduled time (``EVENT_JOB_SUBMITTED`` is dispatched after the job is handed to the
    pool, so it races the run). Its documented extension point is a custom executor: a
    :class:`~apscheduler.executors.base.BaseExecutor` subclass that starts and shuts down its pool and
    implements the base class's abstract ``_do_submit_job``, calling the public
    :func:`~apscheduler.executors.base.run_job` and reporting back through the base class's
    ``_run_job_success``/``_run_job_error`` (which keep ``max_instances`` counts and dispatch the
    events). That is what this class does; it no longer overrides APScheduler's own
    ``ThreadPoolExecutor``. ``tests/test_scheduler_claims.py`` runs it under a real scheduler.
    """

    def __init__(self, max_workers: int) -> None:
        super().__init__()
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers, thread_name_prefix="driftscope-job")

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait)

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        alias = getattr(job, "_jobstore_alias", None)  # set by the scheduler when it stores the job

        def in_slot() -> Any:
            pipeline.scheduled_slot.set(run_times[-1])
            return run_job(job, alias, run_times, self._logger.name)

        def report(future: concurrent.futures.Future[Any]) -> None:
            exc = future.exception()
            if exc is not None:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        self._pool.submit(contextvars.copy_context().run, in_slot).add_done_callback(report)


def trigger_for(schedule: str) -> BaseTrigger:
    """An APScheduler trigger (UTC) for a config schedule: an interval (``"30s"``) or a 5-field cron."""
    if is_interval(schedule):
        return IntervalTrigger(seconds=parse_duration(schedule).total_seconds(), timezone=UTC)
    return CronTrigger.from_crontab(schedule, timezone=UTC)


def job_specs(config: Config, config_path: str, *, retry_base: timedelta) -> list[JobSpec]:
    """Every job the config asks for: scheduled sources, scheduled monitors, and the tick."""
    retry_s = retry_base.total_seconds()
    specs = [JobSpec(f"source:{s.name}", source_job, (config_path, s.name), trigger_for(s.schedule))
             for s in config.sources if s.schedule]
    specs += [JobSpec(f"monitor:{m.name}", monitor_job, (config_path, m.name, retry_s), trigger_for(m.schedule))
              for m in config.monitors if m.schedule]
    if config.retention is not None and config.retention.schedule:
        specs.append(JobSpec(ARCHIVE_JOB, archive_job, (config_path,), trigger_for(config.retention.schedule)))
    tick_every = config.scheduler.tick.total_seconds()
    specs.append(JobSpec(TICK_JOB, tick_job, (config_path, retry_s), IntervalTrigger(seconds=tick_every, timezone=UTC)))
    return specs


def build_scheduler(engine: Engine, config: Config) -> BackgroundScheduler:
    """A scheduler whose jobs persist in the store, with coalescing, one instance and a misfire grace time."""
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine)},
        executors={"default": SlotExecutor(MAX_WORKERS)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": max(1, int(config.scheduler.misfire_grace_time.total_seconds())),
        },
        timezone=UTC,
    )


def sync_jobs(scheduler: BackgroundScheduler, specs: Iterable[JobSpec]) -> dict[str, str]:
    """Make the stored jobs match ``specs``; unchanged jobs keep their persisted next run time.

    Call on a started (paused) scheduler. Returns job id -> ``kept``, ``added``, ``replaced`` or ``removed``.
    """
    stored = {job.id: job for job in scheduler.get_jobs()}
    changes: dict[str, str] = {}
    for spec in specs:
        job = stored.pop(spec.id, None)
        same = job is not None and (job.func, tuple(job.args), str(job.trigger)) == (
            spec.func, spec.args, str(spec.trigger))
        if same:
            changes[spec.id] = "kept"
            continue
        scheduler.add_job(spec.func, spec.trigger, args=spec.args, id=spec.id, name=spec.id, replace_existing=True)
        changes[spec.id] = "added" if job is None else "replaced"
    for job_id in stored:
        scheduler.remove_job(job_id)
        changes[job_id] = "removed"
    return changes


def _context(config_path: str, job: str) -> tuple[Config, Engine] | None:
    """The job's config and engine; None (logged as the job's outcome) when the config no longer loads."""
    try:
        config = load_config(config_path)
    except DriftscopeError as exc:
        pipeline.job_log.error(pipeline.logfmt(job=job, outcome="error", error=str(exc)[:500]))
        return None
    return config, _engine(config.database_url)


def source_job(config_path: str, source: str) -> JobOutcome:
    """Scheduled job: pull one source. Returns the :func:`~driftscope.pipeline.run_job` outcome."""
    job = f"source:{source}"
    if (context := _context(config_path, job)) is None:
        return "error"
    config, engine = context

    def work() -> Iterator[dict[str, Any]]:
        for s in pipeline.collect_cycle(engine, config, sources=[source]):
            spec = config.source(s.source)
            yield {"model": spec.model, "version": spec.version, "window": None, "rows": s.rows_stored,
                   "rows_read": s.rows_read, "quarantined": s.rows_quarantined, "outcome": s.status,
                   "error": s.error}

    return pipeline.run_job(engine, config, job, work)


def monitor_job(config_path: str, monitor: str, retry_base_s: float) -> JobOutcome:
    """Scheduled job: run one monitor for its versions, evaluate rules, deliver notifications."""
    job = f"monitor:{monitor}"
    if (context := _context(config_path, job)) is None:
        return "error"
    config, engine = context

    def work() -> Iterator[dict[str, Any]]:
        model = config.monitor(monitor).model
        report = pipeline.monitor_cycle(engine, config, monitor=monitor, backoff=_backoff(retry_base_s))
        with transaction(engine) as session:
            versions = {v.id: v.version for v in list_versions(session, model=model)}
        for run in report.runs:
            fired = [c for c in report.alerts if c.model_version_id == run.model_version_id]
            yield {"model": model, "version": versions.get(run.model_version_id),
                   "window": f"{run.window_start.isoformat()}/{run.window_end.isoformat()}", "rows": run.n_rows,
                   "outcome": run.status, "alerts": len(fired), "error": run.error}
        if report.deliveries:
            yield {"outcome": "notified", "deliveries": len(report.deliveries),
                   "delivered": sum(d.ok for d in report.deliveries)}

    return pipeline.run_job(engine, config, job, work)


def archive_job(config_path: str) -> JobOutcome:
    """Scheduled job: the retention roll-over (``driftscope archive run``)."""
    if (context := _context(config_path, ARCHIVE_JOB)) is None:
        return "error"
    config, engine = context

    def work() -> Iterator[dict[str, Any]]:
        from driftscope.storage.archive import run_archive

        if config.retention is None:
            return
        for day in run_archive(engine, config.retention):
            yield {"model": day.model, "version": day.version, "window": f"{day.day:%Y-%m-%d}",
                   "rows": day.predictions, "labels": day.labels, "outcome": "archived"}

    return pipeline.run_job(engine, config, ARCHIVE_JOB, work)


def tick_job(config_path: str, retry_base_s: float) -> JobOutcome:
    """Scheduled job: ``no_data`` rules and due deliveries."""
    if (context := _context(config_path, TICK_JOB)) is None:
        return "error"
    config, engine = context

    def work() -> Iterator[dict[str, Any]]:
        report = pipeline.tick(engine, config, backoff=_backoff(retry_base_s))
        yield {"outcome": "ok", "alerts": len(report.alerts), "deliveries": len(report.deliveries),
               "delivered": sum(d.ok for d in report.deliveries)}

    return pipeline.run_job(engine, config, TICK_JOB, work)


def run_once(config_path: str, *, retry_base: timedelta = DEFAULT_BACKOFF.base) -> int:
    """Run every scheduled job once, in order (sources, monitors, tick); 1 when any failed, else 0."""
    path = str(Path(config_path).resolve())
    config = load_config(path)
    require_current(_engine(config.database_url))
    outcomes = [spec.func(*spec.args) for spec in job_specs(config, path, retry_base=retry_base)]
    return 1 if "error" in outcomes else 0


def run_scheduler(config_path: str, *, retry_base: timedelta = DEFAULT_BACKOFF.base) -> int:
    """Run the jobs on their schedules until SIGTERM or SIGINT; returns the exit status.

    The first signal stops scheduling, lets the jobs in flight finish (cycles stop at their next
    safe point) and exits 0; a second one exits at once, abandoning them: their open transactions
    roll back, their leases expire after ``scheduler.lease_ttl`` and claimed messages are sent later.
    """
    path = str(Path(config_path).resolve())
    config = load_config(path)
    engine = make_engine(config.database_url)
    require_current(engine)
    metrics = _serve_metrics(engine, config)  # before the jobs: a port in use fails the start, not a job
    stop = threading.Event()
    _handle_signals(stop)
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)  # our job lines say it all
    scheduler = build_scheduler(engine, config)
    scheduler.start(paused=True)
    changes = sync_jobs(scheduler, job_specs(config, path, retry_base=retry_base))
    summary = {kind: sum(v == kind for v in changes.values()) for kind in ("kept", "added", "replaced", "removed")}
    log.info(pipeline.logfmt(event="scheduler_started", instance=pipeline.instance_id(), config=path, **summary))
    scheduler.resume()
    started = datetime.now(UTC)
    try:
        while True:
            _beat(engine, started, _next_runs(scheduler))
            if stop.wait(min(BEAT_EVERY, config.scheduler.tick).total_seconds()):
                break
    finally:
        pipeline.request_stop()
        scheduler.pause()
        # get_jobs() takes the job-store lock a scheduling pass holds, so a pass in progress ends
        # before the pool closes (else it submits to a closed pool and logs an error).
        _next_runs(scheduler)
        scheduler.shutdown(wait=True)
        _beat(engine, started, {})
        if metrics is not None:
            metrics.close()
        log.info(pipeline.logfmt(event="scheduler_stopped", instance=pipeline.instance_id()))
        engine.dispose()
    return 0


def _serve_metrics(engine: Engine, config: Config) -> "MetricsServer | None":
    """The Prometheus endpoint of ``metrics_endpoint``, when configured (see :mod:`driftscope.exporter`)."""
    if config.metrics_endpoint is None:
        return None
    require("prometheus_client", "metrics")
    from driftscope.exporter import serve_metrics

    return serve_metrics(engine, host=config.metrics_endpoint.host, port=config.metrics_endpoint.port)


def _handle_signals(stop: threading.Event) -> None:
    def handle(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            log.error("second %s: exiting now and abandoning the jobs in flight", name)
            os._exit(128 + signum)
        log.info("%s received: finishing the jobs in flight, then stopping (send it again to exit at once)", name)
        stop.set()
        pipeline.request_stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handle)


def _next_runs(scheduler: BackgroundScheduler) -> dict[str, str]:
    try:
        return {job.id: job.next_run_time.isoformat() for job in scheduler.get_jobs() if job.next_run_time}
    except SQLAlchemyError:
        log.exception("could not read the job store for the heartbeat")
        return {}


def _beat(engine: Engine, started: datetime, next_runs: dict[str, str]) -> None:
    try:
        with transaction(engine) as session:
            beat(session, instance=pipeline.instance_id(), started_at=started, next_runs=next_runs)
    except SQLAlchemyError:
        log.exception("could not write the scheduler heartbeat; will retry")


def _backoff(retry_base_s: float) -> Backoff:
    return Backoff(base=timedelta(seconds=retry_base_s))
