"""Name -> what each concept-drift detector judges, without importing river or scikit-learn.

Validating a config needs the detector names, not the libraries behind them (seconds to import).
:class:`~driftscope.monitors.concept_drift.ConceptDriftMonitor` runs a detector by its entry here:
the monitor's own tests (``label_drift``, ``calibration_drift``, ``domain_classifier``) by name, and
the change detectors on the error stream (:mod:`driftscope.monitors.detectors`) from the river class
and settings recorded here.

Examples
--------
>>> from monitors import concept_registry
>>> concept_registry.names()
('label_drift', 'calibration_drift', 'adwin', 'page_hinkley', 'ddm', 'domain_classifier')
>>> concept_registry.get("ddm").river_class, concept_registry.get("ddm").stream
('binary.DDM', 'indicator')
>>> concept_registry.get("tvd")
Traceback (most recent call last):
...
KeyError: "unknown concept-drift detector 'tvd'; valid: label_drift, calibration_drift, adwin, ..."
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal


@dataclass(frozen=True)
class Detector:
    """Registry record of one concept-drift detector.

    Attributes
    ----------
    name : str
        Public name used in configuration (``detectors:``).
    stream : {"values", "indicator"} or None
        Change detectors on the per-prediction error stream: fed the error values, or the error
        indicator (wrong, or error above the cut); None for the monitor's own tests.
    river_class : str or None
        The detector's class under ``river.drift`` (``"binary.DDM"``).
    settings : mapping
        Keyword arguments of that class.
    """

    name: str
    stream: Literal["values", "indicator"] | None = None
    river_class: str | None = None
    settings: Mapping[str, float | int | str] = field(default_factory=dict)


_DETECTORS = MappingProxyType({d.name: d for d in (
    Detector("label_drift"),
    Detector("calibration_drift"),
    Detector("adwin", "values", "ADWIN", {"delta": 0.002, "clock": 32}),
    Detector("page_hinkley", "indicator", "PageHinkley",
             {"min_instances": 30, "delta": 0.01, "threshold": 50.0, "alpha": 1 - 1e-4, "mode": "up"}),
    Detector("ddm", "indicator", "binary.DDM", {"warm_start": 30, "warning_threshold": 2.0, "drift_threshold": 3.0}),
    Detector("domain_classifier"),
)})


def names() -> tuple[str, ...]:
    """Detector names, in the order a monitor configured with none runs them."""
    return tuple(_DETECTORS)


def get(name: str) -> Detector:
    """The detector called ``name``; a KeyError lists the valid names."""
    try:
        return _DETECTORS[name]
    except KeyError as exc:
        raise KeyError(f"unknown concept-drift detector {name!r}; valid: {', '.join(names())}") from exc


def stream_detectors() -> tuple[Detector, ...]:
    """The change detectors on the error stream, in registry order."""
    return tuple(d for d in _DETECTORS.values() if d.stream is not None)
