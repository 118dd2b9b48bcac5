"""Pure statistics core of driftscope: two-sample drift tests on arrays, frozen dataclasses out.

One module per method, a registry (:mod:`driftscope.monitors.stattests.registry`), Evidently's automatic
choice (:mod:`driftscope.monitors.stattests.select`) and a batch path for whole frames
(:mod:`driftscope.monitors.stattests.batch`). Conventions follow Evidently's legacy stat tests exactly.

Examples
--------
>>> from monitors.stattests import drift_test
>>> result = drift_test("ks", [0.1, 0.4, 0.5, 0.9], [2.1, 2.5, 2.6, 2.7])
>>> result.statistic, result.drifted
(1.0, True)
"""

import importlib
from typing import TYPE_CHECKING, Any

from driftscope.monitors.stattests.base import DriftTestResult, StatTest, UnknownMethodError

if TYPE_CHECKING:
    from driftscope.monitors.stattests.batch import ReferenceProfile, evaluate_columns, fit_reference
    from driftscope.monitors.stattests.evaluate import drift_test
    from driftscope.monitors.stattests.select import select_method

_HOMES = {"ReferenceProfile": "batch", "evaluate_columns": "batch", "fit_reference": "batch", "drift_test": "evaluate",
          "select_method": "select"}
"""Public name -> the module defining it, imported on first access (PEP 562), so that reading the
registry's names (what loading a config does) imports neither numpy nor pandas."""

__all__ = [
    "DriftTestResult",
    "ReferenceProfile",
    "StatTest",
    "UnknownMethodError",
    "drift_test",
    "evaluate_columns",
    "fit_reference",
    "select_method",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
