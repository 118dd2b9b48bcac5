"""Canary and A/B verdicts between two model versions, valid at every look.

An experiment compares a treatment version with a control version of one model on a primary KPI
(an outcome such as ``clicked``, or a model metric) with a desired direction, and watches
guardrails. It is evaluated after every window on the data so far:

* **Effect**: ``treatment mean - control mean`` of the primary KPI over all windows so far, with the
  always-valid ``1 - alpha`` confidence sequence of :mod:`driftscope.monitors.sequential`
  (mixture scale ``tau`` = the minimum effect worth detecting, in the KPI's units).
* **Verdict**: ``better`` once the sequence excludes 0 on the desired side, ``worse`` once it
  excludes 0 on the other side, else ``no detectable difference yet``. The first look at which a
  verdict is reached decides the experiment; later looks keep it (the decision is a stopping time,
  which is what the sequence's guarantee covers) and still report the effect.
* **Guardrails** are checked on each window's own data, not cumulatively: a latency or error
  regression is immediate, and cumulative figures would hide it for days. A guardrail compares the
  treatment's window value with the control's: ``max_increase`` / ``max_decrease`` is absolute, or
  relative to the control when the guardrail says so. A window where either arm has fewer than
  :data:`MIN_GUARDRAIL_UNITS` units checks nothing. A breach decides ``worse`` in that window.
* **Samples still needed**: further units (both arms) until the sequence's half-width falls to the
  minimum effect at the current traffic split and variances, i.e. until an effect of exactly that
  size would just be declared; ``0`` once reached.

``minimum_effect`` is relative to the control's mean at the first look where it has data (a lift of
``0.01`` on a 10 % click-through rate is 0.1 percentage point); a control mean of 0 makes it absolute.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from driftscope.monitors.sequential import ArmTotals, effect_sequence, units_until

Verdict = Literal["better", "worse", "no_detectable_difference"]
Direction = Literal["increase", "decrease"]
#: fewer units than this in either arm of a window and its guardrails are not checked
MIN_GUARDRAIL_UNITS = 30
#: columns of the per-window frame :func:`evaluate` reads: each arm's units, outcome sum and sum of squares
ARM_COLUMNS = ("n", "total", "total_sq")


@dataclass(frozen=True)
class Guardrail:
    """A limit on how much worse the treatment may be than the control in any one window.

    ``limit`` is the largest allowed change in the bad direction: for ``direction="increase"``
    (latency, error rate) the treatment may exceed the control by at most ``limit``; for
    ``"decrease"`` (ROC AUC) fall short by at most ``limit``. ``relative`` makes ``limit`` a share of
    the control's value.
    """

    name: str
    direction: Direction
    limit: float
    relative: bool = False

    def breached(self, control: np.ndarray, treatment: np.ndarray) -> np.ndarray:
        """Per window, whether the treatment's value is worse than the control's beyond the limit."""
        change = treatment - control if self.direction == "increase" else control - treatment
        with np.errstate(invalid="ignore", divide="ignore"):
            allowed = self.limit * np.abs(control) if self.relative else np.full_like(control, self.limit)
        return np.nan_to_num(change, nan=-np.inf) > allowed


@dataclass(frozen=True)
class Look:
    """The experiment as seen after one window (cumulative unless said otherwise)."""

    window_start: pd.Timestamp
    window_end: pd.Timestamp
    n_control: int
    n_treatment: int
    control_mean: float
    treatment_mean: float
    effect: float
    low: float
    high: float
    verdict: Verdict
    decided: bool
    decided_at: pd.Timestamp | None
    reason: str
    breaches: tuple[str, ...]
    samples_needed: float


def evaluate(windows: pd.DataFrame, *, direction: Direction, alpha: float, minimum_effect: float,
             guardrails: Sequence[Guardrail] = ()) -> list[Look]:
    """One :class:`Look` per window, in window order.

    ``windows`` has one row per window with ``window_start``, ``window_end``, each arm's primary KPI
    totals of that window's own data (``control_n``, ``control_total``, ``control_total_sq``, and the
    same with ``treatment_``), and for every guardrail ``<name>_control`` / ``<name>_treatment`` with
    the window's value (NaN when unknown) and its unit counts ``<name>_control_n`` / ``<name>_treatment_n``
    (default: ``control_n`` / ``treatment_n``).
    """
    frame = windows.sort_values("window_end").reset_index(drop=True)
    control = ArmTotals.cumulative(*(frame[f"control_{c}"].to_numpy(float) for c in ARM_COLUMNS))
    treatment = ArmTotals.cumulative(*(frame[f"treatment_{c}"].to_numpy(float) for c in ARM_COLUMNS))
    baseline = _baseline(control)
    width = abs(minimum_effect * baseline) if baseline else abs(minimum_effect)
    sequence = effect_sequence(control, treatment, tau=width, alpha=alpha)
    breaches = _breaches(frame, guardrails)
    looks: list[Look] = []
    decided: tuple[Verdict, pd.Timestamp, str] | None = None
    for k in range(len(frame)):
        verdict, reason = _verdict_now(sequence.low[k], sequence.high[k], direction, breaches[k])
        if decided is None and verdict != "no_detectable_difference":
            decided = (verdict, frame["window_end"].iloc[k], reason)
        looks.append(Look(
            window_start=frame["window_start"].iloc[k], window_end=frame["window_end"].iloc[k],
            n_control=int(control.n[k]), n_treatment=int(treatment.n[k]),
            control_mean=float(control.mean[k]), treatment_mean=float(treatment.mean[k]),
            effect=float(sequence.effect[k]), low=float(sequence.low[k]), high=float(sequence.high[k]),
            verdict=decided[0] if decided else "no_detectable_difference", decided=decided is not None,
            decided_at=decided[1] if decided else None, reason=decided[2] if decided else reason,
            breaches=breaches[k], samples_needed=_samples_needed(control, treatment, k, width, alpha),
        ))
    return looks


def _baseline(control: ArmTotals) -> float:
    """The control's mean at its first look with data (0 when it never has any)."""
    means = control.mean
    seen = np.flatnonzero(np.isfinite(means))
    return float(means[seen[0]]) if seen.size else 0.0


