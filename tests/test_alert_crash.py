"""Issue #18 item 7: a kill -9 during ``monitor run --backfill`` loses no alert.

Stored runs wait in the rules' outbox until judged; the next normal cycle judges what the killed
ones stored and raises every alert those runs imply.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from helpers_monitor import applied, config_document, credit_frame, store_rows

from driftscope.config import load_config
from driftscope.storage.alerts import list_alerts
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.results import count_runs, list_runs, pending_runs

pytestmark = pytest.mark.slow

DRIFTSCOPE = str(Path(sys.executable).parent / "driftscope")
DAYS = 10
KILLS = 3


def _config(tmp_path: Path, url: str, start: datetime) -> Path:
    monitors = [{"name": "credit-drift", "model": "credit", "kind": "data_drift", "window": "1d"}]
    document = config_document(tmp_path, url, monitors, n=1500)
    document["alerts"] = {"rules": [{"name": "drifted", "monitor": "credit-drift", "when": "dataset_drift"}],
                          "resolve_after": 3}
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump(document))
    engine = make_engine(url)
    applied(engine, load_config(path))
    store_rows(engine, load_config(path), credit_frame(DAYS * 200, kind="covariate", start=start,
                                                       step=timedelta(seconds=86_400 / 200)))
    engine.dispose()
    return path


def _kill_during_backfill(path: Path, engine, start: datetime) -> None:
    """Start a backfill and kill -9 it once it stored two more runs (bounded wait)."""
    with transaction(engine) as session:
        before = count_runs(session)
    process = subprocess.Popen([DRIFTSCOPE, "monitor", "run", "--config", str(path), "--backfill",
                                start.isoformat()], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            with transaction(engine) as session:
                if count_runs(session) >= min(before + 2, DAYS + 1):
                    break
            time.sleep(0.02)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def test_kill_9_during_a_backfill_then_a_normal_cycle_raises_every_alert(sqlite_url, tmp_path) -> None:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=DAYS)
    path = _config(tmp_path, sqlite_url, start)
    engine = make_engine(sqlite_url)
    for _ in range(KILLS):
        _kill_during_backfill(path, engine, start)
    with transaction(engine) as session:
        waiting = pending_runs(session)
    assert waiting, "the kills left no unjudged run; the test proves nothing"
    result = subprocess.run([DRIFTSCOPE, "monitor", "run", "--config", str(path)], capture_output=True, text=True,
                            timeout=180, check=False)
    assert result.returncode in (0, 1), result.stderr
    with transaction(engine) as session:
        runs = sorted((r for r in list_runs(session) if r.status == "succeeded"), key=lambda r: r.window_start)
        drifting = [r for r in runs if r.summary.get("dataset_drift")]
        assert pending_runs(session) == []
        alerts = list_alerts(session)
    engine.dispose()
    assert len(drifting) >= 2
    assert len(alerts) == 1, alerts[["rule", "status", "data_start", "data_end"]].to_string()
    alert = alerts.iloc[0]
    assert alert["fire_count"] == len(drifting)
    assert alert["data_start"] == drifting[0].window_start and alert["data_end"] == drifting[-1].window_end
