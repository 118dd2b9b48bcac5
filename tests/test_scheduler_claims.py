"""One run per scheduled slot, and lease times from the database's clock (issue #18 item 9), on both stores."""

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES, JobEvent
from apscheduler.schedulers.background import BackgroundScheduler
from test_scheduler import _config_file

from driftscope import pipeline
from driftscope.config import load_config
from driftscope.scheduler import SlotExecutor
from driftscope.storage.clock import db_now
from driftscope.storage.db import transaction
from driftscope.storage.models import JobClaim
from driftscope.storage.scheduler_state import CLAIMS_KEPT, acquire_lease, claim_slot, get_lease

SLOT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_a_slot_is_claimed_once(engine) -> None:
    with transaction(engine) as session:
        assert claim_slot(session, job="monitor:m", scheduled_at=SLOT, holder="a:1/x") is None
    with transaction(engine) as session:
        assert claim_slot(session, job="monitor:m", scheduled_at=SLOT, holder="b:2/y") == "a:1/x"
        assert claim_slot(session, job="monitor:m", scheduled_at=SLOT + timedelta(seconds=1), holder="b:2/y") is None
        assert claim_slot(session, job="tick", scheduled_at=SLOT, holder="b:2/y") is None


def test_old_claims_are_pruned(engine) -> None:
    with transaction(engine) as session:
        claim_slot(session, job="tick", scheduled_at=SLOT, holder="a")
        claim_slot(session, job="tick", scheduled_at=SLOT + CLAIMS_KEPT + timedelta(seconds=1), holder="a")
        assert [c.scheduled_at for c in session.query(JobClaim).all()] == [SLOT + CLAIMS_KEPT + timedelta(seconds=1)]


def test_lease_times_come_from_the_database_clock(engine) -> None:
    with transaction(engine) as session:
        before = db_now(session)
        assert acquire_lease(session, job="tick", holder="a", ttl=timedelta(seconds=30))
    with transaction(engine) as session:
        lease = get_lease(session, job="tick")
        after = db_now(session)
    assert before <= lease.acquired_at <= after and lease.expires_at == lease.acquired_at + timedelta(seconds=30)
    assert abs((after - datetime.now(UTC)).total_seconds()) < 60  # the test host and the server agree roughly


def test_run_job_skips_a_slot_already_run(engine, db_url, tmp_path, caplog) -> None:
    config = load_config(_config_file(tmp_path, db_url))
    calls: list[int] = []

    def work():
        calls.append(1)
        yield {"outcome": "succeeded"}

    caplog.set_level(logging.INFO, logger="driftscope.jobs")
    token = pipeline.scheduled_slot.set(SLOT)
    try:
        assert pipeline.run_job(engine, config, "monitor:x", work) == "done"
        assert pipeline.run_job(engine, config, "monitor:x", work) == "skipped"
    finally:
        pipeline.scheduled_slot.reset(token)
    assert calls == [1]
    assert any("outcome=skipped" in m and "slot already run by" in m for m in caplog.messages)
    assert pipeline.run_job(engine, config, "monitor:x", work) == "done" and calls == [1, 1]  # --once: no slot


def test_the_slot_executor_hands_each_run_its_scheduled_time_and_keeps_max_instances() -> None:
    """Under a real APScheduler: the job sees its run time; a second run while one is in flight is refused."""
    seen: list[datetime | None] = []
    release, started = threading.Event(), threading.Event()
    events: dict[int, list[JobEvent]] = {EVENT_JOB_EXECUTED: [], EVENT_JOB_MAX_INSTANCES: []}
    done = threading.Event()

    def job() -> str:
        seen.append(pipeline.scheduled_slot.get())
        started.set()
        release.wait(10)
        return "ran"

    def listen(event: JobEvent) -> None:
        events[event.code].append(event)
        done.set()

    scheduler = BackgroundScheduler(executors={"default": SlotExecutor(2)}, timezone=UTC)
    scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_MAX_INSTANCES)
    scheduler.start()
    try:
        at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
        scheduler.add_job(job, "interval", seconds=1, start_date=at, id="j", max_instances=1, coalesce=True)
        assert started.wait(10) and done.wait(10), "the job did not run"  # the next second: refused, in flight
        release.set()
        deadline = time.monotonic() + 10
        while not events[EVENT_JOB_EXECUTED] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        release.set()
        scheduler.shutdown(wait=True)
    assert seen[0] == at
    [first, *_] = events[EVENT_JOB_EXECUTED]
    assert first.retval == "ran" and first.scheduled_run_time == at
    assert events[EVENT_JOB_MAX_INSTANCES], "a second instance ran while the first was in flight"
