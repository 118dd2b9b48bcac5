"""Orchestration of one unit of unattended work, callable without APScheduler (CLI, tests, demo).

* :func:`collect_cycle`: pull the sources.
* :func:`monitor_cycle`: run monitors and the experiments of their models -> judge every run in the rules'
  outbox and the experiments' looks -> deliver due notifications.
* :func:`tick`: judge runs left in the outbox (a crashed cycle's) -> evaluate ``no_data`` rules ->
  deliver due notifications (retries included) -> roll up the profiles of ended days.
* :func:`run_job`: any of these under a job's lease (one holder across processes), logged as one
  ``logfmt`` line per run on the ``driftscope.jobs`` logger.

Each step commits its own transactions, so a failure later in a cycle never undoes stored results.
:func:`request_stop` asks running cycles to stop at the next safe point (between messages; a
monitor run in progress completes), which is how the scheduler shuts down on SIGTERM.
"""

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Literal

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from driftscope.alerting.notify import DEFAULT_BACKOFF, Backoff, Delivery, deliver_due
from driftscope.alerting.rules import AlertChange, evaluate_no_data, evaluate_pending
from driftscope.alerting.rules.experiments import evaluate_experiments
from driftscope.alerting.rules.source_lag import evaluate_source_lag
from driftscope.config import Config
from driftscope.storage.db import transaction
from driftscope.storage.profiles.rollup import build_rollups
from driftscope.storage.results import RunInfo, pending_runs
from driftscope.storage.scheduler_state import acquire_lease, claim_slot, get_lease, release_lease, renew_lease

log = logging.getLogger(__name__)
job_log = logging.getLogger("driftscope.jobs")
ROLLUP_DAYS_PER_TRANSACTION = 8
ROLLUP_BUDGET_S = 20.0
_STOP = threading.Event()
scheduled_slot: ContextVar[datetime | None] = ContextVar("scheduled_slot", default=None)
"""The scheduled time of the job run in progress (set by the scheduler's executor; None for ``--once``)."""


def request_stop() -> None:
    """Ask running cycles to stop at their next safe point (idempotent, thread-safe)."""
    _STOP.set()


def stop_requested() -> bool:
    """True once :func:`request_stop` was called in this process."""
    return _STOP.is_set()


@dataclass(frozen=True)
class CycleReport:
    """What a cycle did: monitor runs stored, alert changes, delivery attempts."""

    runs: list[RunInfo] = field(default_factory=list)
    alerts: list[AlertChange] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    experiments: list[Any] = field(default_factory=list)
    """:class:`driftscope.monitors.experiment_runner.ExperimentRun` of each experiment evaluated."""


def collect_cycle(engine: Engine, config: Config, *, sources: list[str] | None = None) -> list[Any]:
    """Pull ``sources`` (default: all) once; return the collectors' per-source summaries."""
    # Imported here: the collectors' dependencies (fsspec, pyarrow readers) are not needed by the
    # alert commands and the tick, which import this module.
    from driftscope.collectors import collect

    return collect(engine, config, sources=sources)


def monitor_cycle(
    engine: Engine, config: Config, *, backoff: Backoff = DEFAULT_BACKOFF, **selection: Any
) -> CycleReport:
    """Run monitors, then the rules on every run in their outbox, then deliver due notifications.

    ``selection`` goes to ``run_monitors``: monitor, model, version, window_end, backfill_from,
    backfill_until, now. The outbox holds this cycle's runs and any a crashed cycle stored but never
    judged.

    ``selection["now"]``, when given, is also the rules' clock (cooldown, retraining interval).
    """
    # Imported here: the monitors pull in scikit-learn, river and evidently, which the alert
    # commands and the tick do not need.
    from driftscope.monitors.runner import run_monitors

    runs = run_monitors(engine, config, **selection)
    experiments = evaluate_experiments_for(engine, config, selection)
    changes = drain_outbox(engine, config, now=selection.get("now"))
    changes += judge_experiments(engine, config, now=selection.get("now"))
    deliveries = deliver_due(engine, config, backoff=backoff, should_stop=stop_requested)
    return CycleReport(runs, changes, deliveries, experiments)


