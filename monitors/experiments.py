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
  relative to the control when the guardrail says so. A breach needs evidence: a one-sided test
  at level ``alpha`` that the treatment is worse than the control by more than the limit, on the
  two arms' values and standard errors (:meth:`Guardrail.breached`), so one error more among 30
  requests does not end an experiment. A window where either arm has fewer than
  :data:`MIN_GUARDRAIL_UNITS` units checks nothing. A breach decides ``worse`` in that window.
* **Samples still needed**: further units (both arms) until the sequence's half-width falls to the
  minimum effect at the current traffic split and variances, i.e. until an effect of exactly that
  size would just be declared; ``0`` once reached.

``minimum_effect`` is relative to the control's mean at the first look where it has data (a lift of
``0.01`` on a 10 % click-through rate is 0.1 percentage point); a control mean of 0 makes it absolute.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
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

    def breached(self, control: np.ndarray, treatment: np.ndarray, se_control: np.ndarray | None = None,
                 se_treatment: np.ndarray | None = None, alpha: float = 0.05) -> np.ndarray:
        """Per window, whether the treatment is worse than the control beyond the limit, with evidence.

        The excess ``d`` is ``t - c - limit`` (``direction="increase"``) or ``c - t - limit``
        (``"decrease"``), the limit times ``|c|`` when relative. A window breaches when
        ``d / sqrt(se_t^2 + k^2 se_c^2) > z(1 - alpha)``: the one-sided Wald test at level ``alpha`` of
        "worse by at most the limit" (``k`` = 1, or ``1 +/- limit`` for a relative limit, the control's
        weight in ``d``). Where a standard error is unknown (NaN, or figures stored before they were
        kept) the point rule ``d > 0`` applies; where both are 0 a positive ``d`` breaches.

        Examples
        --------
        >>> g = Guardrail("error_rate", "increase", 0.002)
        >>> se = lambda p, n: np.sqrt(p * (1 - p) / n)
        >>> g.breached(np.array([0.0, 0.0]), np.array([1 / 30, 12 / 60]),
        ...            np.array([0.0, 0.0]), np.array([se(1 / 30, 30), se(12 / 60, 60)])).tolist()
        [False, True]
        """
        sign = 1.0 if self.direction == "increase" else -1.0
        change = sign * (treatment - control)
        with np.errstate(invalid="ignore", divide="ignore"):
            allowed = self.limit * np.abs(control) if self.relative else np.full_like(control, self.limit)
            excess = change - allowed
            weight = 1.0 - sign * self.limit * np.sign(control) if self.relative else np.ones_like(control)
            unknown = np.full_like(control, np.nan)
            spread = np.sqrt(np.square(unknown if se_treatment is None else se_treatment)
                             + np.square(weight * (unknown if se_control is None else se_control)))
            z = excess / spread
        point = np.nan_to_num(excess, nan=-np.inf) > 0
        tested = np.nan_to_num(z, nan=-np.inf) > NormalDist().inv_cdf(1 - alpha)
        return np.where(np.isfinite(spread) & (spread > 0), tested, point)


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
    the window's value (NaN when unknown), its unit counts ``<name>_control_n`` / ``<name>_treatment_n``
    (default: ``control_n`` / ``treatment_n``) and optionally its standard errors ``<name>_control_se`` /
    ``<name>_treatment_se`` (see :meth:`Guardrail.breached`).
    """
    frame = windows.sort_values("window_end").reset_index(drop=True)
    control = ArmTotals.cumulative(*(frame[f"control_{c}"].to_numpy(float) for c in ARM_COLUMNS))
    treatment = ArmTotals.cumulative(*(frame[f"treatment_{c}"].to_numpy(float) for c in ARM_COLUMNS))
    baseline = _baseline(control)
    width = abs(minimum_effect * baseline) if baseline else abs(minimum_effect)
    sequence = effect_sequence(control, treatment, tau=width, alpha=alpha)
    breaches = _breaches(frame, guardrails, alpha)
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


def _breaches(frame: pd.DataFrame, guardrails: Sequence[Guardrail], alpha: float) -> list[tuple[str, ...]]:
    def enough(name: str) -> np.ndarray:
        counts = [frame.get(f"{name}_{arm}_n", frame[f"{arm}_n"]).to_numpy(float) for arm in ("control", "treatment")]
        return (counts[0] >= MIN_GUARDRAIL_UNITS) & (counts[1] >= MIN_GUARDRAIL_UNITS)

    def column(name: str) -> np.ndarray:
        return frame[name].to_numpy(float) if name in frame else np.full(len(frame), np.nan)

    flags = {
        g.name: enough(g.name) & g.breached(column(f"{g.name}_control"), column(f"{g.name}_treatment"),
                                            column(f"{g.name}_control_se"), column(f"{g.name}_treatment_se"), alpha)
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
