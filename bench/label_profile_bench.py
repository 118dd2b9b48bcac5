"""What do label profiles cost at ingest, and what do they save when a performance window is computed?

Workload: ``--rows`` predictions (default 200 000) of a binary classifier with 10 numeric features
over 2 days, written in 50 000-row transactions through ``write_predictions``, then their labels
in 50 000-row transactions through ``write_labels`` (every label late: the label writer joins
each to its stored prediction, reading the chunks that hold them), then 10 % of the labels
corrected. Reported in the same run:

* the share of each writer's time spent keeping the label profiles (timers wrapped around
  :func:`~driftscope.storage.profiles.labelled_store.add_labelled_predictions` and
  :func:`~driftscope.storage.profiles.labelled_store.update_for_labels`), and of the latter's the
  share spent reading the labels' stored predictions from their chunks (the join,
  ``labelled_store._stored_predictions``);
* a one-day performance window (accuracy, ROC AUC, log loss; 1000 bootstrap resamples) computed
  by the runner on ``path: rows`` and on ``path: profile``, and the ratio of the two.

Run: ``python bench/label_profile_bench.py [--rows N] [--pg-url URL] [--skip-windows]`` (SQLite in a
temporary directory; PostgreSQL when a URL is given, in a scratch database that is dropped;
``--skip-windows`` measures the writers only).
"""

import argparse
import inspect
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from driftscope.apply import apply_config
from driftscope.config import parse_config
from driftscope.monitors.runner import run_monitors
from driftscope.storage import labels as label_writer
from driftscope.storage import migrations
from driftscope.storage import predictions as prediction_writer
from driftscope.storage.db import make_engine, transaction
from driftscope.storage.profiles import labelled_store
from driftscope.storage.registry import get_version

T0 = datetime(2026, 1, 1, tzinfo=UTC)
BATCH = 50_000
N_FEATURES = 10


def frame(n: int, seed: int = 0) -> pd.DataFrame:
    """Canonical predictions with labels over two days."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, N_FEATURES))
    p = 1 / (1 + np.exp(-(x[:, 0] - x[:, 1])))
    out = pd.DataFrame({"prediction_id": np.char.add("p", np.arange(n).astype(str)).astype(object),
                        "ts": pd.Timestamp(T0) + pd.to_timedelta(np.sort(rng.uniform(0, 2 * 86_400, n)), unit="s"),
                        "prediction": (p > 0.5).astype(np.int64), "probability": p})
    for i in range(N_FEATURES):
        out[f"f{i}"] = x[:, i]
    out["label"] = (rng.uniform(size=n) < p).astype(np.int64)
    return out


class Timer:
    """Wraps a module attribute with a timer that sums its wall time (a generator's: that of its steps)."""

    def __init__(self, module: Any, name: str) -> None:
        self.module, self.name, self.original = module, name, getattr(module, name)
        self.seconds = 0.0

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                out = self.original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
            return self.steps(out) if inspect.isgenerator(out) else out

        setattr(module, name, timed)

    def steps(self, generator: Iterator[Any]) -> Iterator[Any]:
        """``generator``'s items, the time spent producing each added (not the caller's between them)."""
        while True:
            started = time.perf_counter()
            try:
                item = next(generator)
            except StopIteration:
                return
            finally:
                self.seconds += time.perf_counter() - started
            yield item


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run(url: str, n: int, workdir: Path, *, windows: bool = True) -> dict[str, float]:
    data = frame(n)
    reference = frame(5000, seed=1).drop(columns=["prediction_id", "ts"])
    reference.to_parquet(workdir / "reference.parquet", index=False)
    perf = {"kind": "performance", "model": "m", "window": "1d", "metrics": ["accuracy", "roc_auc", "log_loss"],
            "n_bootstrap": 1000}
    config = parse_config({
        "database_url": url,
        "models": [{"name": "m", "task": "binary_classification", "schema": {
            "id": "prediction_id", "timestamp": "ts", "prediction": "prediction", "probability": "probability",
            "target": "label", "positive_label": 1,
            "features": {f"f{i}": "numeric" for i in range(N_FEATURES)}},
            "versions": [{"version": "1", "reference": str(workdir / "reference.parquet")}]}],
        "monitors": [{"name": "rows", "path": "rows", **perf}, {"name": "profile", "path": "profile", **perf}],
    }, base_dir=workdir)
    migrations.upgrade(url)
    engine = make_engine(url)
    apply_config(config, engine)
    on_predictions = Timer(prediction_writer, "add_labelled_predictions")
    on_labels = Timer(label_writer, "update_for_labels")
    on_join = Timer(labelled_store, "_stored_predictions")
    with transaction(engine) as session:
        version = get_version(session, "m", "1")
    out: dict[str, float] = {}

    def write_all() -> None:
        for start in range(0, n, BATCH):
            with transaction(engine) as session:
                prediction_writer.write_predictions(session, model_version_id=version.id, source="bench",
                                                    frame=data.iloc[start:start + BATCH].drop(columns=["label"]))

    def label_all(labels: pd.Series) -> None:
        for start in range(0, n, BATCH):
            part = data.iloc[start:start + BATCH]
            with transaction(engine) as session:
                label_writer.write_labels(session, model_id=version.model_id, source="bench", frame=pd.DataFrame({
                    "prediction_id": part["prediction_id"], "label": labels.iloc[start:start + BATCH].astype(str),
                    "ts": part["ts"]}))

    out["predictions_s"] = timed(write_all)
    out["predictions_upkeep_s"] = on_predictions.seconds
    out["labels_s"] = timed(lambda: label_all(data["label"]))
    out["labels_upkeep_s"], out["labels_join_s"] = on_labels.seconds, on_join.seconds
    corrected = data["label"].where(np.arange(n) % 10 != 0, 1 - data["label"])
    on_labels.seconds = on_join.seconds = 0.0
    out["corrections_s"] = timed(lambda: label_all(corrected))
    out["corrections_upkeep_s"], out["corrections_join_s"] = on_labels.seconds, on_join.seconds
    for name in ("rows", "profile") if windows else ():
        out[f"window_{name}_s"] = timed(lambda name=name: run_monitors(
            engine, config, monitor=name, window_end=T0 + timedelta(days=1)))
    engine.dispose()
    return out


def report(store: str, figures: dict[str, float]) -> None:
    print(f"\n{store}")
    for writer in ("predictions", "labels", "corrections"):
        total, upkeep = figures[f"{writer}_s"], figures[f"{writer}_upkeep_s"]
        join = figures.get(f"{writer}_join_s")
        joined = "" if join is None else f", of which the join {join:6.2f} s ({join / total:5.1%})"
        print(f"  {writer:<12} {total:7.2f} s, label-profile upkeep {upkeep:6.2f} s ({upkeep / total:5.1%}){joined}")
    if "window_rows_s" not in figures:
        return
    rows, profile = figures["window_rows_s"], figures["window_profile_s"]
    print(f"  1-day window: rows path {rows:.2f} s, profile path {profile:.2f} s "
          f"(rows / profile = {rows / profile:.1f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--skip-windows", action="store_true", help="time the writers only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report("sqlite", run(f"sqlite:///{tmp}/bench.db", args.rows, Path(tmp), windows=not args.skip_windows))
        if args.pg_url:
            name = f"bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f"CREATE DATABASE {name}"))
            try:
                report("postgresql", run(make_url(args.pg_url).set(database=name).render_as_string(False),
                                         args.rows, Path(tmp), windows=not args.skip_windows))
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
                admin.dispose()


if __name__ == "__main__":
    main()
