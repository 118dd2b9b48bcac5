"""driftscope: model monitoring and drift detection (application layer: config, CLI, scheduler, demo)."""

__version__ = "0.1.0"
