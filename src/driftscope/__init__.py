"""driftscope: model monitoring and drift detection.

``import driftscope`` is light: the Python API for serving code, :func:`log_predictions`,
:func:`log_ground_truth` and :func:`log_outcomes` (see ``docs/python-api.md``), is imported on first use.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from driftscope.api import log_ground_truth, log_outcomes, log_predictions

__version__ = "0.1.0"
__all__ = ["__version__", "log_ground_truth", "log_outcomes", "log_predictions"]


def __getattr__(name: str) -> Any:
    """``driftscope.log_predictions``, ``log_ground_truth`` and ``log_outcomes``, imported when first used."""
    if name in ("log_predictions", "log_ground_truth", "log_outcomes"):
        from driftscope import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
