"""Benchmark dataset-level data drift: driftscope's batch path against Evidently's DataDriftPreset.

Every measurement runs in a fresh subprocess that builds the same reference and current frames
(fixed seeds; 30 % categorical columns; drift injected into every fifth column; 1 % missing values
in every seventh) and reports wall time and peak RSS (``resource.getrusage`` ``ru_maxrss``). The
parent prints a markdown table: best wall time over ``--repeat`` runs (the machine may be shared),
highest peak RSS of the whole worker process (frames and imports included) and, in brackets, the
peak increase over the RSS once the tool was imported and the frames were built. driftscope's
time covers ``fit_reference`` + one ``evaluate_columns``; "eval" is the latter alone (the cost of
each further window).

Usage::

    python bench/drift_bench.py                       # 100000x20 and 1000000x20
    python bench/drift_bench.py --sizes 1000000x100 --skip-evidently-above 20000000
    python bench/drift_bench.py --quick               # 20000x20, a smoke run
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CARDINALITIES = (3, 8, 40, 200)


def make_frame(rows: int, features: int, drifted: bool) -> pd.DataFrame:
    """A reference (``drifted=False``) or current frame; same seeds in every process."""
    columns = {}
    for j in range(features):
        rng = np.random.default_rng([j, int(drifted)])
        shift = drifted and j % 5 == 0
        if j % 10 < 3:
            k = CARDINALITIES[j % len(CARDINALITIES)]
            labels = np.array([f"v{i}" for i in range(k)], dtype=object)
            weights = np.linspace(1.0, 3.0, k)[:: -1 if shift else 1]
            values = labels[rng.choice(k, size=rows, p=weights / weights.sum())]
        else:
            values = rng.normal(0.5 if shift else 0.0, 1.3 if shift else 1.0, rows)
        if j % 7 == 0:
            values[rng.random(rows) < 0.01] = None if values.dtype == object else np.nan
        columns[f"f{j:03d}"] = values
    return pd.DataFrame(columns)


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run_driftscope(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, float]:
    from driftscope.monitors.stattests import evaluate_columns, fit_reference

    types = {name: "categorical" if reference[name].dtype == object else "numeric" for name in reference}
    start = time.perf_counter()
    profile = fit_reference(reference, types)
    fitted = time.perf_counter()
    drifted = sum(result.drifted for result in evaluate_columns(profile, current))
    end = time.perf_counter()
    return {"seconds": end - start, "evaluate_seconds": end - fitted, "drifted": drifted}


def run_evidently(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, float]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    warnings.simplefilter("ignore")
    start = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current, reference)
    seconds = time.perf_counter() - start
    counts = [m["value"]["count"] for m in snapshot.dict()["metrics"] if "drift_share" in m["config"]]
    return {"seconds": seconds, "drifted": int(counts[0])}


def worker(tool: str, rows: int, features: int) -> None:
    """Import the tool, build the frames, run the tool, print one JSON line."""
    sys.path.insert(0, str(ROOT))
    importlib.import_module("driftscope.monitors.stattests" if tool == "driftscope" else "evidently.presets")
    reference, current = make_frame(rows, features, False), make_frame(rows, features, True)
    before = _maxrss_mb()
    result = (run_driftscope if tool == "driftscope" else run_evidently)(reference, current)
    peak = _maxrss_mb()
    print(json.dumps({**result, "peak_mb": peak, "compute_mb": peak - before}))


def measure(tool: str, rows: int, features: int, repeat: int) -> dict[str, float]:
    """Best wall time and highest peak memory over ``repeat`` fresh worker processes."""
    command = [sys.executable, __file__, "--worker", tool, "--sizes", f"{rows}x{features}"]
    runs = []
    for _ in range(repeat):
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
    best = min(runs, key=lambda run: run["seconds"])
    return {
        **best,
        "peak_mb": max(r["peak_mb"] for r in runs),
        "compute_mb": max(r["compute_mb"] for r in runs),
    }


def _memory(measured: dict[str, float]) -> str:
    return f"{measured['peak_mb']:.0f} ({measured['compute_mb']:.0f})"


def parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for item in text.split(","):
        rows, _, features = item.lower().partition("x")
        sizes.append((int(rows), int(features)))
    return sizes


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--sizes", default="100000x20,1000000x20", help="comma-separated ROWSxFEATURES")
    parser.add_argument("--quick", action="store_true", help="only 20000x20 (smoke run)")
    parser.add_argument(
        "--skip-evidently-above",
        type=int,
        default=None,
        metavar="CELLS",
        help="do not run Evidently when rows x features exceeds CELLS",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool and size; best time is shown")
    parser.add_argument("--worker", choices=("driftscope", "evidently"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [(20_000, 20)] if args.quick else parse_sizes(args.sizes)
    if args.worker:
        worker(args.worker, *sizes[0])
        return
    print(
        "| rows | features | driftscope s (fit+eval) | driftscope eval s | driftscope peak MB (compute) "
        "| Evidently s | Evidently peak MB (compute) | speed-up | drifted cols ds/ev |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rows, features in sizes:
        ours = measure("driftscope", rows, features, args.repeat)
        ds = f"{ours['seconds']:.2f} | {ours['evaluate_seconds']:.2f} | {_memory(ours)}"
        if args.skip_evidently_above is not None and rows * features > args.skip_evidently_above:
            ev, ratio, drifted = "skipped (--skip-evidently-above) | n/a", "n/a", f"{ours['drifted']}/-"
        else:
            theirs = measure("evidently", rows, features, args.repeat)
            ev = f"{theirs['seconds']:.2f} | {_memory(theirs)}"
            ratio = f"{theirs['seconds'] / ours['seconds']:.1f}x"
            drifted = f"{ours['drifted']}/{theirs['drifted']}"
        print(f"| {rows} | {features} | {ds} | {ev} | {ratio} | {drifted} |", flush=True)


if __name__ == "__main__":
    main()