def _breaches(frame: pd.DataFrame, guardrails: Sequence[Guardrail]) -> list[tuple[str, ...]]:
    def enough(name: str) -> np.ndarray:
        counts = [frame.get(f"{name}_{arm}_n", frame[f"{arm}_n"]).to_numpy(float) for arm in ("control", "treatment")]
        return (counts[0] >= MIN_GUARDRAIL_UNITS) & (counts[1] >= MIN_GUARDRAIL_UNITS)

    flags = {
        g.name: enough(g.name) & g.breached(frame[f"{g.name}_control"].to_numpy(float),
                                            frame[f"{g.name}_treatment"].to_numpy(float))
        for g in guardrails
    }
    return [tuple(name for name, hit in flags.items() if hit[k]) for k in range(len(frame))]


def _verdict_now(low: float, high: float, direction: Direction, breaches: tuple[str, ...]) -> tuple[Verdict, str]:
    if breaches:
        return "worse", f"guardrail breached: {', '.join(breaches)}"
    if not (np.isfinite(low) and np.isfinite(high)):
        return "no_detectable_difference", "not enough data in both arms yet"
    if low > 0 or high < 0:
        up = low > 0
        good = up == (direction == "increase")
        side = "above" if up else "below"
        return ("better" if good else "worse"), f"the effect's confidence sequence lies {side} 0"
    return "no_detectable_difference", "the effect's confidence sequence contains 0"


def _samples_needed(control: ArmTotals, treatment: ArmTotals, k: int, width: float, alpha: float) -> float:
    n_c, n_t = control.n[k], treatment.n[k]
    total = n_c + n_t
    if min(n_c, n_t) < 2:
        return float("nan")
    share = n_t / total
    per_unit = treatment.variance[k] / share + control.variance[k] / (1 - share)
    return units_until(width, variance_per_unit=float(per_unit), tau=width, alpha=alpha, n_now=float(total))
