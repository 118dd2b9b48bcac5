"""``driftscope collect`` and ``driftscope quarantine``: exit status, summaries, and exactly-once after SIGKILL."""

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers_collect import (
    MODEL,
    files_source,
    log_rows,
    marks,
    quarantined,
    runs,
    stored_ids,
    write_config,
)
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from driftscope.cli import main
from driftscope.collectors.ingest import Counts
from driftscope.collectors.progress import Progress
from driftscope.storage.collector_state import list_collector_runs
from driftscope.storage.db import make_engine

ROOT = Path(__file__).resolve().parent.parent


def apply(config: Path) -> None:
    assert main(["apply", "--config", str(config)]) == 0


def test_collect_prints_the_identity_and_fails_when_a_source_fails(sqlite_url, tmp_path, capsys) -> None:
    (tmp_path / "logs").mkdir()
    rows = log_rows(10).assign(score=[0.5] * 9 + [3.0])
    rows.to_csv(tmp_path / "logs" / "a.csv", index=False)
    broken = {"name": "labels", "kind": "sql", "model": MODEL, "records": "ground_truth",
              "url": f"sqlite:///{tmp_path / 'nowhere' / 'labels.db'}", "table": "outcomes", "watermark": "updated_at"}
    config = write_config(tmp_path, sqlite_url, [files_source("logs", "logs/*.csv"), broken])
    apply(config)
    capsys.readouterr()

    status_all = main(["collect", "--config", str(config)])
    captured = capsys.readouterr()
    status_one = main(["collect", "--config", str(config), "--source", "logs"])

    assert (status_all, status_one) == (1, 0)
    assert "logs    succeeded  10         9            0               0              1" in captured.out
    assert ("collect: 2 sources (1 failed); 10 rows read = 9 stored + 0 duplicate + 0 conflicting + "
            "1 quarantined") in captured.out
    assert "labels: SourceError" in captured.err


def test_quarantine_list_and_replay(sqlite_url, tmp_path, capsys) -> None:
    (tmp_path / "logs").mkdir()
    log_rows(4).assign(has_card=["1", "0", "maybe", "1"]).to_csv(tmp_path / "logs" / "a.csv", index=False)
    config = write_config(tmp_path, sqlite_url, [files_source("logs", "logs/*.csv")])
    apply(config)
    main(["collect", "--config", str(config)])
    capsys.readouterr()

    assert main(["quarantine", "list", "--config", str(config), "--source", "logs"]) == 0
    listed = capsys.readouterr().out
    assert main(["quarantine", "replay", "--config", str(config)]) == 0
    replayed = capsys.readouterr().out

    assert f"{tmp_path / 'logs' / 'a.csv'} line 4" in listed
    assert "has_card: not binary (0/1, true/false, yes/no)" in listed
    assert "quarantine: showing 1 of 1 rows of source logs" in listed
    assert ("replay: 1 sources (0 failed); 1 rows read = 0 stored + 0 duplicate + 0 conflicting + "
            "1 quarantined") in replayed


def _count_stored(url: str, source: str) -> int:
    """Rows stored by the source's runs, read without taking SQLite's write lock (WAL readers never wait)."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            return sum(run.rows_stored for run in list_collector_runs(session, source=source))
    finally:
        engine.dispose()


def _kill_mid_run(command: list[str], url: str, source: str, total: int, env: dict[str, str]) -> int:
    """Start ``command``, SIGKILL it once some but not all rows are stored; return how many were stored."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            if _count_stored(url, source) > 0:
                break
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, process.stderr.read().decode() if process.stderr else ""
    stored = _count_stored(url, source)
    assert 0 < stored < total, f"kill came too late or too early: {stored} of {total} stored"
    return stored


@pytest.mark.slow
def test_a_collect_killed_with_sigkill_resumes_and_stores_every_row_exactly_once(db_url, tmp_path) -> None:
    (tmp_path / "logs").mkdir()
    total = 0
    for i in range(4):
        log_rows(400, start=i * 400).to_csv(tmp_path / "logs" / f"part-{i}.csv", index=False)
        total += 400
    config = write_config(tmp_path, db_url, [files_source("logs", "logs/*.csv", page_size=20)])
    apply(config)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "driftscope", "collect", "--config", str(config)]

    before = _kill_mid_run(command, db_url, "logs", total, env)
    rerun = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)

    engine = make_engine(db_url)
    try:
        ids = stored_ids(engine)
        killed, finished = runs(engine, "logs")[::-1][:2]
        assert rerun.returncode == 0, rerun.stderr
        assert len(ids) == total and ids == sorted(set(ids))
        assert killed.status == "interrupted" and killed.rows_stored == before
        assert finished.status == "succeeded" and finished.rows_stored + before == total
        assert finished.rows_read == finished.rows_stored + finished.rows_duplicate
        assert {m.offset for m in marks(engine, "logs").values()} == {
            (tmp_path / "logs" / f"part-{i}.csv").stat().st_size for i in range(4)}
        assert quarantined(engine).empty
    finally:
        engine.dispose()


def test_the_progress_line_appears_only_on_long_runs() -> None:
    quiet, shown = io.StringIO(), io.StringIO()
    short = Progress("logs", enabled=True, stream=quiet, delay_s=60)
    long = Progress("logs", enabled=True, stream=shown, delay_s=0, interval_s=0)
    for progress in (short, long):
        progress.add(Counts(read=1200, stored=1000, duplicate=150, quarantined=50))
        progress.close()

    assert quiet.getvalue() == ""
    assert shown.getvalue().startswith("\rlogs: 1,200 rows read, 1,000 stored, 150 duplicate, 50 quarantined (")
    assert shown.getvalue().endswith(" rows/s)\n")
