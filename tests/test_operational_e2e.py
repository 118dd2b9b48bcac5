"""The operational monitor end to end (issue #13): `driftscope monitor run --backfill` and `driftscope scheduler
--once` read logged requests, store the windows, and the rules latency_above, error_rate_above and
model_age_above open alerts that reach a real webhook receiver."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers_alerts import SECRET, Receiver, webhook_channel
from helpers_collect import MODEL, T0, log_rows
from test_operational_monitor import serving_document

from driftscope.apply import apply_config
from driftscope.cli import main
from driftscope.collectors import log_predictions
from driftscope.config import load_config
from driftscope.storage.alerts import list_alerts
from driftscope.storage.db import make_engine, transaction

HOUR = timedelta(hours=1)
SERVING_RULES = ("slow", "errors", "stale")


def write_config(tmp_path: Path, url: str, hook: str, *, schedule: str | None = None) -> Path:
    """The serving config with its rules sent to ``hook`` (slow: critical), written to driftscope.yaml."""
    document = serving_document(tmp_path, url)
    document["channels"] = [webhook_channel("hook", hook)]
    for rule in document["alerts"]["rules"]:
        rule["channels"] = ["hook"]
        rule["severity"] = "critical" if rule["name"] == "slow" else "warning"
    if schedule is not None:
        document["monitors"][0]["schedule"] = schedule
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def requests(start: datetime, *, n: int, errors: int, latency_ms: float, offset: int) -> pd.DataFrame:
    """``n`` requests one a minute from ``start``, the first ``errors`` failed, ids from ``offset``."""
    rows = log_rows(n, start=offset).assign(ts=pd.date_range(start, periods=n, freq="min", tz="UTC"))
    return rows.assign(latency_ms=latency_ms, status=["error"] * errors + ["ok"] * (n - errors))


def serving_alerts(url: str) -> pd.DataFrame:
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            frame = list_alerts(session, status="active")
    finally:
        engine.dispose()
    return frame.set_index("rule").sort_index()


def test_monitor_run_backfill_opens_the_serving_alerts_in_the_window_that_breached(
    sqlite_url, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    with Receiver() as hook:
        path = write_config(tmp_path, sqlite_url, hook.url())
        engine = make_engine(sqlite_url)
        try:
            apply_config(load_config(path), engine)
            for hour, (errors, latency) in enumerate([(0, 40.0), (6, 400.0), (0, 40.0)]):
                log_predictions(MODEL, "1.0", requests(T0 + hour * HOUR, n=60, errors=errors, latency_ms=latency,
                                                       offset=60 * hour), engine=engine)
        finally:
            engine.dispose()

        code = main(["monitor", "run", "--config", str(path), "--backfill", T0.isoformat(),
                     "--until", (T0 + 3 * HOUR).isoformat()])
        out = capsys.readouterr().out
        delivered = hook.wait_for(3)

    assert code == 0
    assert out.count("requests 60, errors 0, timeouts 0") == 2 and "requests 60, errors 6, timeouts 0" in out
    alerts = serving_alerts(sqlite_url)
    assert sorted(alerts.index) == sorted(SERVING_RULES)
    assert alerts.loc["slow", "severity"] == "critical"
    for rule in ("slow", "errors"):  # opened in the second hour, still open after one clean window
        assert (alerts.loc[rule, "data_start"], alerts.loc[rule, "data_end"]) == (T0 + HOUR, T0 + 2 * HOUR)
    assert alerts.loc["stale", "data_start"] == T0  # the model is too old from the first window on
    assert sorted(r.json["alert"]["rule"] for r in delivered) == sorted(SERVING_RULES)
    assert all(r.signature_ok for r in delivered)


def test_the_scheduler_runs_the_operational_monitor_and_delivers_the_serving_alerts(
    sqlite_url, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with Receiver() as hook:
        path = write_config(tmp_path, sqlite_url, hook.url(), schedule="5 * * * *")
        engine = make_engine(sqlite_url)
        try:
            apply_config(load_config(path), engine)
            for back in (1, 2):  # the last two hours: the window the job computes has them even across an hour
                log_predictions(MODEL, "1.0", requests(hour - back * HOUR, n=60, errors=12, latency_ms=300.0,
                                                       offset=60 * back), engine=engine)
        finally:
            engine.dispose()

        assert main(["scheduler", "--once", "--config", str(path)]) == 0
        delivered = hook.wait_for(3)

    alerts = serving_alerts(sqlite_url)
    assert sorted(alerts.index) == sorted(SERVING_RULES)
    assert alerts.loc["errors", "title"].startswith("error rate 0.2 above the limit 0.05")
    assert sorted(r.json["alert"]["rule"] for r in delivered) == sorted(SERVING_RULES)


@pytest.fixture(autouse=True)
def _no_config_from_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("DRIFTSCOPE_CONFIG", raising=False)
    monkeypatch.delenv("DRIFTSCOPE_DATABASE_URL", raising=False)
