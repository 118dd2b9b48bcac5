"""``driftscope monitor run`` and ``driftscope report`` as real subprocesses on a real store."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers_monitor import applied, config_document, credit_frame, standard_monitors, store_rows

from driftscope.cli import main
from driftscope.config import load_config
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.labels import write_labels
from driftscope.storage.registry import get_version

DRIFTSCOPE = str(Path(sys.executable).parent / "driftscope")


@pytest.fixture
def config_file(tmp_path: Path, sqlite_url: str) -> Path:
    """A config on disk, applied, with one day (2026-01-01) of covariate-drifted predictions and labels."""
    monitors = standard_monitors(detectors=["label_drift", "adwin"])
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump(config_document(tmp_path, sqlite_url, monitors, n=1500)))
    config = load_config(path)
    engine = make_engine(sqlite_url)
    applied(engine, config)
    store_rows(engine, config, credit_frame(600, kind="covariate", start=datetime(2026, 1, 1),
                                            step=timedelta(seconds=140)))
    engine.dispose()
    return path


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DRIFTSCOPE, *args], capture_output=True, text=True, timeout=180, check=False)


def test_monitor_run_prints_one_line_per_run_and_fails_when_a_run_failed(config_file: Path, sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with transaction(engine) as session:
        info = get_version(session, "credit", "1.0")
        write_labels(session, model_id=info.model_id, source="t", frame=pd.DataFrame(
            {"prediction_id": ["r3"], "label": ["n/a"], "ts": [pd.Timestamp("2026-01-01", tz="UTC")]}))
    engine.dispose()
    result = cli("monitor", "run", "--config", str(config_file), "--window-end", "2026-01-02")
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 1, result.stderr
    assert lines[0].split() == ["MONITOR", "MODEL", "VERSION", "WINDOW", "STATUS", "ROWS", "HEADLINE"]
    drift, performance, concept = (line.split(maxsplit=6) for line in lines[1:])
    assert drift[:6] == ["credit-drift", "credit", "1.0", "2026-01-01T00:00Z..2026-01-02T00:00Z", "succeeded",
                         "600"]
    assert drift[6].startswith("dataset drift yes (3/5 features")
    assert performance[4] == "failed" and "error: SchemaError" in performance[6] and "'n/a'" in performance[6]
    assert concept[4] == "failed"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_report_writes_evidently_html(config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    output = tmp_path / "out" / "report.html"
    status = main(["report", "--config", str(config_file), "--model", "credit", "--version", "1.0",
                   "--window-end", "2026-01-02T00:00:00Z", "-o", str(output)])
    assert status == 0
    assert f"report written to {output}" in capsys.readouterr().out
    html = output.read_text(encoding="utf-8")
    assert "Drifted Columns" in html and "Drift is detected for" in html
    assert all(column in html for column in ("income", "debt_ratio", "region", "probability"))


def test_report_goes_where_the_dashboard_looks_for_it(config_file: Path, capsys: pytest.CaptureFixture) -> None:
    from driftscope.dashboard.reports import find_report
    from driftscope.dashboard.settings import load_settings

    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    assert main(["report", "--config", str(config_file), "--model", "credit", "--version", "1.0",
                 "--start", start.isoformat(), "--end", end.isoformat()]) == 0
    written = Path(capsys.readouterr().out.split("report written to ")[1].strip())
    settings = load_settings(str(config_file), None, None)
    assert find_report(settings, "credit", "1.0", start, end) == written


def test_report_of_an_empty_window_says_so(config_file: Path, capsys: pytest.CaptureFixture) -> None:
    status = main(["report", "--config", str(config_file), "--model", "credit", "--version", "1.0",
                   "--window-end", "2026-03-01"])
    assert status == 1
    assert "has no prediction in window [2026-02-28T00:00:00+00:00, 2026-03-01T00:00:00+00:00)" in (
        capsys.readouterr().err)


def test_monitor_run_exit_zero_and_unknown_names(config_file: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["monitor", "run", "--config", str(config_file), "--monitor", "credit-drift",
                 "--window-end", "2026-01-02"]) == 0
    assert "dataset drift yes" in capsys.readouterr().out
    assert main(["monitor", "run", "--config", str(config_file), "--monitor", "nope"]) == 1
    assert "no monitor named 'nope'; configured: credit-drift" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["monitor", "run", "--window-end", "yesterday"],
    ["monitor", "run", "--window-end", "2026-01-02", "--backfill", "2026-01-01"],
    ["report", "--model", "credit", "--version", "1.0", "--window-end", "2026-01-02", "--window", "soon"],
])
def test_bad_arguments_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err
