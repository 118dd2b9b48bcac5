"""The registries config validation reads list names without importing their implementations, every
name they list resolves to an implementation that answers to it, and loading a config stays light."""

import subprocess
import sys

import pytest

from driftscope.monitors import concept_registry, detectors
from driftscope.monitors.concept_drift import ConceptDriftMonitor
from driftscope.monitors.estimation import registry as estimation
from driftscope.monitors.estimation.cbpe import CBPE
from driftscope.monitors.estimation.dle import DLE
from driftscope.monitors.stattests import registry


@pytest.mark.parametrize("name", registry.names())
def test_every_stat_test_name_loads_the_test_of_that_name(name: str) -> None:
    assert registry.get(name).name == name


def test_every_stream_detector_builds_its_river_detector() -> None:
    pytest.importorskip("river")
    for name in detectors.STREAM_DETECTORS:
        assert type(detectors.make(name)).__name__ == concept_registry.get(name).river_class.split(".")[-1]
    assert ConceptDriftMonitor("regression", {}).detectors == concept_registry.names()


def test_the_estimators_default_to_their_registered_metrics() -> None:
    assert CBPE().metrics == estimation.ESTIMATOR_METRICS["cbpe"]
    assert DLE({"x": "numeric"}).metrics == estimation.ESTIMATOR_METRICS["dle"]


def test_loading_a_config_imports_no_numerical_or_database_library() -> None:
    heavy = ("scipy", "sklearn", "river", "numpy", "pandas", "pyarrow", "sqlalchemy", "requests")
    code = ("import sys, driftscope.config.schema, driftscope.config.references, driftscope.config.load; "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"
