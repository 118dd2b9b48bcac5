"""Optional dependencies: import them where used, and say which ``pip install`` brings them.

The core install (``pip install driftscope``) holds what serving code, the store, the collectors and
the statistical monitors need. The dashboard, Evidently's report, the concept-drift detectors and
PostgreSQL's driver are extras; a feature that needs a missing one raises
:class:`~driftscope.errors.MissingExtraError` naming the command to run, never a bare ImportError.
"""

import importlib
from types import ModuleType

from driftscope.errors import MissingExtraError

#: extra -> what it is for, shown in the error message
EXTRAS: dict[str, str] = {
    "dashboard": "the Streamlit dashboard",
    "report": "Evidently's HTML drift report",
    "ml": "the concept-drift detectors (river) and the domain classifier (scikit-learn)",
    "postgres": "PostgreSQL stores (the psycopg driver)",
    "kafka": "kafka sources (the confluent-kafka client)",
    "metrics": "the Prometheus metrics endpoint (prometheus-client)",
    "demo": "the demo",
}


def require(module: str, extra: str) -> ModuleType:
    """Import ``module``; if it is not installed, raise an error naming ``pip install 'driftscope[extra]'``.

    Examples
    --------
    >>> require("json", "report").__name__
    'json'
    >>> require("no_such_module_xyz", "report")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    driftscope.errors.MissingExtraError: ... needs the 'report' extra ...: pip install 'driftscope[report]'
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or module.split(".")[0] != exc.name.split(".")[0]:
            raise
        raise MissingExtraError(
            f"{EXTRAS[extra]} needs the {extra!r} extra ({exc.name} is not installed): "
            f"pip install 'driftscope[{extra}]'"
        ) from exc
