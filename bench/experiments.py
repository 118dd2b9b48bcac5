"""Experiments looked at after every window: false positives of A/A, power and time to decision of A/B.

2,000 simulated A/A experiments (both arms convert at 10 %), each looked at after every one of 30
windows of 10,000 units per arm: the share that EVER declares a difference with driftscope's
always-valid confidence sequence (must be at most alpha), next to the share a naive two-sample z-test
at every look would give. Then A/B experiments with a known relative lift of 2 % and 5 %: the share
detected within the 30 windows and the median window of the decision. One seeded run, vectorised
over experiments (the verdict code is the same function driftscope runs per experiment).

    python bench/experiments.py [--runs 2000] [--looks 30] [--units 10000] [--alpha 0.05]
"""

import argparse
import time

import numpy as np
from scipy import stats

from driftscope.monitors.sequential import ArmTotals, effect_sequence


def simulate(rng: np.random.Generator, runs: int, looks: int, units: int, p_c: float, lift: float
             ) -> tuple[ArmTotals, ArmTotals]:
    """Per-window conversions of each arm, as running totals (shape: runs x looks)."""
    n = np.full((runs, looks), units)
    control = rng.binomial(units, p_c, size=(runs, looks))
    treatment = rng.binomial(units, p_c * (1 + lift), size=(runs, looks))
    return ArmTotals.cumulative(n, control, control), ArmTotals.cumulative(n, treatment, treatment)


def decisions(control: ArmTotals, treatment: ArmTotals, tau: float, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """First look (1-based, 0 = never) at which each method declares a difference: sequence, naive z-test."""
    seq = effect_sequence(control, treatment, tau=tau, alpha=alpha)
    sequence_hit = (seq.low > 0) | (seq.high < 0)
    naive_hit = np.abs(seq.effect / np.sqrt(seq.variance)) > stats.norm.ppf(1 - alpha / 2)
    first = [np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, 0) for hit in (sequence_hit, naive_hit)]
    return first[0], first[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--looks", type=int, default=30)
    parser.add_argument("--units", type=int, default=10_000, help="units per arm per window")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--rate", type=float, default=0.10, help="control conversion rate")
    parser.add_argument("--minimum-effect", type=float, default=0.01, help="relative lift worth detecting (tau)")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    tau = args.minimum_effect * args.rate
    started = time.perf_counter()
    print(f"{args.runs} experiments x {args.looks} looks x {args.units:,} units per arm per window; "
          f"control rate {args.rate:.0%}, alpha {args.alpha}, tau = {tau:g} (minimum effect {args.minimum_effect:.0%})")
    print(f"{'lift':>6} | {'sequence: ever declared':>24} | {'naive z-test every look':>24} | "
          f"{'sequence: median window of decision':>36}")
    for lift in (0.0, 0.02, 0.05):
        control, treatment = simulate(rng, args.runs, args.looks, args.units, args.rate, lift)
        seq_first, naive_first = decisions(control, treatment, tau, args.alpha)
        decided = seq_first[seq_first > 0]
        median = f"{np.median(decided):.0f}" if decided.size else "-"
        print(f"{lift:>6.0%} | {np.mean(seq_first > 0):>24.3f} | {np.mean(naive_first > 0):>24.3f} | {median:>36}")
    print(f"({time.perf_counter() - started:.1f} s; lift 0% rows are false positives and must stay <= alpha "
          f"for the sequence)")


if __name__ == "__main__":
    main()
