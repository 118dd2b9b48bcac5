"""``driftscope demo``: build a fresh demo store, replay 60 days through the monitors, open the dashboard.

Steps, each timed: write the world (files, label table, config) -> migrate and apply -> collect
from the files and the label table -> compute every monitor for each of the 60 daily windows ->
replay the alert rules day by day (``no_data`` hour by hour) with each firing stamped on the day it
happened -> evaluate the canary experiment after each of its days -> deliver the notifications to a
local SMTP and webhook catcher -> start the dashboard.
"""

import logging
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from driftscope.alerting.notify import deliver_due
from driftscope.alerting.rules import evaluate_no_data, evaluate_pending
from driftscope.alerting.rules.experiments import evaluate_experiments
from driftscope.apply import apply_config
from driftscope.collectors import collect
from driftscope.config import Config, load_config
from driftscope.demo.catcher import Catcher
from driftscope.demo.files import write_config, write_world
from driftscope.demo.generate import generate
from driftscope.demo.scenario import CANARY_DAYS, EVENTS, N_DAYS, timeline_start
from driftscope.errors import ConfigError
from driftscope.monitors.experiment_runner import run_experiments
from driftscope.monitors.runner import run_monitors
from driftscope.naming import DEMO_MARKER
from driftscope.storage import migrations
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.results import RunInfo

WEBHOOK_SECRET = "demo-secret"
MARKER = DEMO_MARKER
DEFAULT_PORT = 8501


@dataclass(frozen=True)
class DemoResult:
    """Where the demo lives and what it did."""

    directory: Path
    config_path: Path
    start: datetime
    end: datetime
    runs: int
    failed_runs: int
    mails: int
    webhooks: int


@contextmanager
def _step(title: str) -> Iterator[None]:
    started = time.perf_counter()
    print(f"  {title} ...", end="", flush=True)
    yield
    print(f" {time.perf_counter() - started:.1f} s", flush=True)


def prepare_directory(directory: Path) -> None:
    """Create ``directory`` empty; an earlier demo there is replaced, anything else is refused."""
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).exists():
            raise ConfigError(f"{directory} exists and is not a driftscope demo folder; choose another --dir")
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("made by `driftscope demo`; the whole folder is replaced by the next demo\n")


def build(directory: Path, catcher: Catcher, *, dashboard_port: int, now: datetime | None = None) -> DemoResult:
    """Build the demo store in the (empty) ``directory`` and replay its 60 days; notify ``catcher``."""
    now = now or datetime.now(UTC)
    start = timeline_start(now)
    end = start + timedelta(days=N_DAYS)
    with _step("generating 60 days of traffic for two models"):
        data = generate(start)
        write_world(directory, data, now)
        config_path = write_config(directory, smtp_port=catcher.smtp_port, webhook_url=catcher.webhook_url,
                                   dashboard_url=f"http://localhost:{dashboard_port}")
        config = load_config(config_path)
    with _step("creating the store and registering models"):
        migrations.upgrade(config.database_url)
        engine = make_engine(config.database_url)
        apply_config(config, engine)
    try:
        with _step("collecting prediction files and the label table"):
            summaries = collect(engine, config)
        for s in summaries:
            print(f"    {s.source}: read {s.rows_read} = stored {s.rows_stored} + duplicates {s.rows_duplicate}"
                  f" + conflicts {s.rows_conflict} + quarantined {s.rows_quarantined} ({s.status})")
        with _step(f"computing monitors for {N_DAYS} daily windows"):
            runs = run_monitors(engine, config, backfill_from=start, now=end)
        with _step("replaying the alert rules day by day"):
            replay_rules(engine, config, runs, start=start, end=end)
        with _step(f"evaluating the canary experiment over its {CANARY_DAYS} days"):
            replay_experiments(engine, config, start=end - timedelta(days=CANARY_DAYS), end=end)
        with _step("delivering notifications to the local catcher"):
            _deliver_all(engine, config)
    finally:
        engine.dispose()
    received = catcher.received
    failed = sum(r.status == "failed" for r in runs)
    return DemoResult(directory, config_path, start, end, len(runs), failed, received["mail"], received["webhook"])


def replay_rules(engine: Engine, config: Config, runs: list[RunInfo], *, start: datetime, end: datetime) -> None:
    """Evaluate the rules as if live: each run at its window's end, ``no_data`` every hour.

    One transaction per replayed day. The runs wait in the rules' outbox until their hour comes.
    """
    ends = {run.window_end for run in runs}
    day = start
    while day < end:
        with transaction(engine) as session:
            for hour in (day + timedelta(hours=h) for h in range(1, 25)):
                evaluate_no_data(session, config, now=hour, replay=True)
                if hour in ends:
                    evaluate_pending(session, config, now=hour, until=hour)
        day += timedelta(days=1)


def replay_experiments(engine: Engine, config: Config, *, start: datetime, end: datetime) -> None:
    """Evaluate the experiments as if live: after each day's window, then their rules at that day's end."""
    experiments = {e.name: e for e in config.experiments}
    day = start + timedelta(days=1)
    while day <= end:
        run_experiments(engine, config, window_end=day, now=day)
        with transaction(engine) as session:
            evaluate_experiments(session, config, experiments, now=day)
        day += timedelta(days=1)


def _deliver_all(engine: Engine, config: Config) -> None:
    for _ in range(20):
        if not deliver_due(engine, config, limit=500):
            return


def serve_dashboard(result: DemoResult, port: int) -> int:
    """Run the dashboard until Ctrl-C, delivering notifications (e.g. retraining requests) meanwhile."""
    command = [sys.executable, "-m", "driftscope", "dashboard", "--config", str(result.config_path),
               "--port", str(port)]
    process = subprocess.Popen(command, cwd=result.directory)
    print(f"\n  dashboard: http://localhost:{port}   (Ctrl-C to stop)\n", flush=True)
    config = load_config(result.config_path)
    engine = make_engine(config.database_url)
    try:
        while process.poll() is None:
            deliver_due(engine, config)
            time.sleep(5)
    except KeyboardInterrupt:
        process.terminate()
    finally:
        engine.dispose()
    return process.wait(timeout=30)


def print_summary(result: DemoResult) -> None:
    """What happened, and where to look."""
    print(f"\n  {result.runs} monitor runs ({result.failed_runs} failed) over "
          f"{result.start:%Y-%m-%d} .. {result.end - timedelta(days=1):%Y-%m-%d}")
    print(f"  {result.mails} emails and {result.webhooks} webhooks caught in {result.directory / 'inbox'}")
    print("  scripted trouble to look for:")
    for item in EVENTS:
        day = result.start + timedelta(days=item.start_day)
        print(f"    {day:%Y-%m-%d}  {item.model:15} {item.description}")


def run_demo(directory: Path, *, dashboard: bool = True, port: int | None = None) -> DemoResult:
    """The whole demo; returns after the dashboard stops (or at once with ``dashboard=False``)."""
    directory = directory.resolve()
    port = port or DEFAULT_PORT
    started = time.perf_counter()
    print(f"driftscope demo in {directory}")
    for noisy in ("mail.log", "alembic", "monitors", "collectors", "storage", "driftscope.pipeline"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    prepare_directory(directory)
    with Catcher(directory / "inbox", WEBHOOK_SECRET) as catcher:
        result = build(directory, catcher, dashboard_port=port)
        print_summary(result)
        print(f"  ready in {time.perf_counter() - started:.0f} s")
        if dashboard:
            serve_dashboard(result, port)
    return result