def evaluate_experiments_for(engine: Engine, config: Config, selection: dict[str, Any]) -> list[Any]:
    """Evaluate the experiments a monitor selection covers, over the same kind of windows.

    The experiments of the selected monitor's (or model's) model, comparing the selected version when
    one is named; every experiment when nothing is selected. Windows: ``window_end``, or the
    ``--backfill`` span, else the tiles since the experiment's last look (each experiment's own width).
    """
    from driftscope.monitors.experiment_runner import run_experiments, select_experiments

    model = selection.get("model")
    if selection.get("monitor") is not None:
        model = config.monitor(selection["monitor"]).model
    chosen = select_experiments(config, model=model, version=selection.get("version"))
    if not chosen:
        return []
    return list(run_experiments(engine, config, experiments=chosen, now=selection.get("now"),
                                **{k: selection.get(k) for k in ("window_end", "backfill_from", "backfill_until")}))


def judge_experiments(engine: Engine, config: Config, *, now: datetime | None = None) -> list[AlertChange]:
    """Apply the ``experiment_decided`` rules to the stored looks (one transaction)."""
    if not any(r.when == "experiment_decided" for r in config.alerts.rules):
        return []
    with transaction(engine) as session:
        return evaluate_experiments(session, config, {e.name: e for e in config.experiments}, now=now)


def drain_outbox(engine: Engine, config: Config, *, now: datetime | None = None) -> list[AlertChange]:
    """Judge every run waiting in the rules' outbox: one transaction per (monitor, model version).

    Each transaction takes its runs out of the outbox and applies their alert changes together, so
    a crash leaves them waiting for the next cycle. A group whose evaluation fails is logged and
    stays in the outbox; the others are still judged.
    """
    with transaction(engine) as session:
        groups = sorted({(r.monitor_id, r.model_version_id) for r in pending_runs(session)})
    changes: list[AlertChange] = []
    for monitor_id, version_id in groups:
        try:
            with transaction(engine) as session:
                changes += evaluate_pending(session, config, now=now, monitor_id=monitor_id,
                                            model_version_id=version_id)
        except Exception:  # one broken evaluation must not hide the alerts of the other monitors
            log.exception("judging the runs of monitor %s, version %s failed; they stay in the outbox",
                          monitor_id, version_id)
    return changes


def tick(
    engine: Engine, config: Config, *, now: datetime | None = None, backoff: Backoff = DEFAULT_BACKOFF
) -> CycleReport:
    """Judge runs left in the outbox, evaluate ``no_data`` rules, deliver due notifications (and retries),
    then roll up the profiles of ended days (:func:`roll_up_profiles`)."""
    changes = drain_outbox(engine, config, now=now)
    changes += judge_experiments(engine, config, now=now)
    with transaction(engine) as session:
        changes += evaluate_no_data(session, config, now=now)
        changes += evaluate_source_lag(session, config, now=now,
                                       sources={s.name: (s.model, s.version) for s in config.sources})
    deliveries = deliver_due(engine, config, backoff=backoff, should_stop=stop_requested)
    roll_up_profiles(engine, now=now)
    return CycleReport([], changes, deliveries)


def roll_up_profiles(engine: Engine, *, now: datetime | None = None, budget_s: float = ROLLUP_BUDGET_S) -> int:
    """Build the daily profile roll-ups of days that have ended (:mod:`driftscope.storage.profiles.rollup`).

    A few days per transaction (short writer locks on SQLite), until none is left, a stop is
    requested or about ``budget_s`` seconds are spent: a year of history is rolled up over a few
    ticks. Returns the days rolled up.
    """
    now = now or datetime.now(UTC)
    started, done = time.monotonic(), 0
    while not stop_requested() and time.monotonic() - started < budget_s:
        with transaction(engine) as session:
            built = build_rollups(session, before=now, limit=ROLLUP_DAYS_PER_TRANSACTION)
        done += built
        if built < ROLLUP_DAYS_PER_TRANSACTION:
            break
    return done


