"""Value types shared by every statistical test: results, registry records and errors."""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

FeatureType = Literal["numeric", "categorical", "binary"]
FEATURE_TYPES: tuple[FeatureType, ...] = ("numeric", "categorical", "binary")
Kind = Literal["p_value", "distance"]
Rule = Literal["<", "<=", ">=", ">"]
_OPERATORS: dict[Rule, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">=": operator.ge,
    ">": operator.gt,
}


class UnknownMethodError(ValueError):
    """A drift method name is not in the registry; the message lists the valid names."""


class Score(NamedTuple):
    """What a test function returns: its statistic and, for hypothesis tests, the p-value."""

    statistic: float
    p_value: float | None = None


@dataclass(frozen=True)
class StatTest:
    """Registry record of one drift method.

    Attributes
    ----------
    name : str
        Public name used in configuration (``"psi"``).
    feature_types : frozenset of str
        Feature types the method accepts.
    default_threshold : float
        Threshold used when the caller passes ``threshold=None``.
    kind : {"p_value", "distance"}
        Whether the verdict looks at the p-value or at the statistic.
    rule : {"<", "<=", ">=", ">"}
        Drift is reported when ``score <rule> threshold`` (score = p-value or statistic).
    func : callable
        ``func(pair, **params) -> Score`` on a prepared column pair; its docstring states the
        conventions (binning, epsilon, log base, normalisation, threshold, verdict rule).
    min_size : int
        Fewer non-missing values than this on either side gives ``status="no_data"``.
    """

    name: str
    feature_types: frozenset[str]
    default_threshold: float
    kind: Kind
    rule: Rule
    func: Callable[..., Score]
    min_size: int = 1

    @property
    def doc(self) -> str:
        """The conventions of the method: the docstring of its function."""
        return inspect.getdoc(self.func) or ""

    @property
    def params(self) -> tuple[str, ...]:
        """Names of the optional keyword parameters the method accepts."""
        signature = inspect.signature(self.func)
        return tuple(p.name for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY)

    def check_params(self, params: dict[str, object]) -> None:
        """Raise ValueError naming the accepted parameters when an unknown one is given."""
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            raise ValueError(
                f"drift method {self.name!r} got unknown parameter(s) {unknown}; "
                f"it accepts {list(self.params) or 'none'}"
            )

    def drifted(self, score: Score, threshold: float) -> bool:
        """Apply the verdict rule to a score."""
        value = score.p_value if self.kind == "p_value" else score.statistic
        if value is None:
            raise ValueError(f"drift method {self.name!r} returned no {self.kind} to judge against {threshold}")
        return bool(_OPERATORS[self.rule](value, threshold))


@dataclass(frozen=True)
class DriftTestResult:
    """Outcome of one drift test on one column.

    Attributes
    ----------
    method : str
        Registry name of the test.
    statistic : float or None
        Test statistic or distance; None when ``status == "no_data"``.
    p_value : float or None
        p-value of hypothesis tests; None for distances and when there is no data.
    threshold : float
        Threshold actually used (the method default when none was given).
    drifted : bool
        The verdict; always False when ``status == "no_data"``.
    feature_type : {"numeric", "categorical", "binary"}
        Feature type the data was treated as.
    status : {"ok", "no_data"}
        ``"no_data"`` when a side has fewer non-missing values than the method needs.
    missing_share_reference, missing_share_current : float
        Share of rows that were missing (None, NaN, pd.NA, +/-inf) and dropped; 0.0 for empty input.
    new_categories : tuple of str
        Categories present in current but not in reference (empty for numeric features).
    n_reference, n_current : int
        Non-missing values compared.
    column : str or None
        Column name when produced by the batch path.
    """

    method: str
    statistic: float | None
    p_value: float | None
    threshold: float
    drifted: bool
    feature_type: str
    status: Literal["ok", "no_data"]
    missing_share_reference: float
    missing_share_current: float
    new_categories: tuple[str, ...]
    n_reference: int
    n_current: int
    column: str | None = None
