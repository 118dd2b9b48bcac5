"""False alarms and detection of fixed vs calibrated + FDR drift thresholds at 1k to 1M rows per window.

A reference of 100,000 rows and 20 features (12 numeric of four shapes, 8 categorical of 2 to 12
categories) is drawn once. No-drift windows are drawn from the reference (rows resampled with
replacement), so the reference's distribution is the truth. Each window is evaluated as it is and
with its numeric feature ``x0`` shifted by 0.1, 0.2 and 0.5 reference SDs, by two monitors side by
side in the same run: ``fixed`` (Evidently's methods and thresholds, dataset drift at share 0.5)
and ``calibrated`` (false_alarm_rate 0.01, fdr 0.05, dataset drift = any feature in the
FDR-controlled set). Per size it prints the share of windows with any false feature alarm, the
per-feature false alarm rate, the share of windows with a false dataset-drift verdict (no-drift
windows), and the share of shifted windows where ``x0`` was flagged; false alarms on the other 19
features of shifted windows count too (column "false, shifted"). It also times the calibration
(nulls of one size band for the 20 features) and one window's evaluation in each mode.

Run: ``python bench/false_alarms.py [--quick] [--windows 1000=200,10000=200,100000=60,1000000=12]``.
"""

import argparse
import time

import numpy as np
import pandas as pd

from driftscope.monitors.data_drift import DataDriftMonitor

SHIFTS = (0.1, 0.2, 0.5)
N_REFERENCE = 100_000
FULL = {1_000: 200, 10_000: 200, 100_000: 60, 1_000_000: 12}
QUICK = {1_000: 100, 10_000: 50, 100_000: 10}


def reference_frame(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """20 mixed features: normal, lognormal, uniform and integer-valued numerics; categoricals."""
    columns: dict[str, np.ndarray] = {}
    shapes = (lambda: rng.normal(size=n), lambda: rng.lognormal(0, 0.7, n), lambda: rng.uniform(-1, 1, n),
              lambda: rng.poisson(30, n).astype(float))
    for i in range(12):
        columns[f"x{i}"] = shapes[i % 4]()
    for i in range(8):
        k = 2 + (i * 10) // 7
        weights = rng.dirichlet(np.full(k, 2.0))
        columns[f"c{i}"] = rng.choice(np.array([f"v{j}" for j in range(k)], dtype=object), n, p=weights)
    types = {name: "numeric" if name.startswith("x") else "categorical" for name in columns}
    return pd.DataFrame(columns), types


def monitors(reference: pd.DataFrame, types: dict[str, str]) -> dict[str, DataDriftMonitor]:
    """The two monitors compared: Evidently's fixed thresholds, and calibrated + BH."""
    return {
        "fixed": DataDriftMonitor(types).fit(reference),
        "calibrated+fdr": DataDriftMonitor(types, threshold_mode="calibrated", false_alarm_rate=0.01, fdr=0.05,
                                           drift_share=0.0).fit(reference),
    }


def run_size(fitted: dict[str, DataDriftMonitor], reference: pd.DataFrame, size: int, n_windows: int,
             rng: np.random.Generator) -> list[dict[str, object]]:
    """Counts per mode over ``n_windows`` windows of ``size`` rows, each also with x0 shifted."""
    sd = float(reference["x0"].std(ddof=0))
    tally = {mode: {"any": 0, "features": 0, "dataset": 0, "false_shifted": 0, **{s: 0 for s in SHIFTS}}
             for mode in fitted}
    seconds = dict.fromkeys(fitted, 0.0)
    for _ in range(n_windows):
        window = reference.iloc[rng.integers(0, len(reference), size)].reset_index(drop=True)
        variants = {0.0: window}
        for shift in SHIFTS:
            variants[shift] = window.assign(x0=window["x0"] + shift * sd)
        for mode, monitor in fitted.items():
            counts = tally[mode]
            for shift, frame in variants.items():
                started = time.perf_counter()
                result = monitor.evaluate(frame)
                seconds[mode] += time.perf_counter() - started
                flagged = {c.column for c in result.columns if c.role == "feature" and c.test.drifted}
                if shift == 0.0:
                    counts["any"] += bool(flagged)
                    counts["features"] += len(flagged)
                    counts["dataset"] += result.dataset_drift
                else:
                    counts[shift] += "x0" in flagged
                    counts["false_shifted"] += len(flagged - {"x0"})
    return [_row(size, n_windows, mode, counts, seconds[mode] / (n_windows * 4)) for mode, counts in tally.items()]


def _row(size: int, n: int, mode: str, counts: dict, seconds: float) -> dict[str, object]:
    row: dict[str, object] = {
        "rows/window": f"{size:,}", "windows": n, "mode": mode,
        "window w/ false feature alarm": f"{counts['any'] / n:.1%}",
        "false alarm rate/feature": f"{counts['features'] / (20 * n):.2%}",
        "false dataset drift": f"{counts['dataset'] / n:.1%}",
    }
    for shift in SHIFTS:
        row[f"found {shift} SD"] = f"{counts[shift] / n:.1%}"
    row["false, shifted (per feature)"] = f"{counts['false_shifted'] / (19 * 3 * n):.2%}"
    row["s/window"] = f"{seconds:.3f}"
    return row


def markdown(rows: list[dict[str, object]]) -> str:
    """A Markdown table of ``rows``."""
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(r[h]) for h in header) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer windows, no 1M size")
    parser.add_argument("--windows", help="size=count,... (overrides the defaults)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    if args.windows:
        plan = {int(k): int(v) for k, v in (item.split("=") for item in args.windows.split(","))}
    rng = np.random.default_rng(args.seed)
    reference, types = reference_frame(rng, N_REFERENCE)
    fitted = monitors(reference, types)
    started = time.perf_counter()
    fitted["calibrated+fdr"].evaluate(reference.iloc[:10_000])
    calibration_s = time.perf_counter() - started
    rows = []
    for size, n_windows in plan.items():
        rows += run_size(fitted, reference, size, n_windows, rng)
        print(f"done {size:,} rows x {n_windows} windows", flush=True)
    print(f"\nReference {N_REFERENCE:,} rows x 20 features; calibration of one size band (20 features, "
          f"1000 null draws each) plus one 10k-row window: {calibration_s:.2f} s. Shifted feature: x0 (normal).\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