def logfmt(**fields: Any) -> str:
    """``key=value`` pairs in order; values with spaces, quotes or ``=`` are quoted; None is ``-``.

    Examples
    --------
    >>> logfmt(job="monitor:m", rows=10, outcome="failed", error='bad "x"', version=None)
    'job=monitor:m rows=10 outcome=failed error="bad \\\\"x\\\\"" version=-'
    """
    parts = []
    for key, value in fields.items():
        text = "-" if value is None else str(value)
        if not text or any(c in text for c in ' "=\n\t'):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        parts.append(f"{key}={text}")
    return " ".join(parts)


@cache
def instance_id() -> str:
    """This process's identity in leases and heartbeats: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def leased(engine: Engine, job: str, ttl: timedelta) -> Iterator[str | None]:
    """Hold the lease on ``job`` while the block runs, renewing it every ``ttl / 3``; release it after.

    Yields the holder token, or None when another holder has the lease (then do nothing).
    """
    holder = f"{instance_id()}/{uuid.uuid4().hex[:8]}"
    with transaction(engine) as session:
        held = acquire_lease(session, job=job, holder=holder, ttl=ttl)
    if not held:
        yield None
        return
    done = threading.Event()
    keeper = threading.Thread(target=_renew, args=(engine, job, holder, ttl, done), name=f"lease:{job}", daemon=True)
    keeper.start()
    try:
        yield holder
    finally:
        done.set()
        keeper.join(timeout=5)
        with transaction(engine) as session:
            release_lease(session, job=job, holder=holder)


def _renew(engine: Engine, job: str, holder: str, ttl: timedelta, done: threading.Event) -> None:
    while not done.wait(ttl.total_seconds() / 3):
        try:
            with transaction(engine) as session:
                if not renew_lease(session, job=job, holder=holder, ttl=ttl):
                    log.warning("lost the lease on %s (it expired and was taken); finishing this run anyway", job)
                    return
        except SQLAlchemyError:
            log.exception("could not renew the lease on %s; will retry", job)


JobOutcome = Literal["done", "skipped", "error"]
"""What one run of a scheduled job came to (see :func:`run_job`)."""


def run_job(
    engine: Engine, config: Config, job: str, work: Callable[[], Iterable[dict[str, Any]]]
) -> JobOutcome:
    """Run ``work`` under ``job``'s lease; log one line per run it reports. Returns the outcome.

    ``work`` yields one dict of log fields per run (model, version, window, rows, outcome...).
    Outcomes: ``done``, ``skipped`` (another process holds the lease, or already ran this scheduled
    time: see :data:`scheduled_slot`) or ``error`` (``work`` raised; logged with its traceback, not
    re-raised, so the scheduler keeps going). A slot is claimed before its work starts: a process
    killed during the work does not re-run that slot; the job's next slot catches up.
    """
    started = time.monotonic()
    slot = scheduled_slot.get()
    with leased(engine, job, config.scheduler.lease_ttl) as holder:
        if holder is None:
            with transaction(engine) as session:
                lease = get_lease(session, job=job)
            reason = f"lease held by {lease.holder}" if lease else "lease held by another scheduler"
            job_log.info(logfmt(job=job, outcome="skipped", reason=reason))
            return "skipped"
        if slot is not None:
            with transaction(engine) as session:
                claimed_by = claim_slot(session, job=job, scheduled_at=slot, holder=holder)
            if claimed_by is not None:
                job_log.info(logfmt(job=job, outcome="skipped", slot=slot.isoformat(),
                                    reason=f"slot already run by {claimed_by}"))
                return "skipped"
        try:
            lines = list(work())
        except Exception as exc:  # logged with the job; the scheduler keeps running the other jobs
            job_log.exception(logfmt(job=job, duration_s=_since(started), outcome="error", error=str(exc)[:500]))
            return "error"
    scheduled = {"slot": slot.isoformat()} if slot is not None else {}
    for fields in lines or [{"outcome": "nothing_to_do"}]:
        job_log.info(logfmt(job=job, **fields, duration_s=_since(started), **scheduled))
    return "done"


def _since(started: float) -> str:
    return f"{time.monotonic() - started:.3f}"
