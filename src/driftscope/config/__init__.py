"""Declarative configuration: ``driftscope.yaml`` validated with pydantic.

Load with :func:`load_config`; the models live in :mod:`driftscope.config.schema`.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from driftscope.config.load import load_config, parse_config
    from driftscope.config.schema import (
        ChannelConfig,
        Config,
        EmailChannel,
        ModelConfig,
        MonitorConfig,
        RuleConfig,
        SchemaConfig,
        SourceConfig,
        VersionConfig,
        WebhookChannel,
    )

__all__ = [
    "ChannelConfig",
    "Config",
    "EmailChannel",
    "ModelConfig",
    "MonitorConfig",
    "RuleConfig",
    "SchemaConfig",
    "SourceConfig",
    "VersionConfig",
    "WebhookChannel",
    "load_config",
    "parse_config",
]


def __getattr__(name: str) -> Any:
    """Import the pydantic models on first use, so ``driftscope.config.passwords`` and the CLI stay light."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = "driftscope.config.load" if name in ("load_config", "parse_config") else "driftscope.config.schema"
    return getattr(importlib.import_module(module), name)
