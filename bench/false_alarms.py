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
(nulls of one size band for the 20 features) and one whole window's evaluation in each mode
("s/window"). Shifted variants are evaluated on x0 alone and combined with the unshifted window's
other 19 tests (the same verdicts as a whole evaluation, a quarter of the cost).

Run: ``python bench/false_alarms.py [--quick] [--windows 1000=200,...] [--budget 1000000=600]``.
"""

import argparse
import time

import numpy as np
import pandas as pd

from driftscope.monitors.data_drift import DataDriftMonitor, DataDriftResult
from driftscope.monitors.multiple_testing import bh_adjust

SHIFTS = (0.1, 0.2, 0.5)
FALSE_ALARM_RATE = 0.01
FDR = 0.05
N_REFERENCE = 100_000
FULL = {1_000: 200, 10_000: 200, 100_000: 200, 1_000_000: 25}
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
    """The two monitors compared (Evidently's fixed thresholds; calibrated + BH) and their x0-only twins."""
    calibrated = {"threshold_mode": "calibrated", "false_alarm_rate": FALSE_ALARM_RATE}
    x0 = {"x0": "numeric"}
    return {
        "fixed": DataDriftMonitor(types).fit(reference),
        "calibrated+fdr": DataDriftMonitor(types, **calibrated, fdr=FDR, drift_share=0.0).fit(reference),
        "fixed:x0": DataDriftMonitor(x0).fit(reference[["x0"]]),
        "calibrated+fdr:x0": DataDriftMonitor(x0, **calibrated).fit(reference[["x0"]]),
    }


def flagged_when_shifted(mode: str, base: DataDriftResult, x0: DataDriftResult) -> set[str]:
    """Flagged features of the window with x0 shifted, from the unshifted window and x0 alone.

    Only x0 differs, so the other features' tests are those of the unshifted window; with FDR the
    Benjamini-Hochberg step is redone over their raw p-values and x0's new one (x0's null is the
    same: same column, band, draws and seed).
    """
    x0_test = x0.column("x0").test
    others = {c.column: c.test for c in base.columns if c.role == "feature" and c.column != "x0"}
    if mode == "fixed":
        return {name for name, test in others.items() if test.drifted} | ({"x0"} if x0_test.drifted else set())
    tests = {**others, "x0": x0_test}
    tested = [name for name, test in tests.items() if test.status == "ok" and test.p_value is not None]
    q_values = bh_adjust(np.array([tests[name].p_value for name in tested], dtype=np.float64))
    return {name for name, q in zip(tested, q_values, strict=True) if q <= FDR}


def run_size(fitted: dict[str, DataDriftMonitor], reference: pd.DataFrame, size: int, n_windows: int,
             rng: np.random.Generator, budget: float = float("inf")) -> list[dict[str, object]]:
    """Counts per mode over ``n_windows`` windows of ``size`` rows, each also with x0 shifted.

    Stops early once ``budget`` seconds have passed (the rows report the windows done).

    A no-drift window is evaluated whole; its shifted variants only on x0 (:func:`flagged_when_shifted`),
    which gives the same verdicts as evaluating each variant whole at a quarter of the cost.
    """
    sd = float(reference["x0"].std(ddof=0))
    modes = ("fixed", "calibrated+fdr")
    tally = {mode: {"any": 0, "features": 0, "dataset": 0, "false_shifted": 0, **{s: 0 for s in SHIFTS}}
             for mode in modes}
    seconds = dict.fromkeys(modes, 0.0)
    started_size = time.perf_counter()
    done = 0
    while done < n_windows and time.perf_counter() - started_size < budget:
        done += 1
        window = reference.iloc[rng.integers(0, len(reference), size)].reset_index(drop=True)
        for mode in modes:
            counts = tally[mode]
            started = time.perf_counter()
            base = fitted[mode].evaluate(window)
            seconds[mode] += time.perf_counter() - started
            flagged = {c.column for c in base.columns if c.role == "feature" and c.test.drifted}
            counts["any"] += bool(flagged)
            counts["features"] += len(flagged)
            counts["dataset"] += base.dataset_drift
            for shift in SHIFTS:
                x0 = fitted[f"{mode}:x0"].evaluate(pd.DataFrame({"x0": window["x0"] + shift * sd}))
                shifted = flagged_when_shifted(mode, base, x0)
                counts[shift] += "x0" in shifted
                counts["false_shifted"] += len(shifted - {"x0"})
    return [_row(size, done, mode, tally[mode], seconds[mode] / max(done, 1)) for mode in modes]


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
    parser.add_argument("--budget", default="", help="size=seconds,...: stop that size after so many seconds")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    if args.windows:
        plan = {int(k): int(v) for k, v in (item.split("=") for item in args.windows.split(","))}
    budgets = {int(k): float(v) for k, v in (item.split("=") for item in args.budget.split(",") if item)}
    rng = np.random.default_rng(args.seed)
    reference, types = reference_frame(rng, N_REFERENCE)
    fitted = monitors(reference, types)
    started = time.perf_counter()
    fitted["calibrated+fdr"].evaluate(reference.iloc[:10_000])
    calibration_s = time.perf_counter() - started
    rows = []
    for size, n_windows in plan.items():
        rows += run_size(fitted, reference, size, n_windows, rng, budgets.get(size, float("inf")))
        print(f"done {size:,} rows x {rows[-1]['windows']} windows", flush=True)
    print(f"\nReference {N_REFERENCE:,} rows x 20 features; calibration of one size band (20 features, "
          f"1000 null draws each) plus one 10k-row window: {calibration_s:.2f} s. Shifted feature: x0 (normal).\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
