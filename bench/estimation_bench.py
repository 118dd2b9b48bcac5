"""Label-free performance estimation on NannyML's synthetic datasets: driftscope vs NannyML vs realized.

The datasets ship inside the ``nannyml`` wheel (binary "work from home", car loan, car price
regression, multiclass credit card). NannyML pins old libraries, so it lives in a separate
virtual environment (never the project's): ``--nannyml-python`` (or ``$DRIFTSCOPE_NANNYML_PYTHON``)
names its interpreter (``python3 -m venv nml && nml/bin/pip install nannyml statsmodels``:
NannyML 0.13.1 imports statsmodels without declaring it). That interpreter copies the dataset
files out of its package data into a temporary folder and runs NannyML's CBPE / DLE there (usage
telemetry off, nothing downloads); this process reads the same files and runs driftscope's
:class:`EstimatedPerformanceMonitor`.
Both chunk the analysis set into the same consecutive 5,000-row chunks and are compared with the
realized metric of each chunk (computed from the targets by driftscope's metrics).

The estimators assume no concept drift, so each labelled chunk also goes through driftscope's
``concept_drift`` monitor (all detectors, default settings, fitted on the reference): as in
production, a chunk where it fires has its estimate flagged unreliable.

Printed: per dataset and chunk the estimates and the realized value, then a summary table per
dataset and metric: mean absolute error of each estimator against the realized values, the
share of chunks whose realized value lies inside driftscope's band (and NannyML's), and that
share over the chunks where the assumptions hold (no concept drift flagged).

Usage::

    python bench/estimation_bench.py --nannyml-python /path/to/nannyml-venv/bin/python
    python bench/estimation_bench.py --datasets binary regression --no-chunks
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from driftscope.monitors.concept_drift import ConceptDriftMonitor
from driftscope.monitors.estimation.monitor import EstimatedPerformanceMonitor

CHUNK = 5_000


@dataclass(frozen=True)
class Dataset:
    """A NannyML dataset: its files, column roles and the metrics compared."""

    name: str
    task: str
    files: tuple[str, str, str]
    target: str
    features: dict[str, str]
    metrics: tuple[str, ...]
    classes: tuple[str, ...] = field(default_factory=tuple)


CLASSIFICATION_METRICS = ("roc_auc", "accuracy", "f1", "precision", "recall", "specificity")
DATASETS = {
    d.name: d for d in (
        Dataset("binary", "binary_classification",
                ("synthetic_sample_reference.csv", "synthetic_sample_analysis.csv", "synthetic_sample_analysis_gt.csv"),
                "work_home_actual",
                {"distance_from_office": "numeric", "salary_range": "categorical", "gas_price_per_litre": "numeric",
                 "public_transportation_cost": "numeric", "wfh_prev_workday": "categorical",
                 "workday": "categorical", "tenure": "numeric"}, CLASSIFICATION_METRICS),
        Dataset("car_loan", "binary_classification",
                ("synthetic_car_loan_reference.csv", "synthetic_car_loan_analysis.csv",
                 "synthetic_car_loan_analysis_target.csv"),
                "repaid",
                {"car_value": "numeric", "salary_range": "categorical", "debt_to_income_ratio": "numeric",
                 "loan_length": "numeric", "repaid_loan_on_prev_car": "categorical",
                 "size_of_downpayment": "categorical", "driver_tenure": "numeric"}, CLASSIFICATION_METRICS),
        Dataset("regression", "regression",
                ("regression_synthetic_reference.csv", "regression_synthetic_analysis.csv",
                 "regression_synthetic_analysis_targets.csv"),
                "y_true",
                {"car_age": "numeric", "km_driven": "numeric", "price_new": "numeric", "accident_count": "numeric",
                 "door_count": "categorical", "fuel": "categorical", "transmission": "categorical"},
                ("mae", "rmse")),
        Dataset("multiclass", "multiclass_classification",
                ("mc_reference.csv", "mc_analysis.csv", "mc_analysis_gt.csv"),
                "y_true",
                {"acq_channel": "categorical", "app_behavioral_score": "numeric", "requested_credit_limit": "numeric",
                 "app_channel": "categorical", "credit_bureau_score": "numeric", "stated_income": "numeric",
                 "is_customer": "categorical"}, CLASSIFICATION_METRICS,
                ("prepaid_card", "highstreet_card", "upmarket_card")),
    )
}

# Runs in NannyML's interpreter: copy the package's data files, run CBPE/DLE, print JSON.
NANNYML_SCRIPT = r'''
import json, shutil, sys
from importlib import resources
import pandas as pd
if int(pd.__version__.split(".")[0]) >= 3:  # NannyML's DLE reshapes string columns: keep them object
    pd.set_option("future.infer_string", False)
import nannyml as nml

spec = json.loads(sys.argv[1])
out = {}
data = resources.files("nannyml.datasets.data")
for d in spec["datasets"]:
    for name in d["files"]:
        with resources.as_file(data / name) as path:
            shutil.copy(path, spec["folder"] + "/" + name)
    if not spec["run"]:
        continue
    reference = pd.read_csv(data / d["files"][0])
    analysis = pd.read_csv(data / d["files"][1])
    common = dict(y_pred="y_pred", y_true=d["target"], timestamp_column_name="timestamp", metrics=d["metrics"],
                  chunk_size=spec["chunk"])
    if d["task"] == "regression":
        estimator = nml.DLE(feature_column_names=list(d["features"]), tune_hyperparameters=False, **common)
    elif d["task"] == "binary_classification":
        estimator = nml.CBPE(y_pred_proba="y_pred_proba", problem_type="classification_binary", **common)
    else:
        proba = {c: "y_pred_proba_" + c for c in d["classes"]}
        estimator = nml.CBPE(y_pred_proba=proba, problem_type="classification_multiclass", **common)
    estimator.fit(reference)
    frame = estimator.estimate(analysis).filter(period="analysis").to_df()
    out[d["name"]] = {m: {"value": frame[(m, "value")].tolist(),
                          "low": frame[(m, "lower_confidence_boundary")].tolist(),
                          "high": frame[(m, "upper_confidence_boundary")].tolist()} for m in d["metrics"]}
print(json.dumps(out))
'''


def nannyml_run(python: str, datasets: list[Dataset], folder: Path, run: bool) -> dict | None:
    """Copy the datasets into ``folder`` and (with ``run``) return NannyML's estimates per dataset and metric."""
    spec = {"folder": str(folder), "chunk": CHUNK, "run": run,
            "datasets": [{"name": d.name, "task": d.task, "files": list(d.files), "target": d.target,
                          "features": d.features, "metrics": list(d.metrics), "classes": list(d.classes)}
                         for d in datasets]}
    env = {**os.environ, "NML_DISABLE_USAGE_LOGGING": "1", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([python, "-c", NANNYML_SCRIPT, json.dumps(spec)], capture_output=True, text=True,
                          env=env, timeout=3_600, check=False)
    if done.returncode != 0:
        raise SystemExit(f"NannyML's interpreter failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]) if run else None


def canonical(dataset: Dataset, frame: pd.DataFrame) -> pd.DataFrame:
    """The dataset's rows in driftscope's canonical columns (prediction, probability..., features, label)."""
    out = pd.DataFrame({"ts": pd.to_datetime(frame["timestamp"], utc=True), "prediction": frame["y_pred"]})
    if dataset.task == "binary_classification":
        out["probability"] = frame["y_pred_proba"]
    for cls in dataset.classes:
        out[f"probability:{cls}"] = frame[f"y_pred_proba_{cls}"]
    for name, kind in dataset.features.items():
        out[name] = frame[name].astype(str) if kind == "categorical" else pd.to_numeric(frame[name])
    out["label"] = frame[dataset.target].to_numpy()
    return out


def driftscope_run(dataset: Dataset, folder: Path) -> tuple[pd.DataFrame, float]:
    """Per chunk and metric: driftscope's estimate, band and the realized value; and the seconds taken."""
    reference = canonical(dataset, pd.read_csv(folder / dataset.files[0]))
    analysis = pd.read_csv(folder / dataset.files[1]).merge(pd.read_csv(folder / dataset.files[2]), on="id")
    analysis = canonical(dataset, analysis)
    started = time.perf_counter()
    monitor = EstimatedPerformanceMonitor(
        dataset.task, dataset.features, metrics=dataset.metrics, probability_classes=dataset.classes or None,
        min_labels=1,
    ).fit(reference)
    concept = ConceptDriftMonitor(dataset.task, dataset.features,
                                  has_probability=dataset.task == "binary_classification").fit(reference)
    rows = []
    for index, start in enumerate(range(0, len(analysis) - CHUNK + 1, CHUNK)):
        chunk = analysis.iloc[start:start + CHUNK]
        fired = concept.evaluate(chunk).detectors_fired
        unlabelled = monitor.evaluate(chunk.assign(label=np.nan)).with_concept_drift(list(fired))
        realized = monitor.evaluate(chunk).realized
        for m in unlabelled.metrics:
            rows.append({"dataset": dataset.name, "chunk": index, "metric": m.metric, "driftscope": m.value,
                         "low": m.ci_low, "high": m.ci_high, "realized": realized[m.metric],
                         "unreliable": bool(unlabelled.unreliable_reasons)})
    return pd.DataFrame(rows), time.perf_counter() - started


def attach_nannyml(frame: pd.DataFrame, estimates: dict | None) -> pd.DataFrame:
    """Add NannyML's estimate and band to driftscope's rows (NaN when NannyML did not run)."""
    out = frame.assign(nannyml=np.nan, nml_low=np.nan, nml_high=np.nan)
    if not estimates:
        return out
    for (dataset, metric), rows in out.groupby(["dataset", "metric"]).groups.items():
        numbers = estimates.get(dataset, {}).get(metric)
        if numbers is None:
            continue
        chunks = out.loc[rows, "chunk"].to_numpy()
        for column, key in (("nannyml", "value"), ("nml_low", "low"), ("nml_high", "high")):
            out.loc[rows, column] = np.asarray(numbers[key], dtype=float)[chunks]
    return out


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and metric: MAE of each estimator against realized values, share inside each band."""
    def one(group: pd.DataFrame) -> pd.Series:
        realized = group["realized"]
        inside = (realized >= group["low"]) & (realized <= group["high"])
        return pd.Series({
            "chunks": len(group),
            "mae_driftscope": (group["driftscope"] - realized).abs().mean(),
            "mae_nannyml": (group["nannyml"] - realized).abs().mean(),
            "inside_driftscope": ((realized >= group["low"]) & (realized <= group["high"])).mean(),
            "inside_nannyml": ((realized >= group["nml_low"]) & (realized <= group["nml_high"])).mean()
            if group["nannyml"].notna().any() else np.nan,
            "chunks_reliable": int((~group["unreliable"]).sum()),
            "mae_driftscope_reliable": (group["driftscope"] - realized).abs()[~group["unreliable"]].mean(),
            "mae_nannyml_reliable": (group["nannyml"] - realized).abs()[~group["unreliable"]].mean(),
            "inside_driftscope_reliable": inside[~group["unreliable"]].mean(),
        })
    rows = [one(group).rename((dataset, metric)) for (dataset, metric), group in frame.groupby(["dataset", "metric"],
                                                                                                 sort=False)]
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nannyml-python", default=os.environ.get("DRIFTSCOPE_NANNYML_PYTHON"),
                        help="interpreter of a venv with nannyml installed (holds the datasets)")
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--skip-nannyml", action="store_true", help="copy the data but do not run NannyML")
    parser.add_argument("--no-chunks", action="store_true", help="print the summary only")
    args = parser.parse_args()
    if not args.nannyml_python or not Path(args.nannyml_python).exists():
        print("skipped: NannyML's datasets ship in its wheel; install nannyml and statsmodels into a separate "
              "venv and pass --nannyml-python /path/to/venv/bin/python (or set DRIFTSCOPE_NANNYML_PYTHON)")
        return
    datasets = [DATASETS[name] for name in args.datasets]
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        estimates = nannyml_run(args.nannyml_python, datasets, Path(tmp), run=not args.skip_nannyml)
        nml_seconds = time.perf_counter() - started
        if args.skip_nannyml:
            print("NannyML not run (--skip-nannyml): its columns are empty")
        parts = []
        for dataset in datasets:
            frame, seconds = driftscope_run(dataset, Path(tmp))
            print(f"{dataset.name}: driftscope fit + {frame['chunk'].nunique()} chunks in {seconds:.1f} s")
            parts.append(frame)
    print(f"NannyML (copy + fit + estimate, all datasets, own process): {nml_seconds:.1f} s")
    frame = attach_nannyml(pd.concat(parts, ignore_index=True), estimates)
    with pd.option_context("display.width", 200, "display.max_rows", 1_000, "display.float_format", "{:.4f}".format):
        if not args.no_chunks:
            print(frame[["dataset", "metric", "chunk", "driftscope", "low", "high", "nannyml", "realized",
                         "unreliable"]]
                  .to_string(index=False))
        print(summary(frame).to_string())


if __name__ == "__main__":
    sys.exit(main())
