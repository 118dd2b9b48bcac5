"""The name catalog that config validation reads agrees with the registries that implement the names,
and loading a config imports none of the heavy statistics libraries."""

import subprocess
import sys

from driftscope.monitors import catalog, detectors
from driftscope.monitors.estimation.cbpe import CBPE
from driftscope.monitors.estimation.dle import DLE
from driftscope.monitors.stattests.registry import names


def test_the_catalog_names_what_the_registries_implement() -> None:
    assert names() == catalog.STAT_TESTS
    assert set(detectors.FACTORIES) <= set(catalog.DETECTORS)
    assert set(catalog.DETECTORS) - set(detectors.FACTORIES) == {"label_drift", "calibration_drift",
                                                                 "domain_classifier"}
    assert CBPE().metrics == catalog.CBPE_METRICS
    assert DLE({"x": "numeric"}).metrics == catalog.DLE_METRICS


def test_loading_a_config_imports_no_scipy_sklearn_or_river() -> None:
    code = ("import sys, driftscope.config.schema, driftscope.config.references; "
            "print(sorted(m for m in ('scipy', 'sklearn', 'river') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"
